import { describe, expect, it } from 'vitest';
import { CHECK_EXPIRY_BUDGET, LimitEngine, SWEEP_EXPIRY_BUDGET } from '../../src/domain/engine.js';
import { StateEventSchema } from '../../src/domain/events.js';
import type { StateEvent } from '../../src/domain/events.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

const TTL = testConfig().openOrderTtlMs;
const config = () => testConfig({ capacity: { ...testConfig().capacity, maxOpenOrders: 10_000 }, lateFillWindowMs: 1_000 });

function withIdleOrders(count: number) {
  const clock = new FakeClock();
  const engine = new LimitEngine(config(), clock, []);
  const events: StateEvent[] = [];
  engine.recordEventsTo((event) => events.push(StateEventSchema.parse(JSON.parse(JSON.stringify(event)))));
  for (let i = 0; i < count; i++) expect(engine.checkOrder(order({ orderId: `idle-${i}`, accountId: `ACC-${i % 50}` })).decision).toBe('ACCEPT');
  clock.advance(TTL);
  return { engine, clock, events };
}

describe('expiry a bounded amount at a time', () => {
  it('a check expires at most CHECK_EXPIRY_BUDGET idle orders; the rest stay open (reserved) until later calls', () => {
    const count = 3 * CHECK_EXPIRY_BUDGET + 5;
    const { engine } = withIdleOrders(count);
    engine.checkOrder(order({ orderId: 'fresh' }));
    // The fresh order is open too.
    expect(engine.ledger.openOrderCount).toBe(count - CHECK_EXPIRY_BUDGET + 1);
    expect(engine.expiredOrders).toBe(CHECK_EXPIRY_BUDGET);
  });

  it('the sweeper expires SWEEP_EXPIRY_BUDGET a sweep, says more is due, and finishes on later sweeps', () => {
    const count = SWEEP_EXPIRY_BUDGET + 10;
    const { engine } = withIdleOrders(count);
    expect(engine.sweep()).toBe(true);
    expect(engine.ledger.openOrderCount).toBe(10);
    expect(engine.sweep()).toBe(false);
    expect(engine.ledger.openOrderCount).toBe(0);
    expect(engine.ledger.closedOrderCount).toBe(count);
  });

  it('forgets closed orders a bounded amount at a time too', () => {
    const count = SWEEP_EXPIRY_BUDGET + 10;
    const { engine, clock } = withIdleOrders(count);
    while (engine.sweep());
    expect(engine.ledger.closedOrderCount).toBe(count);
    clock.advance(1_000);
    expect(engine.sweep()).toBe(true);
    expect(engine.ledger.closedOrderCount).toBe(10);
    expect(engine.sweep()).toBe(false);
    expect(engine.ledger.closedOrderCount).toBe(0);
  });

  it('journals how many each call expired and forgot, and replay takes exactly those', () => {
    const idle = CHECK_EXPIRY_BUDGET + SWEEP_EXPIRY_BUDGET + 36;
    const { engine, clock, events } = withIdleOrders(idle);
    engine.checkOrder(order({ orderId: 'fresh' }));
    engine.sweep();
    const expiries = events.filter((e) => e.type === 'expire');
    expect(expiries.map((e) => (e.type === 'expire' ? [e.expired, e.forgotten] : []))).toEqual([
      [CHECK_EXPIRY_BUDGET, 0],
      [SWEEP_EXPIRY_BUDGET, 0],
    ]);
    const replayed = new LimitEngine(config(), clock, []);
    for (const event of events) replayed.replay(event);
    // 36 idle orders still due and open, and the fresh one, on both.
    expect([replayed.ledger.openOrderCount, engine.ledger.openOrderCount]).toEqual([37, 37]);
    expect(replayed.captureState()).toEqual(engine.captureState());
  });

  it('journals how many closed orders each call forgot, and replay forgets exactly those (a late fill finds the rest)', () => {
    const count = SWEEP_EXPIRY_BUDGET + 10;
    const { engine, clock, events } = withIdleOrders(count);
    while (engine.sweep());
    clock.advance(1_000);
    engine.sweep();
    expect(events.filter((e) => e.type === 'expire').at(-1)).toMatchObject({ expired: 0, forgotten: SWEEP_EXPIRY_BUDGET });
    const replayed = new LimitEngine(config(), clock, []);
    for (const event of events) replayed.replay(event);
    expect([replayed.ledger.closedOrderCount, engine.ledger.closedOrderCount]).toEqual([10, 10]);
    expect(replayed.captureState()).toEqual(engine.captureState());
  });

  it('replays an expiry journalled without counts (an older journal) as all that was due', () => {
    const { engine, clock, events } = withIdleOrders(100);
    const replayed = new LimitEngine(config(), clock, []);
    for (const event of events) replayed.replay(event);
    replayed.replay({ type: 'expire', at: clock.now() });
    expect([replayed.ledger.openOrderCount, replayed.ledger.closedOrderCount]).toEqual([0, 100]);
    expect(engine.ledger.openOrderCount).toBe(100);
  });
});
