import { describe, expect, it } from 'vitest';
import type { EngineCapacity, LimitEngine } from '../../src/domain/engine.js';
import type { Order } from '../../src/domain/orders.js';
import { makeEngine, order, testConfig } from '../support/engine-fixtures.js';
import { accepted, accountExposure, cancel, fill, setReference } from '../support/engine-actions.js';

const qty = { id: 'qty', kind: 'order_quantity', thresholds: { warn: 10, hard: 100 } };

function withCapacity(limits: unknown[], capacity: Partial<EngineCapacity>) {
  return makeEngine(limits, { capacity: { ...testConfig().capacity, ...capacity } });
}

describe('check decisions', () => {
  it('answers a clean order with ACCEPT, no reasons and the count of limits evaluated', () => {
    const { engine } = makeEngine([qty, { id: 'pos', kind: 'position', thresholds: { hard: 1_000 } }]);
    const o = order({ quantity: 10 });
    expect(engine.checkOrder(o)).toEqual({ orderId: o.orderId, decision: 'ACCEPT', reasons: [], violations: [], evaluated: 2, bookVersion: 1 });
  });

  it('counts only the limits whose scope covers the order as evaluated', () => {
    const { engine } = makeEngine([qty, { ...qty, id: 'msft', scope: { symbols: ['MSFT'] } }]);
    expect(engine.checkOrder(order()).evaluated).toBe(1);
  });

  it('describes a violation with its kind, value, severity, threshold and key', () => {
    const { engine } = makeEngine([qty]);
    const violation = engine.checkOrder(order({ quantity: 101 })).violations[0];
    expect(violation).toEqual({
      violationId: expect.any(String) as string,
      limitId: 'qty',
      kind: 'order_quantity',
      severity: 'HARD_BREACH',
      action: 'BLOCK',
      value: 101,
      threshold: 100,
      key: 'account:ACC-1',
      message: 'order_quantity 101 above HARD_BREACH threshold 100 on account:ACC-1',
    });
  });

  it('accepts and reserves an order whose only violations alert', () => {
    const { engine } = makeEngine([qty]);
    const result = engine.checkOrder(order({ quantity: 50 }));
    expect(result).toMatchObject({ decision: 'ACCEPT', reasons: [] });
    expect(engine.ledger.openOrderCount).toBe(1);
  });

  it('reserves nothing for a rejected order', () => {
    const { engine } = makeEngine([qty]);
    engine.checkOrder(order({ quantity: 101 }));
    expect([engine.ledger.openOrderCount, engine.ledger.positionCount]).toEqual([0, 0]);
  });

  it('lists reasons in the order LIMIT_BREACH, NO_REFERENCE_PRICE, CAPACITY_EXCEEDED', () => {
    const { engine } = withCapacity(
      [
        { id: 'rate', kind: 'order_rate', per: 'account', windowMs: 1_000, thresholds: { hard: 10 } },
        { id: 'collar', kind: 'price_deviation', thresholds: { hard: 50 } },
        qty,
      ],
      { maxWindowKeys: 1 },
    );
    // ACC-2 takes the rate limit's one window key, in a symbol the collar has a reference for.
    setReference(engine, { MSFT: 100 });
    accepted(engine, { accountId: 'ACC-2', symbol: 'MSFT', price: 100 });
    expect(engine.checkOrder(order({ quantity: 101 })).reasons).toEqual(['LIMIT_BREACH', 'NO_REFERENCE_PRICE', 'CAPACITY_EXCEEDED']);
  });

  it('takes a value equal to its threshold on paper as equal, whatever binary rounding added', () => {
    const notional = makeEngine([{ id: 'n', kind: 'order_notional', thresholds: { hard: 110 } }]).engine;
    expect(100 * 1.1).toBeGreaterThan(110);
    expect(notional.checkOrder(order({ quantity: 100, price: 1.1 }))).toMatchObject({ decision: 'ACCEPT', violations: [] });
    const collar = makeEngine([{ id: 'c', kind: 'price_deviation', thresholds: { hard: 1_000 } }]).engine;
    setReference(collar, { AAPL: 1 });
    expect(collar.checkOrder(order({ quantity: 1, price: 1.1 }))).toMatchObject({ decision: 'ACCEPT', violations: [] });
    const position = makeEngine([{ id: 'p', kind: 'position', thresholds: { hard: 0.3 } }]).engine;
    accepted(position, { quantity: 0.1 });
    expect(position.checkOrder(order({ quantity: 0.2 }))).toMatchObject({ decision: 'ACCEPT', violations: [] });
  });

  it('still breaches on any real excess over the threshold', () => {
    const { engine } = makeEngine([{ id: 'n', kind: 'order_notional', thresholds: { hard: 110 } }]);
    expect(engine.checkOrder(order({ quantity: 100, price: 1.1000001 })).violations[0]).toMatchObject({ severity: 'HARD_BREACH', threshold: 110 });
    const tiny = makeEngine([{ id: 'n', kind: 'order_notional', thresholds: { hard: 1e9 } }]).engine;
    expect(tiny.checkOrder(order({ quantity: 1, price: 1e9 + 0.01 })).decision).toBe('REJECT');
  });

  it('rejects an order id already open for the account with DUPLICATE_ORDER_ID and nothing evaluated', () => {
    const { engine } = makeEngine([qty]);
    const o = accepted(engine);
    expect(engine.checkOrder({ ...o, quantity: 5 })).toMatchObject({ decision: 'REJECT', reasons: ['DUPLICATE_ORDER_ID'], evaluated: 0 });
    expect(engine.ledger.openOrder('ACC-1', o.orderId)?.remaining).toBe(o.quantity);
  });

  it('accepts the same order id from another account', () => {
    const { engine } = makeEngine([]);
    const o = accepted(engine);
    expect(engine.checkOrder({ ...o, accountId: 'ACC-2' }).decision).toBe('ACCEPT');
  });

  // Its late fills (a cancel/fill race at the venue, an over-fill) would otherwise land on the new order.
  it.each([
    ['cancelled', (engine: LimitEngine, o: Order) => cancel(engine, o)],
    ['filled', (engine: LimitEngine, o: Order) => fill(engine, o)],
  ] as const)('refuses an order id with DUPLICATE_ORDER_ID for lateFillWindowMs after its order %s, and takes it after', (_, close) => {
    const { engine, clock } = makeEngine([qty], { lateFillWindowMs: 30_000 });
    const o = accepted(engine);
    close(engine, o);
    clock.advance(29_999);
    expect(engine.checkOrder({ ...o, symbol: 'MSFT', side: 'SELL' })).toMatchObject({ decision: 'REJECT', reasons: ['DUPLICATE_ORDER_ID'], evaluated: 0 });
    expect(engine.checkOrder({ ...o, orderId: 'other' }).decision).toBe('ACCEPT');
    expect(engine.checkOrder({ ...o, accountId: 'ACC-2' }).decision).toBe('ACCEPT');
    clock.advance(1);
    expect(engine.checkOrder(o).decision).toBe('ACCEPT');
  });

  // Its account's group goes with its last open order: the id is then found among the closed orders of accounts without one.
  it('holds the id of an account left with only that closed order for lateFillWindowMs, and frees it after', () => {
    const { engine, clock } = makeEngine([qty], { lateFillWindowMs: 30_000 });
    const o = accepted(engine, { accountId: 'ACC-LONE' });
    cancel(engine, o);
    expect(engine.ledger.accounts.get('ACC-LONE')).toBeUndefined();
    clock.advance(29_999);
    expect(engine.checkOrder(o)).toMatchObject({ decision: 'REJECT', reasons: ['DUPLICATE_ORDER_ID'] });
    clock.advance(1);
    expect(engine.checkOrder(o).decision).toBe('ACCEPT');
  });

  // Forgetting is budgeted per check, so an entry may outlive its window: the age decides, not whether it is still kept.
  it('takes an id back at exactly lateFillWindowMs after its close, even while its entry is not yet forgotten', () => {
    const { engine, clock } = makeEngine([], { lateFillWindowMs: 30_000, openOrderTtlMs: 300_000 });
    const orders = Array.from({ length: 200 }, (_, i) => accepted(engine, { orderId: `c${i}` }));
    engine.applyExecutions(orders.map((o) => ({ type: 'CANCEL' as const, accountId: o.accountId, orderId: o.orderId })));
    clock.advance(30_000);
    expect(engine.checkOrder(orders[199]!).decision).toBe('ACCEPT');
    expect(engine.ledger.closedOrderCount).toBeGreaterThan(0);
  });

  it('takes an id back after its window and holds it again once that order closes', () => {
    const { engine, clock } = makeEngine([], { lateFillWindowMs: 30_000, openOrderTtlMs: 300_000 });
    const x = accepted(engine, { orderId: 'x', quantity: 10 });
    cancel(engine, x);
    clock.advance(30_000);
    const again = accepted(engine, { orderId: 'x', quantity: 10, symbol: 'MSFT' });
    cancel(engine, again);
    expect(engine.checkOrder(x).reasons).toEqual(['DUPLICATE_ORDER_ID']);
    // The late fill is the second order's: MSFT.
    expect(fill(engine, again, 5, 100).outcome).toBe('applied');
    expect([accountExposure(engine, 'ACC-1', 'MSFT')?.position, accountExposure(engine, 'ACC-1', 'AAPL')?.position]).toEqual([5, undefined]);
  });

  it('books a late fill of a cancelled order to it, not to an order sent with its id meanwhile (refused)', () => {
    const { engine } = makeEngine([]);
    const old = accepted(engine, { symbol: 'AAPL', side: 'BUY', quantity: 10 });
    cancel(engine, old);
    expect(engine.checkOrder({ ...old, symbol: 'MSFT', side: 'SELL' }).reasons).toEqual(['DUPLICATE_ORDER_ID']);
    fill(engine, old, 10, 100);
    expect(accountExposure(engine, 'ACC-1', 'AAPL')?.position).toBe(10);
    expect(accountExposure(engine, 'ACC-1', 'MSFT')).toBeUndefined();
  });

  it('does not hold the id of a rejected order', () => {
    const { engine } = makeEngine([qty]);
    const o = order({ quantity: 101 });
    engine.checkOrder(o);
    expect(engine.checkOrder({ ...o, quantity: 1 }).decision).toBe('ACCEPT');
  });
});
