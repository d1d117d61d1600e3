import { afterEach, describe, expect, it, vi } from 'vitest';
import { CheckRateLimit } from '../../src/http/plugins/rate-limit.js';
import { RateWindow } from '../../src/http/plugins/rate-windows.js';
import { batch, limitConfig, single } from './limiter-exchange.js';

const WINDOW_MS = 10_000;

/** A per-strategy limit of 2 per 10 s keeping `cacheSize` strategies, on a clock the test moves. */
function limitOn(cacheSize: number) {
  const clock = { now: 0 };
  const limit = CheckRateLimit.perStrategy(limitConfig(2, WINDOW_MS, cacheSize), () => undefined, () => clock.now)!;
  return { limit, clock };
}

const tableSize = (limit: CheckRateLimit) => (limit as unknown as { windows: { size: number } }).windows.size;

describe('the per-strategy table at its bounds', () => {
  it('keeps exactly cacheSize strategies; the next new one is refused until the oldest window runs out', () => {
    const { limit, clock } = limitOn(3);
    for (const strategy of ['A', 'B', 'C']) {
      expect(single(limit, strategy).ok).toBe(true);
      clock.now += 1_000;
    }
    clock.now = 2_500;
    const refused = single(limit, 'D');
    expect(refused).toMatchObject({ ok: false, headers: { 'retry-after': 8 } }); // A's window runs out at 10 s
    expect(refused.detail).toMatch(/at most 3 keys \(rateLimit\.cacheSize\), all counting now; retry in 8 seconds/);
    // The kept strategies are counted as before.
    expect(single(limit, 'A').ok).toBe(true);
    expect(single(limit, 'A').ok).toBe(false);
    expect(tableSize(limit)).toBe(3);
  });

  it('admits a new strategy the millisecond the oldest window runs out, in its place, and no sooner', () => {
    const { limit, clock } = limitOn(3);
    for (const strategy of ['A', 'B', 'B', 'C']) {
      expect(single(limit, strategy).ok).toBe(true);
      clock.now += 1_000;
    }
    clock.now = WINDOW_MS - 1;
    expect(single(limit, 'D')).toMatchObject({ ok: false, headers: { 'retry-after': 1 } });
    clock.now = WINDOW_MS;
    expect(single(limit, 'D')).toMatchObject({ ok: true, headers: { 'x-ratelimit-remaining': 1, 'x-ratelimit-reset': 10 } });
    // Only A's window had run out: B's and C's still count, and B is still over its limit.
    expect(single(limit, 'E')).toMatchObject({ ok: false, headers: { 'retry-after': 1 } }); // B's runs out at 11 s
    expect(single(limit, 'B').ok).toBe(false);
    expect(single(limit, 'C').ok).toBe(true);
    expect(single(limit, 'C').ok).toBe(false);
    expect(tableSize(limit)).toBe(3);
  });

  it('orders the table by when windows run out, not by when they were last counted', () => {
    const { limit, clock } = limitOn(2);
    expect(single(limit, 'A').ok).toBe(true);
    clock.now = 5_000;
    expect(single(limit, 'B').ok).toBe(true);
    expect(single(limit, 'B').ok).toBe(true);
    clock.now = 6_000;
    expect(single(limit, 'A').ok).toBe(true); // counted last, but its window still runs out first
    clock.now = 7_000;
    expect(single(limit, 'C')).toMatchObject({ ok: false, headers: { 'retry-after': 3 } });
    clock.now = WINDOW_MS;
    expect(single(limit, 'C').ok).toBe(true); // takes A's place
    expect(single(limit, 'B').ok).toBe(false); // B's window was kept, over its limit
    expect(single(limit, 'A')).toMatchObject({ ok: false, headers: { 'retry-after': 5 } }); // A is new again; B's runs out at 15 s
  });

  it('admits a batch of new strategies when exactly enough windows have run out, and takes nothing when one short', () => {
    const { limit, clock } = limitOn(3);
    for (const strategy of ['A', 'B', 'C']) {
      expect(single(limit, strategy).ok).toBe(true);
      clock.now += 1_000;
    }
    clock.now = WINDOW_MS; // A's window has run out, B's runs out at 11 s
    const refused = batch(limit, 'D', 'E');
    expect(refused).toMatchObject({ ok: false, headers: { 'retry-after': 1 } });
    expect(refused.detail).toMatch(/rateLimit\.cacheSize/);
    clock.now = WINDOW_MS + 1_000; // and now B's
    expect(batch(limit, 'D', 'E', 'E').ok).toBe(true);
    // C kept its window and its count; the refused batch took nothing from D or E.
    expect(single(limit, 'C').ok).toBe(true);
    expect(single(limit, 'C').ok).toBe(false);
    expect(single(limit, 'D').ok).toBe(true);
    expect(single(limit, 'E').ok).toBe(false);
    expect(tableSize(limit)).toBe(3);
  });

  it("does not count a batch's own run-out window as room for its other new strategies", () => {
    const { limit, clock } = limitOn(2);
    expect(single(limit, 'A').ok).toBe(true);
    clock.now = 5_000;
    expect(single(limit, 'B').ok).toBe(true);
    clock.now = WINDOW_MS; // A's window has run out; B's still counts
    expect(batch(limit, 'A', 'C')).toMatchObject({ ok: false, headers: { 'retry-after': 5 } });
    expect(batch(limit, 'A', 'A').ok).toBe(true); // A alone restarts in its own row
    expect(single(limit, 'A').ok).toBe(false);
    clock.now = 15_000;
    expect(batch(limit, 'B', 'C').ok).toBe(false); // A's new window counts until 20 s
    expect(batch(limit, 'B', 'B').ok).toBe(true);
    expect(tableSize(limit)).toBe(2);
  });
});

describe('strategies tallied from batch to batch', () => {
  const tallied = (limit: CheckRateLimit) => (limit as unknown as { tallies: Map<string, unknown> }).tallies.size;

  it('counts a strategy named by one batch after another afresh in each', () => {
    const { limit } = limitOn(3);
    expect(batch(limit, 'A').ok).toBe(true);
    // One counted, two more would make three: refused, and nothing taken.
    expect(batch(limit, 'A', 'B', 'A').ok).toBe(false);
    expect(batch(limit, 'B', 'A').ok).toBe(true);
    expect(single(limit, 'A').ok).toBe(false);
    expect(single(limit, 'B').ok).toBe(true);
  });

  it('keeps at most cacheSize strategies and one batch\'s new ones', () => {
    const { limit, clock } = limitOn(3);
    let most = 0;
    for (let i = 0; i < 20; i++) {
      expect(batch(limit, `S-${i}-a`, `S-${i}-b`).ok).toBe(true);
      most = Math.max(most, tallied(limit));
      clock.now += WINDOW_MS;
    }
    // Emptied at the start of a batch that finds more than 3: at most 3 and a batch's 2 new ones.
    expect(most).toBe(4);
  });
});

describe('a flood of new strategies while every kept window counts', () => {
  const looks = vi.spyOn(RateWindow.prototype, 'hasRunOut');
  afterEach(() => looks.mockClear());

  it('costs each refused request one look at the table, however many strategies it keeps', () => {
    for (const cacheSize of [10, 2_000]) {
      const { limit, clock } = limitOn(cacheSize);
      for (let i = 0; i < cacheSize; i++) expect(single(limit, `kept-${i}`).ok).toBe(true);
      clock.now = WINDOW_MS - 1;
      looks.mockClear();
      for (let i = 0; i < 50; i++) {
        expect(single(limit, `flood-${i}`)).toMatchObject({ ok: false, headers: { 'retry-after': 1 } });
        expect(batch(limit, `flood-batch-${i}`, `flood-batch-${i}`).ok).toBe(false);
      }
      expect(looks).toHaveBeenCalledTimes(100);
      expect(tableSize(limit)).toBe(cacheSize);
    }
  });
});
