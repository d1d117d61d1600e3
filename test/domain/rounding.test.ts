import { describe, expect, it } from 'vitest';
import { makeEngine, order } from '../support/engine-fixtures.js';
import { accepted, accountExposure, cancel, fill, firmExposure, setReference, strategyExposure, traded } from '../support/engine-actions.js';

/** Fractional quantities (coins, FX lots) and decimal prices: what binary rounding leaves is not traded. */
describe('positions closed up to rounding are flat', () => {
  it('takes 0.1 + 0.2 − 0.3 (5.6e-17) as flat at every level: no reference is needed for it', () => {
    const { engine, clock } = makeEngine([{ id: 'loss', kind: 'daily_loss', per: 'global', thresholds: { hard: 1e9 } }]);
    setReference(engine, { AAPL: 100 });
    traded(engine, { quantity: 0.1, price: 100 });
    traded(engine, { quantity: 0.2, price: 100 });
    traded(engine, { side: 'SELL', quantity: 0.3, price: 100 });
    expect([accountExposure(engine)?.position ?? 0, strategyExposure(engine)?.position ?? 0, firmExposure(engine)?.position ?? 0]).toEqual([0, 0, 0]);
    clock.advance(5_001);
    expect(engine.checkOrder(order({ symbol: 'MSFT', quantity: 1, price: 10 })).decision).toBe('ACCEPT');
  });

  it('judges the rounding against the largest position held since flat: 1e8 + 0.3 − 1e8 − 0.3 leaves 3e-9', () => {
    const { engine } = makeEngine([]);
    traded(engine, { quantity: 1e8, price: 1 });
    traded(engine, { quantity: 0.3, price: 1 });
    traded(engine, { side: 'SELL', quantity: 1e8, price: 1 });
    traded(engine, { side: 'SELL', quantity: 0.3, price: 1 });
    expect([accountExposure(engine)?.position ?? 0, firmExposure(engine)?.position ?? 0]).toEqual([0, 0]);
  });

  it('takes the firm as flat when each account is: one round trip of 1e8, another of 0.3, and no stale reference matters', () => {
    const { engine, clock } = makeEngine([{ id: 'firm-loss', kind: 'daily_loss', per: 'global', thresholds: { hard: 1_000 } }]);
    setReference(engine, { SHIB: 1, AAPL: 100 });
    traded(engine, { accountId: 'ACC-1', symbol: 'SHIB', quantity: 1e8, price: 1 });
    traded(engine, { accountId: 'ACC-2', symbol: 'SHIB', quantity: 0.3, price: 1 });
    traded(engine, { accountId: 'ACC-1', symbol: 'SHIB', side: 'SELL', quantity: 1e8, price: 1 });
    traded(engine, { accountId: 'ACC-2', symbol: 'SHIB', side: 'SELL', quantity: 0.3, price: 1 });
    expect(firmExposure(engine, 'SHIB')?.position ?? 0).toBe(0);
    clock.advance(10_000);
    setReference(engine, { AAPL: 100 });
    expect(engine.checkOrder(order({ accountId: 'ACC-3', symbol: 'AAPL', quantity: 1, price: 100 })).reasons).toEqual([]);
  });

  it("takes the firm as flat after 3,000 accounts' fractional round trips (its sum ends 9e-13 from zero)", () => {
    const { engine } = makeEngine([]);
    const lots = Array.from({ length: 3_000 }, (_, i) => Math.round((0.001 + ((i * 7919) % 1000) / 997) * 1e8) / 1e8);
    lots.forEach((quantity, i) => traded(engine, { accountId: `F${i}`, quantity, price: 100 }));
    lots.forEach((quantity, i) => traded(engine, { accountId: `F${i}`, side: 'SELL', quantity, price: 100 }));
    expect(firmExposure(engine)?.position ?? 0).toBe(0);
    engine.resetSession();
    expect(firmExposure(engine)).toBeUndefined();
  });

  it('takes as flat what one addition rounds at a large size: 987,654,321.7 + 0.1 − 987,654,321.8 leaves 1.2e-7', () => {
    const { engine } = makeEngine([]);
    traded(engine, { quantity: 987_654_321.7, price: 1 });
    traded(engine, { quantity: 0.1, price: 1 });
    traded(engine, { side: 'SELL', quantity: 987_654_321.8, price: 1 });
    expect([accountExposure(engine)?.position ?? 0, firmExposure(engine)?.position ?? 0]).toEqual([0, 0]);
  });
});

describe('real remainders stay', () => {
  it('keeps a satoshi left of 10,000 coins', () => {
    const { engine } = makeEngine([]);
    traded(engine, { quantity: 10_000, price: 100 });
    traded(engine, { side: 'SELL', quantity: 9_999.99999999, price: 100 });
    expect(accountExposure(engine)?.position).toBeCloseTo(1e-8, 10);
    expect(firmExposure(engine)?.position).toBeCloseTo(1e-8, 10);
  });

  it('keeps the 0.05 left of a 1e12 long after selling 999,999,999,999.95', () => {
    const { engine } = makeEngine([]);
    traded(engine, { quantity: 1e12, price: 1 });
    traded(engine, { side: 'SELL', quantity: 999_999_999_999.95, price: 1 });
    expect(accountExposure(engine)?.position ?? 0).toBeCloseTo(0.05, 3);
  });

  it('keeps positions built of fills below a billionth of a unit', () => {
    const { engine } = makeEngine([]);
    for (let i = 0; i < 4; i++) traded(engine, { quantity: 5e-10, price: 100 });
    expect(accountExposure(engine)?.position ?? 0).toBeCloseTo(2e-9, 15);
  });
});

describe('orders filled up to rounding are closed', () => {
  const filledInTwo = (engine: ReturnType<typeof makeEngine>['engine']) => {
    const o = accepted(engine, { quantity: 1, price: 100 });
    fill(engine, o, 0.7, 100);
    fill(engine, o, 0.3, 100);
    return o;
  };

  it('closes an order whose fills add up to its quantity (0.7 + 0.3 of 1)', () => {
    const { engine } = makeEngine([]);
    const o = filledInTwo(engine);
    expect(engine.ledger.openOrder('ACC-1', o.orderId)).toBeUndefined();
    expect(engine.ledger.openOrderCount).toBe(0);
  });

  it('closes it after many small fills of a large order, where the last fill is small against the rounding', () => {
    const { engine } = makeEngine([]);
    // 100 − 333 × 0.3 leaves 0.10000000000058884; the last fill of 0.1 then leaves 5.9e-13.
    const o = accepted(engine, { quantity: 100, price: 100 });
    for (let i = 0; i < 333; i++) fill(engine, o, 0.3, 100);
    fill(engine, o, 0.1, 100);
    expect(engine.ledger.openOrder('ACC-1', o.orderId)).toBeUndefined();
  });

  it('neither self_trade nor open_orders sees a fully filled order as resting', () => {
    const { engine } = makeEngine([
      { id: 'wash', kind: 'self_trade', thresholds: { hard: 0 } },
      { id: 'oo', kind: 'open_orders', thresholds: { hard: 1 } },
    ]);
    filledInTwo(engine);
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 1, price: 100 })).reasons).toEqual([]);
  });
});

describe('orders that land on flat up to rounding are reducing', () => {
  it('lets REDUCE_ONLY accept the sell of 0.8 that closes a long of 0.1 + 0.7 (0.7999999999999999)', () => {
    const { engine } = makeEngine([]);
    traded(engine, { quantity: 0.1, price: 100 });
    traded(engine, { quantity: 0.7, price: 100 });
    engine.setTradingState('account', 'ACC-1', 'REDUCE_ONLY', 'test');
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 0.8, price: 100 })).reasons).toEqual([]);
  });

  it('lets REDUCE_ONLY accept the buy of 0.8 that covers a short of 0.1 + 0.7', () => {
    const { engine } = makeEngine([]);
    traded(engine, { side: 'SELL', quantity: 0.1, price: 100 });
    traded(engine, { side: 'SELL', quantity: 0.7, price: 100 });
    engine.setTradingState('account', 'ACC-1', 'REDUCE_ONLY', 'test');
    expect(engine.checkOrder(order({ side: 'BUY', quantity: 0.8, price: 100 })).reasons).toEqual([]);
  });

  it('does not let daily_loss block the sell that closes a losing fractional long', () => {
    const { engine } = makeEngine([{ id: 'loss', kind: 'daily_loss', thresholds: { hard: 1 } }]);
    setReference(engine, { AAPL: 100 });
    traded(engine, { quantity: 0.1, price: 100 });
    traded(engine, { quantity: 0.7, price: 100 });
    setReference(engine, { AAPL: 50 });
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 0.8, price: 50 })).reasons).toEqual([]);
  });
});

describe('prices equal up to rounding make no P&L', () => {
  it('lets a zero-loss limit accept when every fill was at the reference (0.1 and 0.7 at 100.1 average 100.10000000000001)', () => {
    const { engine } = makeEngine([{ id: 'no-loss', kind: 'daily_loss', thresholds: { hard: 0 } }]);
    setReference(engine, { AAPL: 100.1 });
    traded(engine, { quantity: 0.1, price: 100.1 });
    traded(engine, { quantity: 0.7, price: 100.1 });
    expect(engine.checkOrder(order({ quantity: 0.1, price: 100.1 })).reasons).toEqual([]);
    expect(engine.exposure('ACC-1').unrealizedPnl).toBe(0);
  });

  it('realizes nothing on a round trip at one price, so a zero-loss limit still accepts', () => {
    const { engine } = makeEngine([]);
    setReference(engine, { AAPL: 100.1 });
    traded(engine, { quantity: 0.1, price: 100.1 });
    traded(engine, { quantity: 0.7, price: 100.1 });
    traded(engine, { side: 'SELL', quantity: 0.8, price: 100.1 });
    expect(accountExposure(engine)).toBeUndefined();
    engine.upsertLimit({ id: 'no-loss', kind: 'daily_loss', thresholds: { hard: 0 } });
    expect(engine.checkOrder(order({ quantity: 0.1, price: 100.1 })).reasons).toEqual([]);
  });
});

describe('open sums emptied up to rounding are empty', () => {
  /** Sells of 0.001, 4 and 0.1 cancelled last first: the sum keeps 3.3e-16 of the 4 (0.001 + 4 + 0.1 − 0.1 − 4 − 0.001). */
  function offeredAndCancelled(engine: ReturnType<typeof makeEngine>['engine']): void {
    const sells = [0.001, 4, 0.1].map((quantity) => accepted(engine, { side: 'SELL', quantity, price: 101 }));
    for (const sell of sells.reverse()) cancel(engine, sell);
  }

  it('keeps no open sell once a 0.001, a 4 and a 0.1 are cancelled, while a buy stays open beside them', () => {
    const { engine } = makeEngine([]);
    accepted(engine, { side: 'BUY', quantity: 0.001, price: 100 });
    offeredAndCancelled(engine);
    const e = accountExposure(engine)!;
    expect([e.openSell, e.openSellNotional, e.openBuy]).toEqual([0, 0, 0.001]);
  });

  it('lets REDUCE_ONLY accept the sell of 0.001 that closes a long of 0.001 after sells were offered and cancelled', () => {
    const { engine } = makeEngine([]);
    traded(engine, { side: 'BUY', quantity: 0.001, price: 100 });
    accepted(engine, { side: 'BUY', quantity: 0.001, price: 99 });
    offeredAndCancelled(engine);
    engine.setTradingState('account', 'ACC-1', 'REDUCE_ONLY', 'test');
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 0.001, price: 101 })).decision).toBe('ACCEPT');
  });
});

describe('open sums after a restart', () => {
  it.each([
    { side: 'SELL', price: 101, other: { side: 'BUY', price: 100 }, sum: 'openSell' },
    { side: 'BUY', price: 99, other: { side: 'SELL', price: 101 }, sum: 'openBuy' },
  ] as const)('a snapshot keeps what an open $side sum is judged against: the last cancel empties it on the restored engine too', ({ side, price, other, sum }) => {
    const { engine } = makeEngine([]);
    accepted(engine, { ...other, quantity: 0.001 });
    const orders = [0.001, 4, 0.1].map((quantity) => accepted(engine, { side, quantity, price }));
    cancel(engine, orders[2]!);
    cancel(engine, orders[1]!);
    const { engine: restored } = makeEngine([]);
    restored.restoreState(JSON.parse(JSON.stringify(engine.captureState())) as ReturnType<typeof engine.captureState>);
    for (const e of [engine, restored]) cancel(e, orders[0]!);
    expect([accountExposure(engine)![sum], accountExposure(restored)![sum]]).toEqual([0, 0]);
  });
});

describe('a position limit sees an order landing on flat up to rounding as flat', () => {
  it('does not stop the buy of 0.3 that covers a short of 0.1 + 0.2 under a flat-only limit (hard 0)', () => {
    const { engine } = makeEngine([]);
    traded(engine, { side: 'SELL', quantity: 0.1, price: 100 });
    traded(engine, { side: 'SELL', quantity: 0.2, price: 100 });
    expect(accountExposure(engine)!.position).toBe(-0.30000000000000004);
    engine.replaceLimits([{ id: 'flat-only', kind: 'position', thresholds: { hard: 0 } }]);
    // A real remainder still counts: 0.2 leaves a short of 0.1.
    expect(engine.checkOrder(order({ side: 'BUY', quantity: 0.2, price: 100 })).decision).toBe('REJECT');
    const result = engine.checkOrder(order({ side: 'BUY', quantity: 0.3, price: 100 }));
    expect([result.decision, result.violations]).toEqual(['ACCEPT', []]);
  });
});
