import { describe, expect, it, vi } from 'vitest';
import { LimitEngine } from '../../src/domain/engine.js';
import type { EngineSnapshot } from '../../src/domain/engine.js';
import type { StateEvent } from '../../src/domain/events.js';
import { encodeRecord } from '../../src/store/journal-format.js';
import { JournalReplica } from '../../src/store/journal-replica.js';
import { OrderAcceptedReader } from '../../src/store/record-decoding.js';
import { encodeRecordPayload } from '../../src/store/record-encoding.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

const LIMITS = [
  { id: 'pos', kind: 'position', thresholds: { hard: 1_000 } },
  { id: 'rate', kind: 'order_rate', windowMs: 60_000, thresholds: { hard: 100 } },
  { id: 'dup', kind: 'duplicate_order', windowMs: 60_000, thresholds: { hard: 100 } },
];

/** A live engine's trading, and its journal as writes of a few records each. */
function trading() {
  const clock = new FakeClock();
  const live = new LimitEngine(testConfig(), clock, LIMITS);
  const events: StateEvent[] = [];
  live.recordEventsTo((event) => events.push(event));
  live.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 95 }], false);
  for (let i = 0; i < 40; i++) {
    clock.advance(10);
    live.checkOrder(order({ orderId: `o-${i}`, quantity: 10 + (i % 4), ...(i % 7 === 3 ? { venue: 'X"Y' } : {}) }));
  }
  live.applyExecutions([{ type: 'FILL', accountId: 'ACC-1', orderId: 'o-3', quantity: 5, price: 101 }]);
  live.setTradingState('account', 'ACC-9', 'HALTED', 'test');
  const records = events.map((event, i) => encodeRecord(encodeRecordPayload(i + 1, event)));
  const writes: Buffer[] = [];
  for (let i = 0; i < records.length; i += 5) writes.push(Buffer.concat(records.slice(i, i + 5)));
  return { live, clock, events, writes };
}

describe('JournalReplica', () => {
  it('applies the journal\'s writes to the state the live engine has, order_accepted records read from their bytes and the rest parsed', () => {
    const { live, events, writes } = trading();
    expect(events.some((e) => e.type === 'order_accepted' && e.order.venue === 'X"Y')).toBe(true);
    const read = vi.spyOn(OrderAcceptedReader.prototype, 'read');
    const replica = new JournalReplica(testConfig(), LIMITS);
    for (const bytes of writes) replica.apply(bytes);
    expect(replica.lastSeq).toBe(events.length);
    expect(replica.engine.captureState()).toEqual(live.captureState());
    // Every record is offered to the reader; the order_accepted ones of plain text are read by it.
    const plain = events.filter((e) => e.type === 'order_accepted' && e.order.venue !== 'X"Y').length;
    expect(read).toHaveBeenCalledTimes(events.length);
    expect(read.mock.results.filter((r) => r.value !== undefined)).toHaveLength(plain);
    expect(plain).toBeGreaterThan(30);
    read.mockRestore();
  });

  it('skips records it already holds (a write handed over again after recovery) and refuses a gap', () => {
    const { live, events, writes } = trading();
    const replica = new JournalReplica(testConfig(), LIMITS);
    replica.apply(writes[0]!);
    replica.apply(writes[0]!);
    for (const bytes of writes.slice(1)) replica.apply(bytes);
    expect(replica.engine.captureState()).toEqual(live.captureState());
    const gap = new JournalReplica(testConfig(), LIMITS);
    gap.apply(writes[0]!);
    expect(() => gap.apply(writes[2]!)).toThrow(`record 11 follows 5: records are missing`);
    expect(gap.lastSeq).toBe(5);
    expect(events.length).toBeGreaterThan(11);
  });

  it('keeps every window entry in a capture: after the wall clock stepped back, a restart refuses what the service refuses', () => {
    const limits = [{ id: 'rate', kind: 'order_rate', per: 'account', windowMs: 1_000, thresholds: { hard: 2 } }];
    const clock = new FakeClock();
    const start = clock.wall;
    const live = new LimitEngine(testConfig(), clock, limits);
    const events: StateEvent[] = [];
    live.recordEventsTo((event) => events.push(event));
    clock.wall = start + 5_000;
    expect(live.checkOrder(order({ orderId: 'x', accountId: 'ACC-2' })).decision).toBe('ACCEPT');
    // The clock steps back: the replica's newest record is now ahead of the service's time.
    clock.wall = start + 100;
    for (const orderId of ['a', 'b']) expect(live.checkOrder(order({ orderId })).decision).toBe('ACCEPT');
    const replica = new JournalReplica(testConfig(), limits);
    replica.apply(Buffer.concat(events.map((event, i) => encodeRecord(encodeRecordPayload(i + 1, event)))));
    const restored = new LimitEngine(testConfig(), clock, limits);
    restored.restoreState(JSON.parse(JSON.stringify(replica.engine.captureState())) as EngineSnapshot);
    expect(restored.checkOrder(order({ orderId: 'c' })).decision).toBe('REJECT');
    expect(live.checkOrder(order({ orderId: 'c' })).decision).toBe('REJECT');
  });
});
