import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { home, IntKeyTable } from '../../src/domain/int-key-table.js';

type Op = { type: 'set'; key: number; value: number } | { type: 'delete'; key: number } | { type: 'clear' };

/** Few distinct keys, and keys alike in their low or high bits: long probe runs and wrap-arounds. */
const keyArb = fc.oneof(fc.nat(300), fc.nat(40).map((n) => n << 24), fc.nat(40).map((n) => (n << 10) | 7), fc.constant(2 ** 31 - 2));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ type: fc.constant('set' as const), key: keyArb, value: fc.integer() }) },
  { weight: 25, arbitrary: fc.record({ type: fc.constant('delete' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.constant({ type: 'clear' as const }) },
);

describe('IntKeyTable', () => {
  it('answers as a Map does through any sequence of sets, deletes and clears, growing and shrinking', () => {
    const largest: number[] = [];
    fc.assert(
      // Long enough sequences to grow the table several times and shrink it back (checked below).
      fc.property(fc.array(opArb, { minLength: 100, maxLength: 600 }), (ops) => {
        const table = new IntKeyTable<number>();
        let capacity = table.capacity;
        const plain = new Map<number, number>();
        const seen = new Set<number>();
        for (const op of ops) {
          if (op.type === 'set') {
            table.set(op.key, op.value);
            plain.set(op.key, op.value);
            seen.add(op.key);
          } else if (op.type === 'delete') {
            expect(table.delete(op.key)).toBe(plain.delete(op.key));
          } else {
            table.clear();
            plain.clear();
          }
          expect(table.size).toBe(plain.size);
          for (const key of seen) expect(table.get(key)).toBe(plain.get(key));
          capacity = Math.max(capacity, table.capacity);
        }
        largest.push(capacity);
      }),
    );
    // Most sequences outgrew the first 16 slots: resizing was tried with values in the table.
    expect(largest.filter((c) => c > 16).length).toBeGreaterThan(largest.length / 2);
  });

  it('finds nothing under a key it cannot hold, and deleting one changes nothing', () => {
    const table = new IntKeyTable<number>();
    table.set(5, 1);
    table.set(6, 2);
    for (const key of [-1, -2, 1.5, Number.NaN]) {
      expect(table.get(key)).toBeUndefined();
      expect(table.delete(key)).toBe(false);
    }
    expect([table.size, table.get(5), table.get(6)]).toEqual([2, 1, 2]);
  });

  it('keeps every key reachable when a delete shifts a run that wraps past the last slot', () => {
    const table = new IntKeyTable<string>();
    // Seven keys (below half of the 16 slots) whose probes start at the last two slots: their run wraps to the front.
    const keys: number[] = [];
    for (let key = 0; keys.length < 7; key++) if (home(key, 15) >= 14) keys.push(key);
    for (const key of keys) table.set(key, `v${key}`);
    for (const gone of keys) {
      table.delete(gone);
      for (const key of keys) expect(table.get(key)).toBe(keys.indexOf(key) <= keys.indexOf(gone) ? undefined : `v${key}`);
    }
    expect(table.size).toBe(0);
  });

  it('grows past half full, shrinks below an eighth, and churn at a steady size keeps its capacity', () => {
    const table = new IntKeyTable<number>();
    expect(table.capacity).toBe(16);
    for (let key = 0; key < 8; key++) table.set(key, key);
    expect(table.capacity).toBe(16);
    table.set(8, 8);
    expect(table.capacity).toBe(32);
    for (let key = 100; key < 1_000; key++) table.set(key, key);
    const grown = table.capacity;
    expect(grown).toBe(2_048);
    // A window's worth of keys, one in and one out, many times over: no rebuild.
    for (let key = 1_000; key < 50_000; key++) {
      table.set(key, key);
      table.delete(key - 900);
    }
    expect(table.capacity).toBe(grown);
    expect(table.size).toBe(909);
    for (let key = 49_100; key < 50_000; key++) expect(table.get(key)).toBe(key);
    for (let key = 49_100; key < 49_900; key++) table.delete(key);
    expect(table.size).toBe(109);
    expect(table.capacity).toBeLessThanOrEqual(grown / 4);
    expect(table.capacity).toBeGreaterThanOrEqual(16);
  });

  it('refuses a key outside [0, 2^31 - 1) or not an integer, and changes nothing', () => {
    const table = new IntKeyTable<number>();
    table.set(5, 1);
    for (const key of [-1, 1.5, 2 ** 31 - 1, Number.NaN]) expect(() => table.set(key, 2)).toThrow(RangeError);
    expect([table.size, table.get(5)]).toEqual([1, 1]);
  });
});
