import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pageByKey } from '../../src/domain/key-page.js';
import type { KeyPage } from '../../src/domain/key-page.js';

const identity = (key: string): string => key;

/** What a page is by definition: sort every key, keep those after the cursor, take pageSize. */
function expectedPage(keys: readonly string[], cursor: string | undefined, pageSize: number): KeyPage<string> {
  const after = keys.filter((key) => cursor === undefined || key > cursor).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const items = after.slice(0, pageSize);
  return { items, nextCursor: after.length > pageSize ? items[items.length - 1] : undefined };
}

/** Every page from the first, following nextCursor. */
function allPages(keys: readonly string[], pageSize: number): KeyPage<string>[] {
  const pages = [pageByKey(keys, identity, { pageSize })];
  while (pages[pages.length - 1]!.nextCursor !== undefined) pages.push(pageByKey(keys, identity, { cursor: pages[pages.length - 1]!.nextCursor, pageSize }));
  return pages;
}

const symbols = (n: number): string[] => Array.from({ length: n }, (_, i) => `S${String(i).padStart(5, '0')}`);

/** A deterministic shuffle (a fixed LCG), so a failure reproduces. */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  let seed = 12_345;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('pageByKey', () => {
  it('is the pageSize smallest keys after the cursor, in key order, for any keys, cursor, page size and input order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 6 }), { maxLength: 200 }),
        fc.option(fc.string({ maxLength: 6 }), { nil: undefined }),
        fc.integer({ min: 1, max: 70 }),
        (keys, cursor, pageSize) => {
          expect(pageByKey(keys, identity, { cursor, pageSize })).toEqual(expectedPage(keys, cursor, pageSize));
        },
      ),
      { numRuns: 500, seed: 7 },
    );
  });

  it('pages every key once: exactly pageSize a page, the cursor going on with no repeat or skip, no nextCursor on the last', () => {
    for (const [n, keys] of [0, 1, 9, 10, 11, 30, 95].flatMap((n) => [shuffled(symbols(n)), symbols(n), symbols(n).reverse()].map((keys) => [n, keys] as const))) {
      const pages = allPages(keys, 10);
      expect(pages.map((page) => page.items.length), `${n} keys`).toEqual(n === 0 ? [0] : [...Array.from({ length: Math.ceil(n / 10) - 1 }, () => 10), n % 10 || 10]);
      expect(pages.flatMap((page) => page.items)).toEqual(symbols(n));
      expect(pages.map((page) => page.nextCursor)).toEqual([...pages.slice(0, -1).map((page) => page.items[9]), undefined]);
    }
  });

  it('goes on after a cursor the table no longer holds, and shows a key added after the cursor but not one before it', () => {
    const keys = symbols(10);
    const first = pageByKey(keys, identity, { pageSize: 4 });
    expect(first).toEqual({ items: keys.slice(0, 4), nextCursor: 'S00003' });
    const changed = [...keys.filter((key) => key !== 'S00003' && key !== 'S00004'), 'S00001x', 'S00003x'];
    expect(pageByKey(changed, identity, { cursor: first.nextCursor, pageSize: 4 })).toEqual({ items: ['S00003x', 'S00005', 'S00006', 'S00007'], nextCursor: 'S00007' });
  });

  it('keeps the items with their keys', () => {
    const items = shuffled(symbols(50)).map((symbol) => ({ symbol }));
    const page = pageByKey(items, (item) => item.symbol, { cursor: 'S00010', pageSize: 3 });
    expect(page.items.map((item) => item.symbol)).toEqual(['S00011', 'S00012', 'S00013']);
    expect(items).toContain(page.items[0]);
  });

  describe('compares O(n) keys, not the O(n log n) of sorting them all', () => {
    /** Keys that count how often they are read: each `<` between two reads both, against the cursor one. */
    function counted(keys: readonly string[]): { keys: string[]; reads: () => number } {
      let reads = 0;
      const wrapped = keys.map((key) => ({
        [Symbol.toPrimitive]: () => {
          reads++;
          return key;
        },
      }));
      return { keys: wrapped as unknown as string[], reads: () => reads };
    }
    const n = 4_096;

    it('about one comparison a key in shuffled order (sorting all 4,096 reads each key ~30 times)', () => {
      const { keys, reads } = counted(shuffled(symbols(n)));
      const page = pageByKey(keys, identity, { pageSize: 8 });
      expect(page.items.map(String)).toEqual(symbols(8));
      expect(reads()).toBeLessThan(3 * n);
    });

    it('a few comparisons a key in descending order, each key smaller than all kept (a bounded heap would pay 2 log2(pageSize) = 16)', () => {
      const { keys, reads } = counted(symbols(n).reverse());
      const page = pageByKey(keys, identity, { cursor: 'S00099', pageSize: 256 });
      expect(page.items.map(String)).toEqual(symbols(356).slice(100));
      expect(reads()).toBeLessThan(2 * 10 * n);
    });
  });
});
