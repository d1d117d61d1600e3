import { afterEach, describe, expect, it, vi } from 'vitest';
import { RateWindow, RateWindows } from '../../src/http/plugins/rate-windows.js';

const WINDOW_MS = 1_000;

/** How many times a window is asked whether it has run out: the table's cost of making room. */
const looks = vi.spyOn(RateWindow.prototype, 'hasRunOut');
afterEach(() => looks.mockClear());

/** A full table whose windows started a millisecond apart, from 0, each counted once. */
function fullTable(capacity: number): RateWindows {
  const table = new RateWindows(WINDOW_MS, capacity);
  for (let i = 0; i < capacity; i++) table.take(`k${i}`, 1, i * (WINDOW_MS / capacity));
  return table;
}

describe('RateWindows', () => {
  it('looks at its oldest window only when it has no room to make, however many it keeps', () => {
    for (const capacity of [10, 1_000]) {
      const table = fullTable(capacity);
      looks.mockClear();
      for (let i = 0; i < 100; i++) expect(table.makeRoom(1, WINDOW_MS - 1)).toBe(WINDOW_MS);
      expect(looks).toHaveBeenCalledTimes(100);
      expect(table.size).toBe(capacity);
    }
  });

  it('forgets run-out windows oldest first, one look each, and none that still counts', () => {
    const table = fullTable(1_000); // k{i} started at i ms
    const now = WINDOW_MS + 500; // k0..k500 have run out
    looks.mockClear();
    let admitted = 0;
    // Bounded, so that a table that never stops making room fails the test rather than hanging it.
    while (admitted <= 1_000 && table.makeRoom(1, now) === undefined) table.take(`new${admitted++}`, 1, now);
    expect(admitted).toBe(501);
    expect(looks).toHaveBeenCalledTimes(502); // one per forgotten window, and the live one that stopped it
    expect(table.get('k500')).toBeUndefined();
    for (let i = 501; i < 1_000; i++) expect(table.get(`k${i}`)?.count).toBe(1);
    expect(table.size).toBe(1_000);
  });

  it('forgets a window the millisecond it runs out, and not one before', () => {
    const table = new RateWindows(WINDOW_MS, 1);
    table.take('A', 1, 0);
    expect(table.makeRoom(1, WINDOW_MS - 1)).toBe(WINDOW_MS);
    expect(table.get('A')).toBeDefined();
    expect(table.makeRoom(1, WINDOW_MS)).toBeUndefined();
    expect(table.get('A')).toBeUndefined();
  });

  it('moves a window that restarts behind the others, and leaves one counted while it counts in its place', () => {
    const table = new RateWindows(WINDOW_MS, 3);
    table.take('A', 1, 0);
    table.take('B', 1, 100);
    table.take('C', 1, 200);
    table.take('B', 1, 900); // still B's first window: B still runs out second
    table.take('A', 1, 1_050); // A's window had run out: a new one, running out last (2,050)
    expect(table.makeRoom(1, 1_050)).toBe(1_100);
    expect(table.makeRoom(1, 1_100)).toBeUndefined(); // B's
    expect(table.get('B')).toBeUndefined();
    table.take('D', 1, 1_100);
    expect(table.makeRoom(1, 1_200)).toBeUndefined(); // C's
    table.take('E', 1, 1_200);
    expect(table.makeRoom(1, 1_300)).toBe(2_050); // A's, then D's and E's
    expect([table.get('A')?.count, table.get('D')?.endsAt, table.get('E')?.endsAt]).toEqual([1, 2_100, 2_200]);
  });

  it('needs no room for a key it keeps, nor while it is not full', () => {
    const table = new RateWindows(WINDOW_MS, 2);
    table.take('A', 1, 0);
    looks.mockClear();
    expect(table.makeRoom(1, 0)).toBeUndefined();
    expect(looks).not.toHaveBeenCalled();
    expect(table.take('A', 2, 10)).toMatchObject({ count: 3, endsAt: WINDOW_MS });
  });
});
