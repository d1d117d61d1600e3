import { describe, expect, it } from 'vitest';
import { LimitEngine } from '../../src/domain/engine.js';
import type { StateEvent } from '../../src/domain/events.js';
import type { WindowRing } from '../../src/domain/window-store.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

const LIMITS = [
  { id: 'rate', kind: 'order_rate', windowMs: 1_000, thresholds: { hard: 50_000 } },
  { id: 'dup', kind: 'duplicate_order', windowMs: 1_000, thresholds: { hard: 50_000 } },
];

/** One account's orders, one a millisecond for `count` ms, all of one signature (one duplicate_order ring too). */
function busyKey(count: number) {
  const clock = new FakeClock();
  const config = testConfig({ capacity: { ...testConfig().capacity, maxOpenOrders: 2 * count, maxWindowEntries: 100_000 } });
  const live = new LimitEngine(config, clock, LIMITS);
  const events: StateEvent[] = [];
  live.recordEventsTo((event) => events.push(event));
  for (let i = 0; i < count; i++) {
    clock.advance(1);
    expect(live.checkOrder(order({ orderId: `o-${i}` })).decision).toBe('ACCEPT');
  }
  const replica = new LimitEngine(config, clock, LIMITS);
  for (const event of events) replica.replay(event);
  const ring = (engine: LimitEngine, id: string) => engine.book.byId.get(id)!.windows.find(order())!;
  return { live, replica, ring };
}

describe('replay of accepted orders', () => {
  it('trims each window to its length as the accepting check did: a busy key holds its last second, not every order', () => {
    const { live, replica, ring } = busyKey(5_000);
    for (const id of ['rate', 'dup']) {
      // The window is (now − 1,000, now]: the last 1,000 orders, live and replayed alike.
      expect(ring(live, id).size).toBe(1_000);
      expect(ring(replica, id).size).toBe(1_000);
      expect((ring(replica, id) as WindowRing & { capacity: number }).capacity).toBeLessThanOrEqual(2_048);
      expect(ring(replica, id).toArray()).toEqual(ring(live, id).toArray());
    }
    expect(replica.captureState()).toEqual(live.captureState());
  });

  it('counts in a rejected check without trimming, so a wall clock stepping back finds live and replayed windows alike', () => {
    const limits = [
      { id: 'q', kind: 'order_quantity', thresholds: { hard: 1_000 } },
      { id: 'rate', kind: 'order_rate', per: 'account', windowMs: 1_000, thresholds: { hard: 2 } },
    ];
    const clock = new FakeClock();
    const start = clock.wall;
    const live = new LimitEngine(testConfig(), clock, limits);
    const events: StateEvent[] = [];
    live.recordEventsTo((event) => events.push(event));
    expect(live.checkOrder(order({ orderId: 'a' })).decision).toBe('ACCEPT');
    // Rejected (too large) after `a` left the window: it counts the window, and nothing is journalled.
    clock.wall = start + 1_200;
    expect(live.checkOrder(order({ orderId: 'big', quantity: 5_000 })).decision).toBe('REJECT');
    // The wall clock steps back: `a` is inside the window again, live as replayed.
    clock.wall = start + 500;
    expect(live.checkOrder(order({ orderId: 'b' })).decision).toBe('ACCEPT');
    const replica = new LimitEngine(testConfig(), clock, limits);
    for (const event of events) replica.replay(event);
    expect(replica.captureState().windows).toEqual(live.captureState().windows);
    clock.wall = start + 501;
    expect(replica.checkOrder(order({ orderId: 'c' })).decision).toBe('REJECT');
    expect(live.checkOrder(order({ orderId: 'c' })).decision).toBe('REJECT');
  });

  it('trims a window an aborted batch takes its entry back from, so a key left with only aged-out entries holds none', () => {
    const clock = new FakeClock();
    const engine = new LimitEngine(testConfig(), clock, [{ id: 'rate', kind: 'order_rate', per: 'account', windowMs: 1_000, thresholds: { hard: 100 } }]);
    const run = engine.beginBatch([order({ orderId: 'b1', accountId: 'NEW' }), order({ orderId: 'b2', accountId: 'NEW' })], { atomic: true });
    expect(engine.advanceBatch(run, 1)).toBe(false);
    clock.advance(10);
    expect(engine.checkOrder(order({ orderId: 'single', accountId: 'NEW' })).decision).toBe('ACCEPT');
    clock.advance(1_500);
    engine.abortBatch(run, 'DEADLINE_EXCEEDED');
    // The batch made the key; taking its entry back trims the window first, which leaves it empty, so the key goes.
    expect(engine.captureState().windows.rate ?? []).toEqual([]);
  });
});
