import { describe, expect, it } from 'vitest';
import type { ExposureGroup } from '../../src/domain/exposure-ledger.js';
import { OrderIdTable } from '../../src/domain/order-id-table.js';
import { KEYS_PER_SHARD, ShardedMap } from '../../src/domain/sharded-map.js';
import { holdsOrderId, makeEngine, order, testConfig } from '../support/engine-fixtures.js';
import { accepted, accountExposure, cancel, fill, firmExposure, setReference, strategyExposure, traded } from '../support/engine-actions.js';

/** The symbols a group's exposure table holds, sorted. */
const heldSymbols = (group: ExposureGroup): string[] => group.values().map((e) => e.market.symbol).sort();

const pnl = (e: { position: number; avgCost: number; realized: number } | undefined) =>
  e === undefined ? undefined : { position: e.position, avgCost: e.avgCost, realized: e.realized };

describe('exposure ledger: netting and average cost', () => {
  it('blends buys at different prices into the average cost', () => {
    const { engine } = makeEngine([]);
    traded(engine, { quantity: 100, price: 10 });
    traded(engine, { quantity: 100, price: 12 });
    expect(pnl(accountExposure(engine))).toEqual({ position: 200, avgCost: 11, realized: 0 });
  });

  it('realizes a partial sell against the average cost and keeps the average', () => {
    const { engine } = makeEngine([]);
    traded(engine, { quantity: 100, price: 10 });
    traded(engine, { quantity: 100, price: 12 });
    traded(engine, { side: 'SELL', quantity: 50, price: 15 });
    expect(pnl(accountExposure(engine))).toEqual({ position: 150, avgCost: 11, realized: 200 });
  });

  it('realizes a gain when a short is covered below its average cost', () => {
    const { engine } = makeEngine([]);
    traded(engine, { side: 'SELL', quantity: 100, price: 20 });
    traded(engine, { side: 'BUY', quantity: 40, price: 15 });
    expect(pnl(accountExposure(engine))).toEqual({ position: -60, avgCost: 20, realized: 200 });
  });

  it('flips a long into a short, realizing the closed part and costing the rest at the fill price', () => {
    const { engine } = makeEngine([]);
    traded(engine, { quantity: 100, price: 10 });
    traded(engine, { side: 'SELL', quantity: 150, price: 12 });
    expect(pnl(accountExposure(engine))).toEqual({ position: -50, avgCost: 12, realized: 200 });
  });

  it('flips a short into a long, realizing the closed part and costing the rest at the fill price', () => {
    const { engine } = makeEngine([]);
    traded(engine, { side: 'SELL', quantity: 100, price: 20 });
    traded(engine, { side: 'BUY', quantity: 150, price: 25 });
    expect(pnl(accountExposure(engine))).toEqual({ position: 50, avgCost: 25, realized: -500 });
  });

  it('zeroes the average cost when the position closes and keeps the realized P&L', () => {
    const { engine } = makeEngine([]);
    traded(engine, { quantity: 100, price: 10 });
    traded(engine, { side: 'SELL', quantity: 100, price: 11 });
    expect(pnl(accountExposure(engine))).toEqual({ position: 0, avgCost: 0, realized: 100 });
  });

  it('adds up its accounts at the strategy and the firm: positions, cost bases and realized P&L', () => {
    const { engine } = makeEngine([]);
    traded(engine, { accountId: 'ACC-1', quantity: 100, price: 10 });
    traded(engine, { accountId: 'ACC-2', side: 'SELL', quantity: 50, price: 14 });
    expect(pnl(accountExposure(engine, 'ACC-1'))).toEqual({ position: 100, avgCost: 10, realized: 0 });
    expect(pnl(accountExposure(engine, 'ACC-2'))).toEqual({ position: -50, avgCost: 14, realized: 0 });
    // Bases 1,000 and −700: 50 at 6, nothing realized (the accounts realized nothing).
    expect(pnl(strategyExposure(engine))).toEqual({ position: 50, avgCost: 6, realized: 0 });
    expect(pnl(firmExposure(engine))).toEqual({ position: 50, avgCost: 6, realized: 0 });
  });

  it('nets two strategies inside one account, each moved by what its trades moved the account', () => {
    const { engine } = makeEngine([]);
    traded(engine, { strategyId: 'STRAT-1', quantity: 100, price: 10 });
    traded(engine, { strategyId: 'STRAT-2', side: 'SELL', quantity: 50, price: 14 });
    expect(pnl(accountExposure(engine))).toEqual({ position: 50, avgCost: 10, realized: 200 });
    // The sell realized 200 against the account's 10 and took 500 of its basis.
    expect(pnl(strategyExposure(engine, 'STRAT-2'))).toEqual({ position: -50, avgCost: 10, realized: 200 });
    expect(pnl(strategyExposure(engine, 'STRAT-1'))).toEqual({ position: 100, avgCost: 10, realized: 0 });
  });
});

describe('exposure ledger: fills and releases', () => {
  it('moves a partial fill from open quantity to position', () => {
    const { engine } = makeEngine([]);
    const o = accepted(engine, { quantity: 100, price: 10 });
    expect(fill(engine, o, 40, 10)).toEqual({ orderId: o.orderId, outcome: 'applied' });
    const e = accountExposure(engine)!;
    expect([e.position, e.openBuy, e.openBuyNotional, e.openCount]).toEqual([40, 60, 600, 1]);
    expect(engine.ledger.openOrder('ACC-1', o.orderId)?.remaining).toBe(60);
  });

  it('closes the order when its partial fills add up to its quantity', () => {
    const { engine } = makeEngine([]);
    const o = accepted(engine, { quantity: 100, price: 10 });
    fill(engine, o, 40, 10);
    fill(engine, o, 60, 11);
    const e = accountExposure(engine)!;
    expect([e.position, e.openBuy, e.openBuyNotional, e.openCount]).toEqual([100, 0, 0, 0]);
    expect(e.avgCost).toBeCloseTo(10.6, 12);
    expect(engine.ledger.openOrder('ACC-1', o.orderId)).toBeUndefined();
  });

  it('applies the whole of an over-fill to the position and releases the order', () => {
    const { engine } = makeEngine([]);
    const o = accepted(engine, { quantity: 100, price: 10 });
    expect(fill(engine, o, 150, 10).outcome).toBe('applied');
    const e = accountExposure(engine)!;
    expect([e.position, e.openBuy, e.openCount]).toEqual([150, 0, 0]);
    expect(engine.ledger.openOrderCount).toBe(0);
  });

  // The same 120 traded must leave the same position however the venue splits its reports.
  it.each([
    [90, 30],
    [100, 20],
  ])('books an over-fill split over two reports (%i then %i of 100) as one in a single report', (first, second) => {
    const { engine, clock } = makeEngine([]);
    const o = accepted(engine, { quantity: 100, price: 10 });
    expect(fill(engine, o, first, 10).outcome).toBe('applied');
    clock.advance(1_000);
    expect(fill(engine, o, second, 10).outcome).toBe('applied');
    expect([accountExposure(engine)?.position, strategyExposure(engine)?.position, firmExposure(engine)?.position]).toEqual([120, 120, 120]);
    expect(accountExposure(engine)).toMatchObject({ openBuy: 0, openCount: 0 });
    expect(engine.ledger.openOrderCount).toBe(0);
  });

  it('answers unknown_order to a fill arriving lateFillWindowMs after the order was filled up', () => {
    const { engine, clock } = makeEngine([]);
    const o = accepted(engine, { quantity: 100 });
    fill(engine, o, 100, 100);
    expect(engine.ledger.closedOrderCount).toBe(1);
    clock.advance(59_999);
    expect(fill(engine, o, 10, 100).outcome).toBe('applied');
    clock.advance(1);
    expect(fill(engine, o, 10, 100).outcome).toBe('unknown_order');
    expect(accountExposure(engine)?.position).toBe(110);
  });

  it.each(['CANCEL', 'REJECT', 'EXPIRE'] as const)('releases the unfilled remainder on %s', (type) => {
    const { engine } = makeEngine([]);
    const o = accepted(engine, { quantity: 100, price: 10 });
    fill(engine, o, 30, 10);
    expect(cancel(engine, o, type).outcome).toBe('applied');
    const e = accountExposure(engine)!;
    expect([e.position, e.openBuy, e.openBuyNotional, e.openCount]).toEqual([30, 0, 0, 0]);
    expect(engine.ledger.openOrderCount).toBe(0);
  });

  it.each(['CANCEL', 'REJECT', 'EXPIRE'] as const)("still applies a fill that arrives after the order's %s (a cancel/fill race at the venue)", (type) => {
    const { engine } = makeEngine([]);
    const o = accepted(engine, { quantity: 100 });
    expect(cancel(engine, o, type).outcome).toBe('applied');
    expect(fill(engine, o, 100, 100).outcome).toBe('applied');
    expect([accountExposure(engine)?.position, strategyExposure(engine)?.position, firmExposure(engine)?.position]).toEqual([100, 100, 100]);
    expect(accountExposure(engine)).toMatchObject({ avgCost: 100, openBuy: 0, openBuyNotional: 0, openCount: 0 });
    expect(engine.ledger.openOrderCount).toBe(0);
  });

  it('counts a fill after a cancel against later orders', () => {
    const { engine } = makeEngine([{ id: 'pos', kind: 'position', thresholds: { hard: 150 } }]);
    const o = accepted(engine, { quantity: 100 });
    cancel(engine, o);
    fill(engine, o, 60, 100);
    fill(engine, o, 40, 101);
    expect(accountExposure(engine)?.position).toBe(100);
    expect(engine.checkOrder(order({ quantity: 100 })).decision).toBe('REJECT');
  });

  it('answers unknown_order to a fill arriving a full TTL after the order was cancelled', () => {
    const { engine, clock } = makeEngine([]);
    const o = accepted(engine, { quantity: 100 });
    cancel(engine, o);
    clock.advance(59_999);
    expect(fill(engine, o, 10, 100).outcome).toBe('applied');
    clock.advance(1);
    expect(fill(engine, o, 10, 100).outcome).toBe('unknown_order');
    expect(accountExposure(engine)?.position).toBe(10);
  });

  it('keeps more accounts than one map shard holds, each found by its orders', () => {
    const accounts = 70_000;
    const { engine } = makeEngine([{ id: 'pos', kind: 'position', thresholds: { hard: 150 } }], { capacity: { ...testConfig().capacity, maxPositions: 100_000 } });
    for (let from = 0; from < accounts; from += 10_000) {
      engine.applyPositions(Array.from({ length: 10_000 }, (_, i) => ({ accountId: `ACC-${from + i}`, symbol: 'AAPL', quantity: 100, avgPrice: 10 })), false);
    }
    expect([engine.ledger.accounts.size, engine.ledger.accounts.shardCount > 1]).toEqual([accounts, true]);
    for (const i of [0, 33_333, 69_999]) {
      expect(engine.checkOrder(order({ accountId: `ACC-${i}`, quantity: 50 })).decision).toBe('ACCEPT');
      expect(engine.checkOrder(order({ accountId: `ACC-${i}`, quantity: 1 })).decision).toBe('REJECT');
    }
  });

  it('shards an account\'s orders when its table fills, at 4,096, before an insert would double the table only for the split to empty half of it', () => {
    const { engine } = makeEngine([], { capacity: { ...testConfig().capacity, maxOpenOrders: 2 * KEYS_PER_SHARD } });
    const byId = () => engine.ledger.accounts.get('ACC-1')!.ordersById;
    for (let i = 0; i < KEYS_PER_SHARD - 1; i++) accepted(engine, { orderId: `mm-${i}`, quantity: 1 });
    const table = byId() as OrderIdTable<never>;
    expect([table instanceof OrderIdTable, table.size, table.capacity]).toEqual([true, KEYS_PER_SHARD - 1, 2 * KEYS_PER_SHARD]);
    accepted(engine, { orderId: 'mm-last', quantity: 1 });
    const sharded = byId() as ShardedMap<string, unknown>;
    const shards = (sharded as unknown as { shards: OrderIdTable<never>[] }).shards;
    expect([sharded instanceof ShardedMap, sharded.size, shards.length, shards[0] === table, table.capacity]).toEqual([true, KEYS_PER_SHARD, 2, true, 2 * KEYS_PER_SHARD]);
    expect(engine.checkOrder(order({ orderId: 'mm-7', quantity: 1 })).reasons).toEqual(['DUPLICATE_ORDER_ID']);
  });

  it('finds every order of an account holding more open and closed orders than one map shard, by id', () => {
    const count = KEYS_PER_SHARD * 2 + 1;
    const { engine } = makeEngine([], { capacity: { ...testConfig().capacity, maxOpenOrders: 3 * count } });
    const orders = Array.from({ length: count }, (_, i) => accepted(engine, { orderId: `mm-${i}`, quantity: 1 }));
    expect(engine.ledger.openOrderCount).toBe(count);
    // The account's index spans several shards now.
    const byId = () => engine.ledger.accounts.get('ACC-1')!.ordersById;
    expect(byId() instanceof ShardedMap && (byId() as ShardedMap<string, unknown>).shardCount > 1).toBe(true);
    expect(engine.checkOrder(order({ orderId: 'mm-0', quantity: 1 })).reasons).toEqual(['DUPLICATE_ORDER_ID']);
    for (const o of orders) expect(cancel(engine, o).outcome).toBe('applied');
    expect(engine.ledger.openOrderCount).toBe(0);
    expect(engine.ledger.closedOrderCount).toBe(count);
    // The group went with its last open order; its map, sharded, waits without it.
    expect(engine.ledger.accounts.get('ACC-1')).toBeUndefined();
    expect(engine.checkOrder(order({ orderId: `mm-${count - 1}`, quantity: 1 })).reasons).toEqual(['DUPLICATE_ORDER_ID']);
    for (const o of orders.filter((_, i) => i % 101 === 0)) expect(fill(engine, o, 1, 100).outcome).toBe('applied');
    expect(accountExposure(engine)?.position).toBe(Math.ceil(count / 101));
  });

  // A group holding no row is most of a kilobyte; a book of many accounts cancelling an order each would keep one per order.
  it('lets an account that holds only a closed order go, and still holds the id and books the late fill, and a new group takes them back', () => {
    const { engine, clock } = makeEngine([]);
    const o = accepted(engine, { accountId: 'ACC-9', quantity: 10 });
    cancel(engine, o);
    expect([engine.ledger.accounts.get('ACC-9'), engine.ledger.closedOrderCount]).toEqual([undefined, 1]);
    // Kept as its handle, not in a table of one.
    expect(typeof (engine.ledger as unknown as { closedOnly: ShardedMap<string, unknown> }).closedOnly.get('ACC-9')).toBe('number');
    expect(engine.checkOrder(o).reasons).toEqual(['DUPLICATE_ORDER_ID']);
    // Another order of the account makes its group again, which takes the closed order back.
    const other = accepted(engine, { accountId: 'ACC-9', orderId: 'other', quantity: 1 });
    expect(engine.ledger.accounts.get('ACC-9')?.ordersById?.size).toBe(2);
    cancel(engine, other);
    expect(engine.ledger.accounts.get('ACC-9')).toBeUndefined();
    expect(fill(engine, o, 4, 100).outcome).toBe('applied');
    expect(accountExposure(engine, 'ACC-9')?.position).toBe(4);
    expect(engine.ledger.accounts.get('ACC-9')?.ordersById?.size).toBe(2);
    clock.advance(60_000);
    engine.sweep();
    expect([engine.ledger.closedOrderCount, engine.ledger.accounts.get('ACC-9')?.ordersById]).toEqual([0, undefined]);
    expect(engine.checkOrder(o).decision).toBe('ACCEPT');
  });

  it('lets go of the closed orders of accounts without a group once forgotten: a group made again later adopts none', () => {
    const { engine, clock } = makeEngine([]);
    // One closed order kept as itself, two in a map.
    cancel(engine, accepted(engine, { accountId: 'ONE', orderId: 'a', quantity: 1 }));
    for (const id of ['b', 'c']) cancel(engine, accepted(engine, { accountId: 'TWO', orderId: id, quantity: 1 }));
    expect([engine.ledger.accounts.get('ONE'), engine.ledger.accounts.get('TWO'), engine.ledger.closedOrderCount]).toEqual([undefined, undefined, 3]);
    clock.advance(60_000);
    engine.sweep();
    expect(engine.ledger.closedOrderCount).toBe(0);
    for (const accountId of ['ONE', 'TWO']) {
      accepted(engine, { accountId, orderId: 'new', quantity: 1 });
      expect(engine.ledger.accounts.get(accountId)?.ordersById?.size, accountId).toBe(1);
    }
  });

  it('keeps the one closed order left of an account without a group as itself again, its id still held', () => {
    const { engine, clock } = makeEngine([]);
    const closedOnly = () => (engine.ledger as unknown as { closedOnly: ShardedMap<string, unknown> }).closedOnly.get('TWO');
    const first = accepted(engine, { accountId: 'TWO', orderId: 'b', quantity: 1 });
    cancel(engine, first);
    clock.advance(1_000);
    const second = accepted(engine, { accountId: 'TWO', orderId: 'c', quantity: 1 });
    cancel(engine, second);
    expect(closedOnly()).toBeInstanceOf(OrderIdTable);
    // b's window is over, c's is not.
    clock.advance(59_000);
    engine.sweep();
    expect(engine.ledger.closedOrderCount).toBe(1);
    expect(typeof closedOnly()).toBe('number');
    expect(engine.ledger.orderById(undefined, 'TWO', 'c')).toBe(closedOnly());
    expect(engine.checkOrder(second).reasons).toEqual(['DUPLICATE_ORDER_ID']);
    expect(engine.checkOrder(first).decision).toBe('ACCEPT');
  });

  it('forgets the oldest closed order early when the table is full, freeing its id and its account', () => {
    const { engine } = makeEngine([], { capacity: { ...testConfig().capacity, maxOpenOrders: 2 } });
    const first = accepted(engine, { accountId: 'ACC-7', orderId: 'f', quantity: 1 });
    cancel(engine, first);
    for (const id of ['g', 'h']) cancel(engine, accepted(engine, { orderId: id, quantity: 1 }));
    expect([engine.ledger.closedOrderCount, engine.ledger.accounts.get('ACC-7')]).toEqual([2, undefined]);
    expect(fill(engine, first, 1, 100).outcome).toBe('unknown_order');
    expect(engine.checkOrder(first).decision).toBe('ACCEPT');
  });

  it('forgets closed orders after lateFillWindowMs, while an open order of the same age still stands', () => {
    const { engine, clock } = makeEngine([], { lateFillWindowMs: 10_000 });
    const cancelled = accepted(engine, { quantity: 100 });
    const resting = accepted(engine, { quantity: 5 });
    cancel(engine, cancelled);
    clock.advance(9_999);
    expect(fill(engine, cancelled, 10, 100).outcome).toBe('applied');
    expect(engine.ledger.closedOrderCount).toBe(1);
    clock.advance(1);
    expect(fill(engine, cancelled, 10, 100).outcome).toBe('unknown_order');
    expect(engine.ledger.closedOrderCount).toBe(0);
    expect(fill(engine, resting, 5, 100).outcome).toBe('applied');
    expect(accountExposure(engine)?.position).toBe(15);
  });

  it('answers unknown_order to a fill of an order an atomic batch took back: it was never accepted', () => {
    const { engine } = makeEngine([{ id: 'qty', kind: 'order_quantity', thresholds: { hard: 100 } }]);
    const first = order({ quantity: 10 });
    expect(engine.checkBatch([first, order({ quantity: 500 })], { atomic: true }).summary.accepted).toBe(0);
    expect(fill(engine, first, 10, 100).outcome).toBe('unknown_order');
    expect(engine.ledger.positionCount).toBe(0);
    expect(engine.ledger.closedOrderCount).toBe(0);
  });

  it('answers unknown_order to a cancel of an order it does not hold', () => {
    const { engine } = makeEngine([]);
    expect(cancel(engine, order()).outcome).toBe('unknown_order');
  });

  it('answers unknown_order to a cancel naming the right order id under another account', () => {
    const { engine } = makeEngine([]);
    const o = accepted(engine);
    expect(cancel(engine, { ...o, accountId: 'ACC-2' }).outcome).toBe('unknown_order');
    expect(engine.ledger.openOrderCount).toBe(1);
  });

  it('answers unknown_order to a fill of an order it never accepted and moves nothing', () => {
    const { engine } = makeEngine([]);
    expect(fill(engine, order(), 10, 10).outcome).toBe('unknown_order');
    expect(engine.ledger.positionCount).toBe(0);
  });

  it('refuses a FILL without a quantity', () => {
    const { engine } = makeEngine([]);
    const o = accepted(engine);
    expect(() => engine.applyExecutions([{ type: 'FILL', accountId: o.accountId, orderId: o.orderId, price: 10 }])).toThrow(RangeError);
  });

  it('reserves a LIMIT order at its own price', () => {
    const { engine } = makeEngine([]);
    setReference(engine, { AAPL: 50 });
    accepted(engine, { quantity: 100, price: 10 });
    expect(accountExposure(engine)?.openBuyNotional).toBe(1_000);
  });

  it('reserves a MARKET order without a price at the fresh reference', () => {
    const { engine } = makeEngine([]);
    setReference(engine, { AAPL: 50 });
    accepted(engine, { side: 'SELL', quantity: 100, orderType: 'MARKET', price: undefined });
    expect(accountExposure(engine)?.openSellNotional).toBe(5_000);
  });

  it('reserves a MARKET order without a price at the last fill price when the reference is stale', () => {
    const { engine, clock } = makeEngine([]);
    setReference(engine, { AAPL: 50 });
    traded(engine, { quantity: 1, price: 42 });
    clock.advance(5_001);
    accepted(engine, { quantity: 100, orderType: 'MARKET', price: undefined });
    expect(accountExposure(engine)?.openBuyNotional).toBe(4_200);
  });

  it('reserves a MARKET order without any known price at zero', () => {
    const { engine } = makeEngine([]);
    accepted(engine, { quantity: 100, orderType: 'MARKET', price: undefined });
    expect([accountExposure(engine)?.openBuy, accountExposure(engine)?.openBuyNotional]).toEqual([100, 0]);
  });

  it('takes back only the order its batch reserved: not one closed since, nor the next order made from its object', () => {
    const { engine, clock } = makeEngine([]);
    const first = order({ orderId: 'o-1', quantity: 100 });
    expect(engine.checkBatch([first], { atomic: true }).results[0]!.decision).toBe('ACCEPT');
    const acceptedAt = clock.now();
    accepted(engine, { orderId: 'o-2', quantity: 30 });
    const held = engine.ledger.openOrder('ACC-1', 'o-1')!;
    cancel(engine, first);
    accepted(engine, { orderId: 'o-3', quantity: 7 });
    // o-3 was made from o-1's object: a take-back by that object would have taken o-3.
    expect(held.orderId).toBe('o-3');
    expect(engine.ledger.unreserve('ACC-1', 'o-1', 'b1', acceptedAt)).toBe(false);
    expect(engine.ledger.unreserve('ACC-1', 'o-3', 'b1', acceptedAt)).toBe(false);
    const e = accountExposure(engine);
    expect([e?.openBuy, e?.openCount, engine.ledger.openOrderCount, strategyExposure(engine)?.openBuy, firmExposure(engine)?.openBuy]).toEqual([37, 2, 2, 37, 37]);
  });

  it('takes back an order its batch reserved, under its id, as if never accepted', () => {
    const { engine, clock } = makeEngine([]);
    const only = order({ orderId: 'o-1', quantity: 100 });
    engine.checkBatch([only], { atomic: true });
    accepted(engine, { orderId: 'o-2', quantity: 30 });
    expect(engine.ledger.unreserve('ACC-1', 'o-1', 'b1', clock.now() - 1)).toBe(false);
    expect(engine.ledger.unreserve('ACC-1', 'o-1', 'b2', clock.now())).toBe(false);
    expect(engine.ledger.unreserve('ACC-1', 'o-1', 'b1', clock.now())).toBe(true);
    expect([accountExposure(engine)?.openBuy, engine.ledger.openOrderCount, engine.ledger.closedOrderCount]).toEqual([30, 1, 0]);
    expect(holdsOrderId(engine.ledger, 'ACC-1', 'o-1', clock.now())).toBe(false);
  });
});

describe('exposure ledger: open-order expiry', () => {
  it('keeps an order open while it has been idle for less than openOrderTtlMs', () => {
    const { engine, clock } = makeEngine([]);
    accepted(engine);
    clock.advance(59_999);
    engine.sweep();
    expect(engine.ledger.openOrderCount).toBe(1);
  });

  it('expires an order idle for exactly openOrderTtlMs at the start of the next check', () => {
    const { engine, clock } = makeEngine([]);
    const o = accepted(engine);
    clock.advance(60_000);
    engine.checkOrder(order({ symbol: 'MSFT' }));
    expect(engine.ledger.openOrder('ACC-1', o.orderId)).toBeUndefined();
    expect(engine.expiredOrders).toBe(1);
    expect(accountExposure(engine, 'ACC-1', 'AAPL')).toBeUndefined();
  });

  it('expires idle orders at the start of a batch', () => {
    const { engine, clock } = makeEngine([]);
    accepted(engine);
    clock.advance(60_000);
    engine.checkBatch([]);
    expect(engine.ledger.openOrderCount).toBe(0);
  });

  it('expires idle orders in sweep', () => {
    const { engine, clock } = makeEngine([]);
    accepted(engine);
    clock.advance(60_000);
    engine.sweep();
    expect([engine.ledger.openOrderCount, engine.expiredOrders]).toEqual([0, 1]);
  });

  it('expires idle orders before applying executions, so a later cancel finds nothing', () => {
    const { engine, clock } = makeEngine([]);
    const o = accepted(engine);
    clock.advance(60_000);
    expect(cancel(engine, o).outcome).toBe('unknown_order');
  });

  it('restarts the idle time of an order on a partial fill', () => {
    const { engine, clock } = makeEngine([]);
    const o = accepted(engine, { quantity: 100 });
    clock.advance(40_000);
    fill(engine, o, 10);
    clock.advance(59_999);
    engine.sweep();
    expect(engine.ledger.openOrder('ACC-1', o.orderId)?.remaining).toBe(90);
    clock.advance(1);
    engine.sweep();
    expect(engine.ledger.openOrderCount).toBe(0);
  });

  it('still applies a fill that arrives within another TTL of the order expiring', () => {
    const { engine, clock } = makeEngine([]);
    const o = accepted(engine, { quantity: 100, price: 10 });
    clock.advance(60_000);
    engine.sweep();
    clock.advance(59_999);
    expect(fill(engine, o, 100, 10).outcome).toBe('applied');
    expect([accountExposure(engine)?.position, strategyExposure(engine)?.position, firmExposure(engine)?.position]).toEqual([100, 100, 100]);
    expect(accountExposure(engine)?.openBuy).toBe(0);
  });

  it('answers unknown_order to a fill arriving a full TTL after the order expired', () => {
    const { engine, clock } = makeEngine([]);
    const o = accepted(engine, { quantity: 100, price: 10 });
    clock.advance(60_000);
    engine.sweep();
    clock.advance(60_000);
    expect(fill(engine, o, 100, 10).outcome).toBe('unknown_order');
    expect(engine.ledger.positionCount).toBe(0);
  });

  it('answers unknown_order to a late fill a full TTL after expiry while younger orders are still open', () => {
    const { engine, clock } = makeEngine([]);
    const o = accepted(engine, { quantity: 100, price: 10 });
    clock.advance(60_000);
    engine.sweep();
    clock.advance(30_000);
    accepted(engine, { symbol: 'MSFT' });
    clock.advance(30_000);
    expect(fill(engine, o, 100, 10).outcome).toBe('unknown_order');
  });
});

describe('exposure ledger: position snapshots and sessions', () => {
  it('merges a snapshot into the listed positions and leaves the others', () => {
    const { engine } = makeEngine([]);
    engine.applyPositions(
      [
        { accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 10 },
        { accountId: 'ACC-1', symbol: 'MSFT', quantity: 50, avgPrice: 20 },
      ],
      false,
    );
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 30, avgPrice: 12 }], false);
    expect(pnl(accountExposure(engine, 'ACC-1', 'AAPL'))).toEqual({ position: 30, avgCost: 12, realized: 0 });
    expect(accountExposure(engine, 'ACC-1', 'MSFT')?.position).toBe(50);
  });

  it('flattens every position not listed when a snapshot replaces', () => {
    const { engine } = makeEngine([]);
    engine.applyPositions(
      [
        { accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 10 },
        { accountId: 'ACC-2', symbol: 'MSFT', quantity: 50, avgPrice: 20 },
      ],
      false,
    );
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 30, avgPrice: 12 }], true);
    expect(accountExposure(engine, 'ACC-1', 'AAPL')?.position).toBe(30);
    expect(accountExposure(engine, 'ACC-2', 'MSFT')).toBeUndefined();
    expect(firmExposure(engine, 'MSFT')).toBeUndefined();
    expect(firmExposure(engine, 'AAPL')?.position).toBe(30);
  });

  it('keeps through a replace, at every level, exactly the rows with realized P&L or open orders, each whole, and drops the rest', () => {
    const { engine } = makeEngine([]);
    engine.applyPositions(
      Array.from({ length: 12 }, (_, i) => ({ accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: `S${i}`, quantity: 10 + i, avgPrice: 5 + i })),
      false,
    );
    engine.applyPositions([{ accountId: 'ACC-2', strategyId: 'STRAT-2', symbol: 'S0', quantity: 1, avgPrice: 1 }], false);
    // S3 sold flat at a profit of 13 (realized P&L stays); S7 has an open buy; S9 is in the replacing snapshot.
    traded(engine, { symbol: 'S3', side: 'SELL', quantity: 13, price: 9 });
    const open = accepted(engine, { symbol: 'S7', quantity: 4, price: 11 });
    const before = accountExposure(engine, 'ACC-1', 'S7')!;
    const openNumbers = { openBuy: before.openBuy, openBuyNotional: before.openBuyNotional, peakOpenBuy: before.peakOpenBuy, openCount: before.openCount };
    // The first row: a kept row moves into its slot.
    const dropped = accountExposure(engine, 'ACC-1', 'S0')!;
    engine.applyPositions([{ accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: 'S9', quantity: 2, avgPrice: 3 }], true);

    const account = engine.ledger.accounts.get('ACC-1')!;
    expect(heldSymbols(account)).toEqual(['S3', 'S7', 'S9']);
    expect(account.exposures.map((e) => e.market.symbol).sort()).toEqual(heldSymbols(account));
    expect(engine.ledger.accounts.get('ACC-2')).toBeUndefined();
    expect(engine.ledger.positionCount).toBe(3);
    expect(pnl(accountExposure(engine, 'ACC-1', 'S3'))).toEqual({ position: 0, avgCost: 0, realized: 13 });
    expect(pnl(accountExposure(engine, 'ACC-1', 'S9'))).toEqual({ position: 2, avgCost: 3, realized: 0 });
    const kept = accountExposure(engine, 'ACC-1', 'S7')!;
    expect(kept).toBe(before);
    expect({ openBuy: kept.openBuy, openBuyNotional: kept.openBuyNotional, peakOpenBuy: kept.peakOpenBuy, openCount: kept.openCount }).toEqual(openNumbers);
    expect(pnl(kept)).toEqual({ position: 0, avgCost: 0, realized: 0 });
    // Flat at every level, with no peak left to judge rounding by.
    for (const symbol of ['S3', 'S7']) {
      for (const e of [accountExposure(engine, 'ACC-1', symbol)!, strategyExposure(engine, 'STRAT-1', symbol)!, firmExposure(engine, symbol)!]) {
        expect([e.position, e.peakBasis, e.peakQuantity, e.flatCost]).toEqual([0, 0, 0, 0]);
      }
    }
    expect([...engine.ledger.strategies.keys()]).toEqual(['STRAT-1']);
    expect(heldSymbols(engine.ledger.firm)).toEqual(['S3', 'S7', 'S9']);
    // The open order still fills into the row it reserved on.
    fill(engine, open, 4, 11);
    expect(pnl(accountExposure(engine, 'ACC-1', 'S7'))).toEqual({ position: 4, avgCost: 11, realized: 0 });
    expect(kept.openBuy).toBe(0);
    // Whoever still holds a dropped exposure reads it flat, and writing it changes no kept row.
    expect(pnl(dropped)).toEqual({ position: 0, avgCost: 0, realized: 0 });
    dropped.position = 99;
    expect(account.exposures.map((e) => e.position).sort()).toEqual([0, 2, 4]);
  });

  it('drops at a session reset the rows that held only realized P&L, a few or most of a group at once, and keeps the rest whole', () => {
    const { engine } = makeEngine([]);
    for (const accountId of ['FEW', 'MOST']) {
      engine.applyPositions(Array.from({ length: 8 }, (_, i) => ({ accountId, strategyId: 'STRAT-1', symbol: `S${i}`, quantity: 10, avgPrice: 5 + i })), false);
    }
    const closeOut = (accountId: string, symbol: string) => traded(engine, { accountId, symbol, side: 'SELL', quantity: 10, price: 20 });
    closeOut('FEW', 'S2'); // one of eight leaves on its own
    for (const i of [0, 1, 3, 4, 6, 7]) closeOut('MOST', `S${i}`); // the two kept move into new rows
    engine.resetSession();
    const symbolsOf = (accountId: string) => {
      const group = engine.ledger.accounts.get(accountId)!;
      expect(group.exposures.map((e) => e.market.symbol).sort()).toEqual(heldSymbols(group));
      return group.values().map((e) => [e.market.symbol, e.position, e.avgCost, e.realized]).sort();
    };
    expect(symbolsOf('FEW')).toEqual([0, 1, 3, 4, 5, 6, 7].map((i) => [`S${i}`, 10, 5 + i, 0]));
    expect(symbolsOf('MOST')).toEqual([['S2', 10, 7, 0], ['S5', 10, 10, 0]]);
    // Which way each went, by row order: one leaving alone gives its row to the last; most leaving, the kept keep their order.
    const rowOrder = (accountId: string) => engine.ledger.accounts.get(accountId)!.exposures.map((e) => e.market.symbol);
    expect(rowOrder('FEW')).toEqual(['S0', 'S1', 'S7', 'S3', 'S4', 'S5', 'S6']);
    expect(rowOrder('MOST')).toEqual(['S2', 'S5']);
    expect(engine.ledger.positionCount).toBe(9);
    expect(heldSymbols(engine.ledger.strategies.get('STRAT-1')!)).toEqual(['S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7']);
  });

  it('keeps open-order reservations through a replacing snapshot', () => {
    const { engine } = makeEngine([]);
    accepted(engine, { symbol: 'MSFT', quantity: 70 });
    engine.applyPositions([], true);
    expect(accountExposure(engine, 'ACC-1', 'MSFT')?.openBuy).toBe(70);
  });

  it('moves the firm level by the change in each account', () => {
    const { engine } = makeEngine([]);
    engine.applyPositions(
      [
        { accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 10 },
        { accountId: 'ACC-2', symbol: 'AAPL', quantity: 50, avgPrice: 10 },
      ],
      false,
    );
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 40, avgPrice: 10 }], false);
    expect(firmExposure(engine)?.position).toBe(90);
  });

  it('moves the strategy level when the row names a strategy', () => {
    const { engine } = makeEngine([]);
    engine.applyPositions([{ accountId: 'ACC-1', strategyId: 'STRAT-7', symbol: 'AAPL', quantity: 100, avgPrice: 10 }], false);
    expect(pnl(strategyExposure(engine, 'STRAT-7'))).toEqual({ position: 100, avgCost: 10, realized: 0 });
  });

  it('restates the firm average cost when a snapshot restates the same position at another cost, so a per-global daily_loss sees the loss', () => {
    const { engine } = makeEngine([{ id: 'dl-firm', kind: 'daily_loss', per: 'global', thresholds: { hard: 500 } }]);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 50 }], false);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 60 }], false);
    setReference(engine, { AAPL: 50 });
    expect(engine.exposure('ACC-1').unrealizedPnl).toBe(-1_000);
    expect(pnl(firmExposure(engine))).toEqual({ position: 100, avgCost: 60, realized: 0 });
    expect(engine.checkOrder(order({ quantity: 1, price: 50 })).decision).toBe('REJECT');
  });

  it('restates the strategy and firm average cost when a snapshot restates a smaller position', () => {
    const { engine } = makeEngine([]);
    engine.applyPositions([{ accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: 'AAPL', quantity: 100, avgPrice: 50 }], false);
    engine.applyPositions([{ accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: 'AAPL', quantity: 50, avgPrice: 60 }], false);
    expect(pnl(firmExposure(engine))).toEqual({ position: 50, avgCost: 60, realized: 0 });
    expect(pnl(strategyExposure(engine))).toEqual({ position: 50, avgCost: 60, realized: 0 });
  });

  it('keeps a strategy of two accounts at their position-weighted average cost when one of them is restated', () => {
    const { engine } = makeEngine([]);
    engine.applyPositions(
      [
        { accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: 'AAPL', quantity: 100, avgPrice: 50 },
        { accountId: 'ACC-2', strategyId: 'STRAT-1', symbol: 'AAPL', quantity: 300, avgPrice: 70 },
      ],
      false,
    );
    expect(pnl(strategyExposure(engine))).toEqual({ position: 400, avgCost: 65, realized: 0 });
    engine.applyPositions([{ accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: 'AAPL', quantity: 100, avgPrice: 90 }], false);
    expect(pnl(strategyExposure(engine))).toEqual({ position: 400, avgCost: 75, realized: 0 });
    engine.applyPositions([{ accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: 'AAPL', quantity: 200, avgPrice: 40 }], false);
    expect(pnl(strategyExposure(engine))).toEqual({ position: 500, avgCost: 58, realized: 0 });
    expect(pnl(firmExposure(engine))).toEqual({ position: 500, avgCost: 58, realized: 0 });
    // Flat again, the strategy keeps no cost of the account that left.
    engine.applyPositions([{ accountId: 'ACC-2', strategyId: 'STRAT-1', symbol: 'AAPL', quantity: 0, avgPrice: 0 }], false);
    expect(pnl(strategyExposure(engine))).toEqual({ position: 200, avgCost: 40, realized: 0 });
  });

  it('keeps the firm at the sum of its accounts through fills and restatements, and a restatement of what an account holds changes nothing', () => {
    const { engine } = makeEngine([]);
    traded(engine, { quantity: 100, price: 50 });
    traded(engine, { accountId: 'ACC-2', quantity: 100, price: 70 });
    traded(engine, { side: 'SELL', quantity: 50, price: 80 });
    // ACC-1 realized 1,500 against its own 50; the firm realizes what its accounts realize.
    expect(pnl(accountExposure(engine))).toEqual({ position: 50, avgCost: 50, realized: 1_500 });
    const firmIsTheSum = () => {
      const accounts = ['ACC-1', 'ACC-2'].map((id) => accountExposure(engine, id)!);
      const firm = firmExposure(engine)!;
      expect(firm.position).toBe(accounts.reduce((sum, e) => sum + e.position, 0));
      expect(firm.realized).toBe(accounts.reduce((sum, e) => sum + e.realized, 0));
      expect(firm.position * firm.avgCost).toBeCloseTo(accounts.reduce((sum, e) => sum + e.position * e.avgCost, 0), 9);
    };
    firmIsTheSum();
    const before = pnl(firmExposure(engine));
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 50, avgPrice: 50 }], false);
    expect(pnl(firmExposure(engine))).toEqual(before);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 80, avgPrice: 40 }], false);
    expect(firmExposure(engine)?.position).toBe(180);
    firmIsTheSum();
  });

  describe('a firm left flat by snapshots while its accounts hold offsetting positions', () => {
    const firmLoss = { id: 'firm-loss', kind: 'daily_loss', per: 'global', thresholds: { hard: 500 } };
    /** ACC-A long 100 at 60 and ACC-B short 100 at 50: the firm is flat, its accounts' P&L −1,000 at any mark. */
    const offsetting = () => {
      const setup = makeEngine([firmLoss]);
      setup.engine.applyPositions([{ accountId: 'ACC-A', symbol: 'AAPL', quantity: 100, avgPrice: 60 }], false);
      setup.engine.applyPositions([{ accountId: 'ACC-B', symbol: 'AAPL', quantity: -100, avgPrice: 50 }], false);
      setReference(setup.engine, { AAPL: 60 });
      return setup;
    };

    it('keeps their cost basis, so the firm loss is the accounts’ total, through a session reset', () => {
      const { engine } = offsetting();
      engine.upsertLimit({ ...firmLoss, id: 'symbol-loss', per: 'symbol' });
      expect(firmExposure(engine)).toMatchObject({ position: 0, realized: 0, flatCost: 1_000 });
      const increase = order({ accountId: 'ACC-C', strategyId: 'STRAT-C', quantity: 1, price: 60 });
      const losses = (o: typeof increase) => engine.checkOrder(o).violations.map((v) => [v.limitId, v.key, v.value]);
      const expected = [
        ['firm-loss', 'global', 1_000],
        ['symbol-loss', 'symbol:AAPL', 1_000],
      ];
      expect(losses(increase)).toEqual(expected);
      // The accounts keep their positions and costs over a reset, and so does the firm.
      engine.resetSession();
      expect(losses({ ...increase, orderId: 'after-reset' })).toEqual(expected);
    });

    it('keeps it through a round trip of another account across the flat firm, and a reset', () => {
      const { engine } = offsetting();
      engine.upsertLimit({ ...firmLoss, thresholds: { hard: 1e9 } });
      traded(engine, { accountId: 'ACC-C', strategyId: 'STRAT-C', quantity: 10, price: 55 }, 55);
      traded(engine, { accountId: 'ACC-C', strategyId: 'STRAT-C', side: 'SELL', quantity: 10, price: 55 }, 55);
      engine.resetSession();
      engine.upsertLimit(firmLoss);
      expect(engine.checkOrder(order({ accountId: 'ACC-C', strategyId: 'STRAT-C', quantity: 1, price: 60 })).violations[0]?.value).toBe(1_000);
    });

    it('leaves nothing at a firm whose accounts are all flat after a session reset', () => {
      const { engine } = makeEngine([]);
      traded(engine, { accountId: 'A', strategyId: 'T', quantity: 100, price: 60 });
      traded(engine, { accountId: 'B', strategyId: 'T', quantity: 100, price: 40 });
      traded(engine, { accountId: 'A', strategyId: 'T', side: 'SELL', quantity: 100, price: 70 });
      engine.applyPositions([{ accountId: 'B', strategyId: 'T', symbol: 'AAPL', quantity: 0, avgPrice: 0 }], false);
      engine.resetSession();
      engine.upsertLimit({ ...firmLoss, thresholds: { hard: 0 } });
      setReference(engine, { MSFT: 10 });
      expect([firmExposure(engine), engine.ledger.strategies.size]).toEqual([undefined, 0]);
      expect(engine.checkOrder(order({ accountId: 'C', strategyId: 'U', symbol: 'MSFT', quantity: 1, price: 10 })).decision).toBe('ACCEPT');
    });

    it('keeps no rounding dust: levels whose accounts were all restated flat are pruned and show no loss', () => {
      const { engine } = makeEngine([{ ...firmLoss, thresholds: { hard: 0 } }]);
      const rows = (a: number, b: number, strategyId: string) => [
        { accountId: 'A', strategyId, symbol: 'AAPL', quantity: a, avgPrice: 0.1 },
        { accountId: 'B', strategyId, symbol: 'AAPL', quantity: b, avgPrice: 0.1 },
      ];
      for (let i = 0; i < 50; i++) {
        engine.applyPositions(rows(3 + (i % 8), 1, `T${i}`), false);
        engine.applyPositions(rows(0, 0, `T${i}`), false);
      }
      expect([engine.ledger.accounts.size, engine.ledger.firm.size, engine.ledger.strategies.size]).toEqual([0, 0, 0]);
      setReference(engine, { MSFT: 10 });
      expect(engine.checkOrder(order({ accountId: 'C', strategyId: 'U', symbol: 'MSFT', quantity: 1, price: 10 })).decision).toBe('ACCEPT');
    });

    it('starts the next restatement from that basis: the firm is then exactly the account that still holds', () => {
      const { engine } = offsetting();
      engine.applyPositions([{ accountId: 'ACC-A', symbol: 'AAPL', quantity: 0, avgPrice: 0 }], false);
      expect(firmExposure(engine)).toMatchObject({ position: -100, avgCost: 50, flatCost: 0 });
      const result = engine.checkOrder(order({ accountId: 'ACC-B', side: 'SELL', quantity: 1, price: 60 }));
      expect(result).toMatchObject({ decision: 'REJECT', violations: [expect.objectContaining({ value: 1_000 })] });
    });

    it('takes the basis into the position a fill opens from flat, keeping the P&L whole', () => {
      const { engine } = offsetting();
      engine.upsertLimit({ ...firmLoss, thresholds: { hard: 1e9 } });
      traded(engine, { accountId: 'ACC-C', strategyId: 'STRAT-C', quantity: 10, price: 55 }, 55);
      // Accounts at 60: A 0, B −1,000, C +50.
      const firm = firmExposure(engine)!;
      expect(firm.flatCost).toBe(0);
      expect(firm.realized + firm.position * (60 - firm.avgCost)).toBeCloseTo(-950, 9);
    });

    it('keeps the basis through a snapshot of the engine; a replacing snapshot starts the firm from its rows alone', () => {
      const { engine } = offsetting();
      const restored = makeEngine([firmLoss]).engine;
      restored.restoreState(structuredClone(engine.captureState()));
      expect(firmExposure(restored)?.flatCost).toBe(1_000);
      engine.applyPositions([{ accountId: 'ACC-B', symbol: 'AAPL', quantity: -100, avgPrice: 50 }], true);
      expect(firmExposure(engine)).toMatchObject({ position: -100, avgCost: 50, flatCost: 0 });
    });
  });

  describe('strategy and firm rows kept exact enough to be pruned', () => {
    /** Large bases in and out, through two accounts: the firm's sums round to about 1e-8 on the way. */
    const roundTrip = (engine: ReturnType<typeof makeEngine>['engine'], strategyId: string) => {
      traded(engine, { accountId: 'A', strategyId, quantity: 1_000_000, price: 123.4567 });
      traded(engine, { accountId: 'B', strategyId, quantity: 3, price: 1.1 });
      traded(engine, { accountId: 'A', strategyId, quantity: 333_333, price: 101.01 });
      traded(engine, { accountId: 'A', strategyId, side: 'SELL', quantity: 1_333_333, price: 110 });
      traded(engine, { accountId: 'B', strategyId, side: 'SELL', quantity: 3, price: 1.1 });
    };

    it('leaves no rounding dust behind fills: the rows go once every account is flat, and show no loss', () => {
      const { engine } = makeEngine([]);
      for (let day = 0; day < 5; day++) {
        roundTrip(engine, `S${day}`);
        engine.resetSession();
      }
      expect([engine.ledger.accounts.size, engine.ledger.strategies.size, firmExposure(engine)]).toEqual([0, 0, undefined]);
      engine.upsertLimit({ id: 'no-loss', kind: 'daily_loss', per: 'global', thresholds: { hard: 0 } });
      setReference(engine, { MSFT: 10 });
      expect(engine.checkOrder(order({ accountId: 'C', strategyId: 'U', symbol: 'MSFT', quantity: 1, price: 10 })).violations).toEqual([]);
    });

    it('rebuilds the firm rows of an older snapshot (books of their own) from its accounts', () => {
      // What the previous build captured after ACC-1 bought 100 at 10 and ACC-2 sold 50 at 14: its firm
      // realized 200 against its own average, where the accounts realized nothing.
      const older = JSON.parse(
        '{"book":{"version":1,"limits":[]},"ledger":{"lastFills":[["AAPL",14]],"accounts":[{"id":"ACC-1","openCount":0,"exposures":[{"symbol":"AAPL","position":100,"avgCost":10,"realized":0,"openBuy":0,"openSell":0,"openBuyNotional":0,"openSellNotional":0,"openCount":0}]},{"id":"ACC-2","openCount":0,"exposures":[{"symbol":"AAPL","position":-50,"avgCost":14,"realized":0,"openBuy":0,"openSell":0,"openBuyNotional":0,"openSellNotional":0,"openCount":0}]}],"strategies":[{"id":"STRAT-1","openCount":0,"exposures":[{"symbol":"AAPL","position":50,"avgCost":10,"realized":200,"openBuy":0,"openSell":0,"openBuyNotional":0,"openSellNotional":0,"openCount":0}]}],"firm":{"id":"firm","openCount":0,"exposures":[{"symbol":"AAPL","position":50,"avgCost":10,"realized":200,"openBuy":0,"openSell":0,"openBuyNotional":0,"openSellNotional":0,"openCount":0}]},"openOrders":[],"closed":[]},"windows":{},"violations":{"nextSeq":1,"nextViolation":1,"evictedActive":0,"active":[],"history":[]},"tradingStates":[],"expiredOrders":0,"openBatches":[],"batches":0}',
      ) as ReturnType<typeof engine.captureState>;
      const { engine } = makeEngine([]);
      engine.restoreState(structuredClone(older));
      const firm = firmExposure(engine)!;
      expect([firm.position, firm.position * firm.avgCost, firm.realized]).toEqual([50, 300, 0]);
      traded(engine, { accountId: 'ACC-1', side: 'SELL', quantity: 100, price: 10 });
      traded(engine, { accountId: 'ACC-2', quantity: 50, price: 14 });
      engine.resetSession();
      expect(firmExposure(engine)).toBeUndefined();
      expect(engine.captureState().ledger.aggregatesAddUp).toBe(true);
    });
  });

  it('removes a position set to zero by a snapshot', () => {
    const { engine } = makeEngine([]);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 10 }], false);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 0, avgPrice: 0 }], false);
    expect(accountExposure(engine)).toBeUndefined();
    expect(engine.ledger.positionCount).toBe(0);
  });

  it('zeroes realized P&L at every level on a session reset and keeps positions and average cost', () => {
    const { engine } = makeEngine([]);
    traded(engine, { quantity: 100, price: 10 });
    traded(engine, { side: 'SELL', quantity: 50, price: 12 });
    engine.resetSession();
    expect(pnl(accountExposure(engine))).toEqual({ position: 50, avgCost: 10, realized: 0 });
    expect(pnl(strategyExposure(engine))).toEqual({ position: 50, avgCost: 10, realized: 0 });
    expect(pnl(firmExposure(engine))).toEqual({ position: 50, avgCost: 10, realized: 0 });
  });

  it('drops a flat exposure whose only content was realized P&L on a session reset', () => {
    const { engine } = makeEngine([]);
    traded(engine, { quantity: 100, price: 10 });
    traded(engine, { side: 'SELL', quantity: 100, price: 12 });
    engine.resetSession();
    expect(accountExposure(engine)).toBeUndefined();
    expect(engine.ledger.positionCount).toBe(0);
  });

  it('reports marks, P&L and worst-case gross notional in the exposure view', () => {
    const { engine } = makeEngine([]);
    traded(engine, { quantity: 100, price: 10 });
    traded(engine, { side: 'SELL', quantity: 20, price: 11 });
    accepted(engine, { quantity: 30, price: 12 });
    setReference(engine, { AAPL: 12 });
    const view = engine.exposure('ACC-1');
    expect(view).toMatchObject({ accountId: 'ACC-1', openOrders: 1, realizedPnl: 20, unrealizedPnl: 160, grossNotional: 1_320 });
    expect(view.positions[0]).toMatchObject({ symbol: 'AAPL', quantity: 80, avgPrice: 10, openBuyQuantity: 30, markPrice: 12 });
  });

  it('reports unrealized P&L at the fresh reference only, as daily_loss counts it: unknown once it is stale', () => {
    const { engine, clock } = makeEngine([{ id: 'loss', kind: 'daily_loss', thresholds: { hard: 1_000 } }]);
    traded(engine, { quantity: 100, price: 100 });
    setReference(engine, { AAPL: 80 });
    expect(engine.exposure('ACC-1').unrealizedPnl).toBe(-2_000);
    clock.advance(10_000);
    expect(engine.checkOrder(order({ quantity: 1, price: 80 })).reasons).toEqual(['NO_REFERENCE_PRICE']);
    const view = engine.exposure('ACC-1');
    // The notional mark still falls back to the last fill; the P&L does not.
    expect(view.positions[0]).toMatchObject({ markPrice: 100, unrealizedPnl: null, grossNotional: 10_000 });
    expect(view.unrealizedPnl).toBeNull();
  });
});
