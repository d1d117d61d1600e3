import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { home } from '../../src/domain/int-key-table.js';
import { ExposureTable } from '../../src/domain/exposure-table.js';

interface Market {
  readonly id: number;
}
interface Entry {
  readonly market: Market;
  readonly n: number;
}

type Op = { type: 'add'; market: number } | { type: 'delete'; market: number; stale: boolean } | { type: 'clear' };

/** Few markets, some with ids alike in their low or high bits: long probe runs and wrap-arounds. */
const MARKET_IDS = [...Array.from({ length: 60 }, (_, i) => i), ...Array.from({ length: 20 }, (_, i) => i << 20), ...Array.from({ length: 20 }, (_, i) => (i << 8) | 3)];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ type: fc.constant('add' as const), market: fc.nat(MARKET_IDS.length - 1) }) },
  { weight: 25, arbitrary: fc.record({ type: fc.constant('delete' as const), market: fc.nat(MARKET_IDS.length - 1), stale: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ type: 'clear' as const }) },
);

describe('ExposureTable', () => {
  it('answers as a Map by market does through any sequence of adds, deletes and clears, growing and shrinking', () => {
    let largest = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 100, maxLength: 600 }), (ops) => {
        const markets = MARKET_IDS.map((id) => ({ id }));
        const table = new ExposureTable<Entry>();
        const plain = new Map<Market, Entry>();
        let n = 0;
        for (const op of ops) {
          if (op.type === 'add') {
            const market = markets[op.market]!;
            if (plain.has(market)) continue;
            const entry = { market, n: n++ };
            table.add(entry);
            plain.set(market, entry);
          } else if (op.type === 'delete') {
            const market = markets[op.market]!;
            // A stale exposure of the same market (one its group dropped) is not the one held: nothing goes.
            const entry = op.stale ? { market, n: -1 } : (plain.get(market) ?? { market, n: -1 });
            expect(table.delete(entry)).toBe(plain.get(market) === entry && plain.delete(market));
          } else {
            table.clear();
            plain.clear();
          }
          expect(table.size).toBe(plain.size);
          for (const market of markets) expect(table.get(market)).toBe(plain.get(market));
          expect(table.size * 2).toBeLessThanOrEqual(table.capacity);
          largest = Math.max(largest, table.capacity);
        }
        expect(new Set(table.values())).toEqual(new Set(plain.values()));
      }),
      { numRuns: 200 },
    );
    // The sequences did grow the table past its first sizes.
    expect(largest).toBeGreaterThanOrEqual(64);
  });

  it('shrinks back once an eighth full, and finds what is left', () => {
    const markets = Array.from({ length: 200 }, (_, id) => ({ id }));
    const table = new ExposureTable<Entry>();
    for (const market of markets) table.add({ market, n: market.id });
    expect(table.capacity).toBe(512);
    for (const market of markets.slice(10)) expect(table.delete(table.get(market)!)).toBe(true);
    expect(table.capacity).toBeLessThanOrEqual(64);
    for (const market of markets) expect(table.get(market)?.n).toBe(market.id < 10 ? market.id : undefined);
  });

  it('keeps a market reachable when the hole a delete leaves wraps past the last slot', () => {
    const table = new ExposureTable<Entry>();
    const mask = table.capacity - 1;
    // Three markets whose probes start in the last slot: they fill it and wrap to 0 and 1.
    const ids: number[] = [];
    for (let id = 0; ids.length < 3; id++) if (home(id, mask) === mask) ids.push(id);
    const entries = ids.map((id) => ({ market: { id }, n: id }));
    for (const entry of entries) table.add(entry);
    expect(table.delete(entries[0]!)).toBe(true);
    expect([table.get(entries[1]!.market), table.get(entries[2]!.market), table.get(entries[0]!.market)]).toEqual([entries[1], entries[2], undefined]);
  });
});
