import { describe, expect, it } from 'vitest';
import type { OpenOrder } from '../../src/domain/exposure-ledger.js';
import type { LimitEngine } from '../../src/domain/engine.js';
import { makeEngine, order } from '../support/engine-fixtures.js';
import { accepted, accountExposure, cancel, fill, strategyExposure } from '../support/engine-actions.js';

const openOrder = (engine: LimitEngine, orderId: string): OpenOrder => engine.ledger.openOrder('ACC-1', orderId)!;
const byId = (engine: LimitEngine, orderId: string) => engine.ledger.accounts.get('ACC-1')?.ordersById?.get(orderId);

describe('exposure ledger: open orders made again, closed orders in columns', () => {
  it('makes a closed open order again for the next accepted one, with nothing of the old order', () => {
    const { engine, clock } = makeEngine([]);
    accepted(engine, { symbol: 'MSFT' });
    const market = order({ side: 'SELL', quantity: 50, price: 99, orderType: 'MARKET' });
    expect(engine.checkBatch([market], { atomic: true }).results[0]!.decision).toBe('ACCEPT');
    const old = openOrder(engine, market.orderId);
    expect([old.isMarket, old.batch]).toEqual([true, 'b1']);
    cancel(engine, market);
    expect(engine.ledger.spareCounts.openOrders).toBe(1);

    clock.advance(1_000);
    const next = accepted(engine, { side: 'BUY', quantity: 70, price: 101, orderType: 'LIMIT' });
    const renewed = openOrder(engine, next.orderId);
    expect(renewed).toBe(old);
    expect(renewed).toMatchObject({ orderId: next.orderId, side: 'BUY', price: 101, quantity: 70, remaining: 70, batch: undefined });
    expect([renewed.isMarket, renewed.isClosed, renewed.acceptedAt, renewed.lastActivityAt]).toEqual([false, false, clock.now(), clock.now()]);
    expect(renewed.account).toBe(accountExposure(engine));
    expect(accountExposure(engine)).toMatchObject({ openBuy: 70, openSell: 0, openCount: 1, highestOpenBuy: 101, lowestOpenSell: Number.POSITIVE_INFINITY });

    // It closes and fills as a new order would.
    fill(engine, next, 30, 101);
    expect(openOrder(engine, next.orderId).remaining).toBe(40);
    cancel(engine, next);
    expect([engine.ledger.openOrderCount, accountExposure(engine)?.position, accountExposure(engine)?.openBuy]).toEqual([1, 30, 0]);
  });

  it('lets go of a closed open order: it holds neither its id nor its exposures', () => {
    const { engine } = makeEngine([]);
    accepted(engine, { symbol: 'MSFT' });
    const o = accepted(engine);
    const held = openOrder(engine, o.orderId);
    cancel(engine, o);
    expect(accountExposure(engine)).toBeUndefined();
    expect([held.orderId, held.accountId, held.strategyId, held.symbol, held.isClosed]).toEqual(['', '', '', '', true]);
    expect([held.firm, held.strategy]).toEqual([held.account, held.account]);
  });

  // Of 9 closing one by one, the k-th is kept while the spares are fewer than the 9 − k left: 4 (at most, 5 would be kept).
  it('keeps spares only while fewer than the open orders left; a sweep lets go of those past the orders open', () => {
    const { engine } = makeEngine([]);
    const orders = Array.from({ length: 9 }, () => accepted(engine));
    for (const o of orders.slice(1)) cancel(engine, o);
    expect(engine.ledger.spareCounts.openOrders).toBe(4);
    engine.sweep();
    expect([engine.ledger.openOrderCount, engine.ledger.spareCounts.openOrders]).toEqual([1, 1]);
    cancel(engine, orders[0]!);
    engine.sweep();
    expect(engine.ledger.spareCounts.openOrders).toBe(0);
    const again = Array.from({ length: 3 }, () => accepted(engine));
    for (const o of again) expect(openOrder(engine, o.orderId).orderId).toBe(o.orderId);
  });

  // Closed orders are columns, not objects: nothing to keep spare, and their memory goes with them.
  it('keeps closed orders in columns it lets go of once they are forgotten', () => {
    const { engine, clock } = makeEngine([], { lateFillWindowMs: 10_000 });
    const orders = Array.from({ length: 9 }, () => accepted(engine));
    for (const o of orders) cancel(engine, o);
    expect([engine.ledger.closedOrderCount, engine.ledger.closedChunkCount, typeof engine.ledger.orderById(undefined, 'ACC-1', orders[0]!.orderId)]).toEqual([9, 1, 'number']);
    clock.advance(10_000);
    accepted(engine);
    expect([engine.ledger.closedOrderCount, engine.ledger.closedChunkCount]).toEqual([0, 0]);
  });

  it('books a late fill to the order closed under its id within the window, and to none forgotten', () => {
    const { engine, clock } = makeEngine([], { lateFillWindowMs: 10_000 });
    accepted(engine, { symbol: 'MSFT' });
    const a = accepted(engine);
    const b = accepted(engine);
    const kept = accepted(engine, { symbol: 'MSFT' });
    cancel(engine, a);
    cancel(engine, b);
    clock.advance(5_000);
    cancel(engine, kept);

    clock.advance(5_000);
    while (engine.sweep());
    expect([engine.ledger.closedOrderCount, byId(engine, a.orderId), byId(engine, b.orderId)]).toEqual([1, undefined, undefined]);

    const c = accepted(engine, { symbol: 'MSFT', side: 'SELL', strategyId: 'STRAT-2' });
    clock.advance(5);
    cancel(engine, c);
    expect(engine.ledger.closedOrderCount).toBe(2);
    expect(fill(engine, c, 10, 300).outcome).toBe('applied');
    expect(accountExposure(engine, 'ACC-1', 'MSFT')?.position).toBe(-10);
    // Booked through the strategy the closed order had, not the account's usual one.
    expect([strategyExposure(engine, 'STRAT-2', 'MSFT')?.position, strategyExposure(engine, 'STRAT-1', 'MSFT')?.position ?? 0]).toEqual([-10, 0]);
    expect([fill(engine, a, 10, 100).outcome, fill(engine, b, 10, 100).outcome]).toEqual(['unknown_order', 'unknown_order']);
  });

  it('drops its spares when a snapshot is restored', () => {
    const { engine, clock } = makeEngine([], { lateFillWindowMs: 10_000 });
    const orders = Array.from({ length: 4 }, () => accepted(engine));
    const snapshot = engine.ledger.capture();
    cancel(engine, orders[0]!);
    cancel(engine, orders[1]!);
    clock.advance(5_000);
    cancel(engine, orders[2]!);
    clock.advance(5_000);
    accepted(engine);
    expect(engine.ledger.spareCounts).toEqual({ openOrders: 1 });
    engine.ledger.restore(snapshot);
    expect(engine.ledger.spareCounts).toEqual({ openOrders: 0 });
  });
});
