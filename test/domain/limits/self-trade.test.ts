import { describe, expect, it } from 'vitest';
import { makeEngine, order } from '../../support/engine-fixtures.js';
import { accepted, accountExposure, cancel, setReference } from '../../support/engine-actions.js';

const selfTrade = { id: 'wash', kind: 'self_trade', thresholds: { hard: 0 } };

describe('self_trade limit', () => {
  it('rejects a buy priced at its own open sell', () => {
    const { engine } = makeEngine([selfTrade]);
    accepted(engine, { side: 'SELL', price: 100 });
    const result = engine.checkOrder(order({ side: 'BUY', price: 100 }));
    expect(result.reasons).toEqual(['LIMIT_BREACH']);
    expect(result.violations[0]).toMatchObject({ value: 1, threshold: 0, key: 'account+symbol:ACC-1|AAPL' });
  });

  it('accepts a buy priced below its own open sell', () => {
    const { engine } = makeEngine([selfTrade]);
    accepted(engine, { side: 'SELL', price: 100 });
    expect(engine.checkOrder(order({ side: 'BUY', price: 99.99 }))).toMatchObject({ decision: 'ACCEPT', violations: [], evaluated: 1 });
  });

  it('rejects a sell priced at its own open buy', () => {
    const { engine } = makeEngine([selfTrade]);
    accepted(engine, { side: 'BUY', price: 100 });
    expect(engine.checkOrder(order({ side: 'SELL', price: 100 })).decision).toBe('REJECT');
  });

  it('accepts a sell priced above its own open buy', () => {
    const { engine } = makeEngine([selfTrade]);
    accepted(engine, { side: 'BUY', price: 100 });
    expect(engine.checkOrder(order({ side: 'SELL', price: 100.01 })).decision).toBe('ACCEPT');
  });

  it('rejects a buy that crosses the lowest of several open sells', () => {
    const { engine } = makeEngine([selfTrade]);
    accepted(engine, { side: 'SELL', price: 105 });
    accepted(engine, { side: 'SELL', price: 101 });
    expect(engine.checkOrder(order({ side: 'BUY', price: 102 })).decision).toBe('REJECT');
  });

  it('does not treat orders on the same side as crossing', () => {
    const { engine } = makeEngine([selfTrade]);
    accepted(engine, { side: 'BUY', price: 100 });
    expect(engine.checkOrder(order({ side: 'BUY', price: 200 })).decision).toBe('ACCEPT');
  });

  it('rejects a MARKET buy without a price when any own sell is open', () => {
    const { engine } = makeEngine([selfTrade]);
    accepted(engine, { side: 'SELL', price: 1_000 });
    expect(engine.checkOrder(order({ side: 'BUY', orderType: 'MARKET', price: undefined })).decision).toBe('REJECT');
  });

  it.each([
    ['BUY', 'SELL', 90, 100],
    ['SELL', 'BUY', 110, 100],
  ] as const)('rejects an incoming MARKET %s that carries a price away from its own resting %s: it executes at any price', (side, restingSide, price, restingPrice) => {
    const { engine } = makeEngine([selfTrade]);
    accepted(engine, { side: restingSide, price: restingPrice });
    expect(engine.checkOrder(order({ side, orderType: 'MARKET', price })).reasons).toEqual(['LIMIT_BREACH']);
  });

  it('accepts a MARKET order without a price when nothing is open on the other side', () => {
    const { engine } = makeEngine([selfTrade]);
    accepted(engine, { side: 'BUY', price: 100 });
    expect(engine.checkOrder(order({ side: 'BUY', orderType: 'MARKET', price: undefined })).decision).toBe('ACCEPT');
  });

  it('treats a resting MARKET sell as crossing every buy, whatever price it was reserved at', () => {
    const { engine } = makeEngine([selfTrade]);
    setReference(engine, { AAPL: 100 });
    accepted(engine, { side: 'SELL', orderType: 'MARKET', price: undefined });
    expect(engine.checkOrder(order({ side: 'BUY', price: 99 })).decision).toBe('REJECT');
    expect(engine.checkOrder(order({ side: 'BUY', price: 0.01 })).decision).toBe('REJECT');
    // Its reservation is still at the reference price.
    expect(accountExposure(engine)?.openSellNotional).toBe(10_000);
  });

  it("rejects a sell against the account's own resting MARKET buy accepted without any price", () => {
    const { engine } = makeEngine([selfTrade]);
    accepted(engine, { side: 'BUY', orderType: 'MARKET', price: undefined });
    expect(engine.checkOrder(order({ side: 'SELL', price: 100 })).decision).toBe('REJECT');
  });

  it('rejects a sell above the reference a resting MARKET buy was reserved at', () => {
    const { engine } = makeEngine([selfTrade]);
    setReference(engine, { AAPL: 100 });
    accepted(engine, { side: 'BUY', orderType: 'MARKET', price: undefined });
    expect(engine.checkOrder(order({ side: 'SELL', price: 101 })).decision).toBe('REJECT');
    expect(accountExposure(engine)?.openBuyNotional).toBe(10_000);
  });

  it('treats a resting MARKET order that carried a price as crossing every order on the other side', () => {
    const { engine } = makeEngine([selfTrade]);
    accepted(engine, { side: 'BUY', orderType: 'MARKET', price: 100 });
    expect(engine.checkOrder(order({ side: 'SELL', price: 150 })).decision).toBe('REJECT');
  });

  it('no longer crosses once a resting MARKET buy is cancelled, and a LIMIT buy beside it is compared at its price again', () => {
    const { engine } = makeEngine([selfTrade]);
    const market = accepted(engine, { side: 'BUY', orderType: 'MARKET', price: undefined });
    accepted(engine, { side: 'BUY', price: 100 });
    expect(engine.checkOrder(order({ side: 'SELL', price: 101 })).decision).toBe('REJECT');
    cancel(engine, market);
    expect(engine.checkOrder(order({ side: 'SELL', price: 101 })).decision).toBe('ACCEPT');
    expect(engine.checkOrder(order({ side: 'SELL', price: 100 })).decision).toBe('REJECT');
  });

  it('sees a resting MARKET order of another account when per is symbol', () => {
    const { engine } = makeEngine([{ ...selfTrade, per: 'symbol' }]);
    setReference(engine, { AAPL: 100 });
    accepted(engine, { accountId: 'ACC-2', strategyId: 'STRAT-2', side: 'SELL', orderType: 'MARKET', price: undefined });
    expect(engine.checkOrder(order({ side: 'BUY', price: 99 })).violations[0]?.key).toBe('symbol:AAPL');
  });

  it('no longer crosses an open sell once it is cancelled', () => {
    const { engine } = makeEngine([selfTrade]);
    cancel(engine, accepted(engine, { side: 'SELL', price: 100 }));
    expect(engine.checkOrder(order({ side: 'BUY', price: 100 })).decision).toBe('ACCEPT');
  });

  it("ignores another account's open sell when per is account+symbol", () => {
    const { engine } = makeEngine([selfTrade]);
    accepted(engine, { accountId: 'ACC-2', side: 'SELL', price: 100 });
    expect(engine.checkOrder(order({ side: 'BUY', price: 100 })).decision).toBe('ACCEPT');
  });

  it("catches a cross with another account's open sell when per is symbol", () => {
    const { engine } = makeEngine([{ ...selfTrade, per: 'symbol' }]);
    accepted(engine, { accountId: 'ACC-2', strategyId: 'STRAT-2', side: 'SELL', price: 100 });
    expect(engine.checkOrder(order({ side: 'BUY', price: 100 })).violations[0]?.key).toBe('symbol:AAPL');
  });

  it('catches a cross between accounts of one strategy when per is strategy+symbol', () => {
    const { engine } = makeEngine([{ ...selfTrade, per: 'strategy+symbol' }]);
    accepted(engine, { accountId: 'ACC-2', side: 'SELL', price: 100 });
    accepted(engine, { accountId: 'ACC-3', strategyId: 'STRAT-2', side: 'SELL', price: 90 });
    expect(engine.checkOrder(order({ side: 'BUY', price: 95 })).decision).toBe('ACCEPT');
    expect(engine.checkOrder(order({ side: 'BUY', price: 100 })).violations[0]?.key).toBe('strategy+symbol:STRAT-1|AAPL');
  });

  it('follows the lowest open sell of other accounts at strategy and firm level as the head, the tail and the last leave', () => {
    // Both levels list orders at once, each through its own links.
    const { engine } = makeEngine([
      { ...selfTrade, id: 'wash-strategy', per: 'strategy+symbol' },
      { ...selfTrade, id: 'wash-firm', per: 'symbol' },
    ]);
    let n = 0;
    const crosses = (price: number): boolean => {
      const buy = order({ orderId: `buy-${++n}`, side: 'BUY', price });
      const result = engine.checkOrder(buy);
      if (result.decision === 'ACCEPT') cancel(engine, buy);
      return result.decision === 'REJECT';
    };
    const oldest = accepted(engine, { orderId: 's-1', accountId: 'ACC-2', side: 'SELL', price: 101 });
    const middle = accepted(engine, { orderId: 's-2', accountId: 'ACC-3', side: 'SELL', price: 103 });
    const newest = accepted(engine, { orderId: 's-3', accountId: 'ACC-4', side: 'SELL', price: 102 });
    expect([crosses(100.99), crosses(101)]).toEqual([false, true]);
    cancel(engine, oldest);
    expect([crosses(101.99), crosses(102)]).toEqual([false, true]);
    cancel(engine, newest);
    expect([crosses(102.99), crosses(103)]).toEqual([false, true]);
    cancel(engine, middle);
    expect(crosses(1_000)).toBe(false);
  });

  it('follows the lowest open sell as sells come and go', () => {
    const { engine } = makeEngine([selfTrade]);
    const low = accepted(engine, { side: 'SELL', price: 101 });
    accepted(engine, { side: 'SELL', price: 103 });
    expect(engine.checkOrder(order({ side: 'BUY', price: 102 })).decision).toBe('REJECT');
    cancel(engine, low);
    expect(engine.checkOrder(order({ side: 'BUY', price: 102 })).decision).toBe('ACCEPT');
    expect(engine.checkOrder(order({ side: 'BUY', price: 103 })).decision).toBe('REJECT');
    accepted(engine, { side: 'SELL', price: 102.5 });
    expect(engine.checkOrder(order({ side: 'BUY', price: 102.5 })).decision).toBe('REJECT');
  });
});
