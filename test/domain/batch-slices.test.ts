import { describe, expect, it } from 'vitest';
import type { BatchRun, LimitEngine } from '../../src/domain/engine.js';
import { makeEngine, order } from '../support/engine-fixtures.js';
import { firmExposure } from '../support/engine-actions.js';

const LIMITS = [
  { id: 'pos', kind: 'position', thresholds: { hard: 1_000 } },
  { id: 'rate', kind: 'order_rate', per: 'strategy', windowMs: 60_000, thresholds: { hard: 1_000 } },
];

/**
 * An atomic batch that reserves a-1 in its first slice and fails on a-2 in its second;
 * `between` runs between the slices, then another order is accepted in the same millisecond.
 */
function failAfter(between: (engine: LimitEngine) => void): { engine: LimitEngine; run: BatchRun } {
  const { engine } = makeEngine(LIMITS);
  const run = engine.beginBatch([order({ orderId: 'a-1', quantity: 100 }), order({ orderId: 'a-2', quantity: 5_000 })], { atomic: true });
  engine.advanceBatch(run, 1);
  between(engine);
  expect(engine.checkOrder(order({ orderId: 'other', quantity: 100 })).decision).toBe('ACCEPT');
  return { engine, run };
}

function deleteAndAddAgain(engine: LimitEngine): void {
  engine.deleteLimit('rate');
  engine.upsertLimit(LIMITS[1]);
}

/** The timestamps in the rate window of the orders above (one key: their strategy). */
const rateEntries = (engine: LimitEngine): number[] => engine.book.byId.get('rate')!.windows.find(order({ quantity: 100 }))?.toArray() ?? [];

describe('batches in slices', () => {
  it('gives the same results in slices as in one call', () => {
    const orders = Array.from({ length: 12 }, (_, i) => order({ orderId: `s-${i}`, quantity: 100 }));
    const whole = makeEngine(LIMITS).engine.checkBatch(orders);
    const { engine } = makeEngine(LIMITS);
    const run = engine.beginBatch(orders);
    const steps: boolean[] = [];
    for (let done = false; !done; ) {
      done = engine.advanceBatch(run, 5);
      steps.push(done);
    }
    expect(steps).toEqual([false, false, true]);
    expect(run.result).toEqual(whole);
    expect(run.result.summary).toEqual({ total: 12, accepted: 10, rejected: 2 });
  });

  it('lets other orders in between slices see the batch so far', () => {
    const { engine } = makeEngine(LIMITS);
    const run = engine.beginBatch(Array.from({ length: 8 }, (_, i) => order({ orderId: `b-${i}`, quantity: 100 })));
    engine.advanceBatch(run, 5);
    // 500 reserved by the batch so far: 600 more breaches the 1,000 position limit.
    expect(engine.checkOrder(order({ orderId: 'other-1', quantity: 600 })).decision).toBe('REJECT');
    expect(engine.checkOrder(order({ orderId: 'other-2', quantity: 500 })).decision).toBe('ACCEPT');
  });

  it('rolls back only its own reservations and window entries when an atomic batch fails after a slice', () => {
    const { engine, clock } = makeEngine(LIMITS);
    const run = engine.beginBatch(
      [order({ orderId: 'a-1', quantity: 300 }), order({ orderId: 'a-2', quantity: 300 }), order({ orderId: 'a-3', quantity: 900 })],
      { atomic: true },
    );
    engine.advanceBatch(run, 2);
    clock.advance(5);
    expect(engine.checkOrder(order({ orderId: 'other', quantity: 100 })).decision).toBe('ACCEPT');
    expect(engine.advanceBatch(run, 2)).toBe(true);
    expect(run.result.results.map((r) => r.reasons)).toEqual([['BATCH_REJECTED'], ['BATCH_REJECTED'], ['LIMIT_BREACH']]);
    const exposure = engine.exposure('ACC-1').positions[0];
    expect(exposure).toMatchObject({ openBuyQuantity: 100, openOrders: 1 });
    const windows = [...engine.book.byId.get('rate')!.windows.entries()];
    expect(windows.map(([, ring]) => ring.toArray())).toEqual([[clock.wall]]);
  });

  it('takes nothing back from a window store its limit was given anew between slices (another length): those entries are other orders\'', () => {
    const { engine, run } = failAfter((e) => e.upsertLimit({ ...LIMITS[1], windowMs: 30_000 }));
    engine.advanceBatch(run, 1);
    expect(run.result.summary.accepted).toBe(0);
    expect(rateEntries(engine)).toHaveLength(1);
  });

  it('takes nothing back from a store its limit got when deleted and added again alike between slices: those entries are other orders\'', () => {
    // Same id, kind, key and length as the store a-1 counted in, and the same millisecond.
    const { engine, run } = failAfter(deleteAndAddAgain);
    engine.advanceBatch(run, 1);
    expect(run.result.summary.accepted).toBe(0);
    expect(rateEntries(engine)).toHaveLength(1);
  });

  it('and not after a restart either: a snapshot taken then no longer names that window for the batch', () => {
    const { engine } = failAfter(deleteAndAddAgain);
    const restarted = makeEngine(LIMITS).engine;
    restarted.restoreState(JSON.parse(JSON.stringify(engine.captureState())) as ReturnType<typeof engine.captureState>);
    restarted.abandonOpenBatches();
    expect(restarted.exposure('ACC-1').positions[0]).toMatchObject({ openBuyQuantity: 100, openOrders: 1 });
    expect(rateEntries(restarted)).toHaveLength(1);
  });

  it('restores an earlier build\'s snapshot without tying a window it names with another shape to the limit\'s store', () => {
    const { engine } = makeEngine(LIMITS);
    const run = engine.beginBatch([order({ orderId: 'a-1', quantity: 100 }), order({ orderId: 'a-2', quantity: 5_000 })], { atomic: true });
    engine.advanceBatch(run, 1);
    const snapshot = JSON.parse(JSON.stringify(engine.captureState())) as ReturnType<typeof engine.captureState>;
    // As a build that wrote shapes put it, had the rate limit been counted with a 30 s window then.
    const counted = snapshot.openBatches![0]!.orders[0]!.windows;
    expect(counted).toEqual([{ limitId: 'rate', isNew: true }]);
    counted[0] = { ...counted[0]!, kind: 'order_rate', per: 'strategy', windowMs: 30_000 };
    const restarted = makeEngine(LIMITS).engine;
    restarted.restoreState(snapshot);
    expect(restarted.checkOrder(order({ orderId: 'other', quantity: 100 })).decision).toBe('ACCEPT');
    restarted.abandonOpenBatches();
    // Not that store's, as far as the snapshot tells: nothing is taken from it (more counted, never less).
    expect(rateEntries(restarted)).toHaveLength(2);
  });

  it('takes nothing back from windows a session reset emptied between slices: what they hold now is other orders\'', () => {
    const { engine, run } = failAfter((e) => e.resetSession());
    engine.advanceBatch(run, 1);
    expect(run.result.summary.accepted).toBe(0);
    expect(rateEntries(engine)).toHaveLength(1);
  });

  it('still takes back its entries from a store its limit kept between slices (thresholds changed)', () => {
    const { engine } = makeEngine(LIMITS);
    const run = engine.beginBatch([order({ orderId: 'a-1', quantity: 100 }), order({ orderId: 'a-2', quantity: 5_000 })], { atomic: true });
    engine.advanceBatch(run, 1);
    engine.upsertLimit({ ...LIMITS[1], thresholds: { hard: 2_000 } });
    engine.advanceBatch(run, 1);
    expect(run.result.summary.accepted).toBe(0);
    expect(engine.book.byId.get('rate')!.windows.find(order({ quantity: 100 }))).toBeUndefined();
  });

  it('aborts a batch between slices: the rest rejected with the reason, an atomic one fully taken back', () => {
    const { engine } = makeEngine(LIMITS);
    const run = engine.beginBatch(Array.from({ length: 6 }, (_, i) => order({ orderId: `x-${i}`, quantity: 10 })), { atomic: true });
    engine.advanceBatch(run, 4);
    engine.abortBatch(run, 'DEPENDENCY_UNAVAILABLE');
    expect(run.result.results.map((r) => r.reasons[0])).toEqual([
      'BATCH_REJECTED',
      'BATCH_REJECTED',
      'BATCH_REJECTED',
      'BATCH_REJECTED',
      'DEPENDENCY_UNAVAILABLE',
      'DEPENDENCY_UNAVAILABLE',
    ]);
    expect(run.result.summary.accepted).toBe(0);
    expect(engine.ledger.openOrderCount).toBe(0);
  });
});

describe('order tracking for self_trade', () => {
  it('sees orders that were open before a firm-wide self_trade limit was added', () => {
    const { engine } = makeEngine([{ id: 'pos', kind: 'position', thresholds: { hard: 1_000 } }]);
    expect(engine.checkOrder(order({ orderId: 'sell-1', accountId: 'ACC-A', side: 'SELL', quantity: 10, price: 100 })).decision).toBe('ACCEPT');
    engine.upsertLimit({ id: 'no-cross', kind: 'self_trade', per: 'symbol', thresholds: { hard: 0 } });
    const buy = engine.checkOrder(order({ orderId: 'buy-1', accountId: 'ACC-B', side: 'BUY', quantity: 10, price: 101 }));
    expect(buy.reasons).toEqual(['LIMIT_BREACH']);
    engine.deleteLimit('no-cross');
    // Without a self_trade limit the firm level links no new order; those linked leave as they close.
    const firmAapl = () => firmExposure(engine, 'AAPL')!;
    expect(engine.checkOrder(order({ orderId: 'buy-2', accountId: 'ACC-B', side: 'BUY', quantity: 10, price: 101 })).decision).toBe('ACCEPT');
    expect(firmAapl().hasOrders).toBe(true);
    engine.applyExecutions([{ type: 'CANCEL', accountId: 'ACC-A', orderId: 'sell-1' }]);
    expect(firmAapl().hasOrders).toBe(false);
    // Added again, it links the orders open meanwhile.
    engine.upsertLimit({ id: 'no-cross', kind: 'self_trade', per: 'symbol', thresholds: { hard: 0 } });
    const sell = engine.checkOrder(order({ orderId: 'sell-2', accountId: 'ACC-C', side: 'SELL', quantity: 10, price: 100 }));
    expect(sell.reasons).toEqual(['LIMIT_BREACH']);
  });

  it('does not count an order twice when it is cancelled and then taken back by its atomic batch', () => {
    const { engine } = makeEngine(LIMITS);
    const run = engine.beginBatch([order({ orderId: 'c-1', quantity: 10 }), order({ orderId: 'c-2', quantity: 5_000 })], { atomic: true });
    engine.advanceBatch(run, 1);
    engine.applyExecutions([{ type: 'CANCEL', accountId: 'ACC-1', orderId: 'c-1' }]);
    engine.advanceBatch(run, 1);
    expect(run.result.summary.accepted).toBe(0);
    const account = engine.ledger.accounts.get('ACC-1');
    expect(account?.openCount ?? 0).toBe(0);
    expect(engine.ledger.firm.openCount).toBe(0);
  });
});
