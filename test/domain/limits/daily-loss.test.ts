import { describe, expect, it, vi } from 'vitest';
import { CheckContext } from '../../../src/domain/check-context.js';
import type { PositionRow } from '../../../src/domain/orders.js';
import { makeEngine, order } from '../../support/engine-fixtures.js';
import { accepted, setReference, traded } from '../../support/engine-actions.js';

const loss = { id: 'loss', kind: 'daily_loss', thresholds: { hard: 1_000 } };
const long100: PositionRow = { accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: 'AAPL', quantity: 100, avgPrice: 100 };

/** ACC-1 long 100 AAPL at 100, marked at `mark`: unrealized P&L is 100 × (mark − 100). */
function longAt(mark: number, limit: object = loss) {
  const setup = makeEngine([limit]);
  setup.engine.applyPositions([long100], false);
  setReference(setup.engine, { AAPL: mark });
  return setup;
}

describe('daily_loss limit', () => {
  it('accepts a buy when the loss equals hard', () => {
    const { engine } = longAt(90);
    expect(engine.checkOrder(order({ quantity: 1, price: 90 }))).toMatchObject({ decision: 'ACCEPT', violations: [], evaluated: 1 });
  });

  it('rejects a buy when the loss is a small epsilon above hard', () => {
    const { engine } = longAt(89.99);
    const result = engine.checkOrder(order({ quantity: 1, price: 90 }));
    expect(result.reasons).toEqual(['LIMIT_BREACH']);
    expect(result.violations[0]?.key).toBe('account:ACC-1');
    expect(result.violations[0]?.value).toBeCloseTo(1_001, 9);
  });

  it('does not evaluate a sell that only reduces the long', () => {
    const { engine } = longAt(89.5);
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 50, price: 89.5 }))).toMatchObject({ decision: 'ACCEPT', violations: [], evaluated: 0 });
  });

  it('does not evaluate a sell that brings the long exactly to flat', () => {
    const { engine } = longAt(89.5);
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 100, price: 89.5 })).evaluated).toBe(0);
  });

  it('rejects a sell that would flip the long into a short', () => {
    const { engine } = longAt(89.5);
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 101, price: 89.5 })).violations[0]?.value).toBe(1_050);
  });

  it('evaluates a sell that would flip once the open sells fill too', () => {
    const { engine } = longAt(89.5);
    accepted(engine, { side: 'SELL', quantity: 60, price: 89.5 });
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 50, price: 89.5 })).decision).toBe('REJECT');
  });

  it('does not evaluate a buy that only reduces a short', () => {
    const { engine } = makeEngine([loss]);
    engine.applyPositions([{ ...long100, quantity: -100 }], false);
    setReference(engine, { AAPL: 110.5 });
    expect(engine.checkOrder(order({ side: 'BUY', quantity: 50, price: 110.5 }))).toMatchObject({ decision: 'ACCEPT', evaluated: 0 });
  });

  it('rejects a sell that adds to a losing short', () => {
    const { engine } = makeEngine([loss]);
    engine.applyPositions([{ ...long100, quantity: -100 }], false);
    setReference(engine, { AAPL: 110.5 });
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 1, price: 110.5 })).violations[0]?.value).toBe(1_050);
  });

  it('counts a realized loss after the position is flat', () => {
    const { engine } = makeEngine([loss]);
    traded(engine, { quantity: 100, price: 100 });
    traded(engine, { side: 'SELL', quantity: 100, price: 89 });
    expect(engine.checkOrder(order({ quantity: 1, price: 89 })).violations[0]?.value).toBe(1_100);
  });

  it('offsets a loss in one symbol with a gain in another', () => {
    const { engine } = longAt(89.5);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'MSFT', quantity: 10, avgPrice: 100 }], false);
    setReference(engine, { MSFT: 160 });
    expect(engine.checkOrder(order({ quantity: 1, price: 89.5 })).decision).toBe('ACCEPT');
  });

  it('scores a profitable account as zero', () => {
    const { engine } = longAt(110, { ...loss, thresholds: { hard: 0 } });
    expect(engine.checkOrder(order({ quantity: 1, price: 110 }))).toMatchObject({ decision: 'ACCEPT', violations: [], evaluated: 1 });
  });

  it("does not mark a position at the order's own price: without a reference the loss is unknown", () => {
    const { engine } = makeEngine([loss]);
    engine.applyPositions([long100], false);
    // Marked at 110 the position would show a gain; marked at 89.5, a loss over hard.
    for (const price of [110, 89.5]) {
      expect(engine.checkOrder(order({ quantity: 1, price }))).toMatchObject({ decision: 'REJECT', reasons: ['NO_REFERENCE_PRICE'], violations: [] });
    }
  });

  it('does not mark a position at its last fill once the reference is stale: the loss the reference showed stays', () => {
    const { engine, clock } = makeEngine([loss]);
    traded(engine, { quantity: 100, price: 100 });
    setReference(engine, { AAPL: 50 });
    expect(engine.checkOrder(order({ quantity: 1, price: 50 })).violations[0]?.value).toBe(5_000);
    clock.advance(5_001);
    expect(engine.checkOrder(order({ quantity: 1, price: 50 }))).toMatchObject({ decision: 'REJECT', reasons: ['NO_REFERENCE_PRICE'], violations: [] });
  });

  it('needs no reference for a flat position: its realized P&L alone counts', () => {
    const { engine } = makeEngine([loss]);
    traded(engine, { quantity: 100, price: 100 });
    traded(engine, { side: 'SELL', quantity: 100, price: 95 });
    expect(engine.checkOrder(order({ quantity: 1, price: 95 }))).toMatchObject({ decision: 'ACCEPT', evaluated: 1 });
  });

  it('rejects with NO_REFERENCE_PRICE when another held symbol has no mark', () => {
    const { engine } = makeEngine([loss]);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'MSFT', quantity: 10, avgPrice: 100 }], false);
    expect(engine.checkOrder(order({ quantity: 1, price: 100 }))).toMatchObject({ reasons: ['NO_REFERENCE_PRICE'], violations: [] });
  });

  it('leaves the active violation in place when a reducing order skips the limit', () => {
    const { engine } = longAt(89.5);
    engine.checkOrder(order({ quantity: 1, price: 89.5 }));
    engine.checkOrder(order({ side: 'SELL', quantity: 10, price: 89.5 }));
    expect(engine.violations.active({ limitId: 'loss' })).toHaveLength(1);
  });

  it('resolves the active violation when the loss recovers to within hard', () => {
    const { engine } = longAt(89.5);
    engine.checkOrder(order({ quantity: 1, price: 89.5 }));
    setReference(engine, { AAPL: 95 });
    engine.checkOrder(order({ quantity: 1, price: 95 }));
    expect(engine.violations.active({ limitId: 'loss' })).toEqual([]);
  });

  it('forgets realized losses after a session reset', () => {
    const { engine } = makeEngine([loss]);
    traded(engine, { quantity: 100, price: 100 });
    traded(engine, { side: 'SELL', quantity: 100, price: 89 });
    engine.resetSession();
    expect(engine.checkOrder(order({ quantity: 1, price: 89 })).decision).toBe('ACCEPT');
  });

  it('adds up the accounts of one strategy when per is strategy', () => {
    const { engine } = longAt(89.5, { ...loss, per: 'strategy' });
    const result = engine.checkOrder(order({ accountId: 'ACC-2', quantity: 1, price: 89.5, symbol: 'AAPL' }));
    expect(result.violations[0]).toMatchObject({ value: 1_050, key: 'strategy:STRAT-1' });
  });

  it('keeps accounts apart when per is account', () => {
    const { engine } = longAt(89.5);
    expect(engine.checkOrder(order({ accountId: 'ACC-2', quantity: 1, price: 89.5 })).decision).toBe('ACCEPT');
  });

  it('adds up every account when per is global', () => {
    const { engine } = longAt(89.5, { ...loss, per: 'global' });
    expect(engine.checkOrder(order({ accountId: 'ACC-2', strategyId: 'STRAT-2', quantity: 1, price: 89.5 })).violations[0]?.key).toBe('global');
  });

  it('adds up every account in the symbol when per is symbol', () => {
    const { engine } = longAt(89.5, { ...loss, per: 'symbol' });
    const result = engine.checkOrder(order({ accountId: 'ACC-2', strategyId: 'STRAT-2', quantity: 1, price: 89.5 }));
    expect(result.violations[0]).toMatchObject({ value: 1_050, key: 'symbol:AAPL' });
  });

  it('counts only the order\'s symbol when per is account+symbol', () => {
    const { engine } = longAt(89.5, { ...loss, per: 'account+symbol' });
    setReference(engine, { MSFT: 10 });
    expect(engine.checkOrder(order({ symbol: 'MSFT', quantity: 1, price: 10 })).decision).toBe('ACCEPT');
    expect(engine.checkOrder(order({ quantity: 1, price: 89.5 })).violations[0]?.key).toBe('account+symbol:ACC-1|AAPL');
  });

  it('walks the account once for two limits over it, and again for the next order', () => {
    const { engine } = makeEngine([{ ...loss, id: 'loss-warn', thresholds: { warn: 500, hard: 1e9 } }, loss]);
    engine.applyPositions([long100, { ...long100, symbol: 'MSFT', quantity: 10, avgPrice: 10 }], false);
    setReference(engine, { AAPL: 94, MSFT: 10 });
    const marks = vi.spyOn(CheckContext.prototype, 'referenceOf');
    engine.checkOrder(order({ quantity: 1, price: 94 }));
    // The walk reads the MSFT row's mark once for both limits (the order's own AAPL is marked apart).
    const perOrder = marks.mock.calls.filter(([market]) => market.symbol === 'MSFT').length;
    engine.checkOrder(order({ quantity: 1, price: 94 }));
    const twoOrders = marks.mock.calls.filter(([market]) => market.symbol === 'MSFT').length;
    marks.mockRestore();
    expect([perOrder, twoOrders]).toEqual([1, 2]);
  });

  it('gives every limit over the same group the loss of one walk, per order, and fails them all closed without a mark', () => {
    const { engine, clock } = makeEngine([
      { ...loss, id: 'loss-warn', thresholds: { warn: 500, hard: 1e9 } },
      { ...loss, id: 'loss-firm', per: 'global', thresholds: { warn: 100, hard: 1e9 } },
      loss,
    ]);
    engine.applyPositions([long100, { ...long100, accountId: 'ACC-2', quantity: 10 }], false);
    setReference(engine, { AAPL: 94 });
    const values = (accountId: string): [string, number][] => engine.checkOrder(order({ accountId, quantity: 1, price: 94 })).violations.map((v) => [v.limitId, v.value]);
    expect(values('ACC-1')).toEqual([
      ['loss-warn', 600],
      ['loss-firm', 660],
    ]);
    expect(values('ACC-2')).toEqual([['loss-firm', 660]]);
    clock.advance(5_001);
    const result = engine.checkOrder(order({ symbol: 'MSFT', quantity: 1, price: 10 }));
    expect([result.reasons, result.evaluated]).toEqual([['NO_REFERENCE_PRICE'], 3]);
  });
});
