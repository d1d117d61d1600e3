import { describe, expect, it, vi } from 'vitest';
import { CheckContext } from '../../../src/domain/check-context.js';
import { makeEngine, order } from '../../support/engine-fixtures.js';
import { accepted, setReference, traded } from '../../support/engine-actions.js';

const gross = { id: 'gross', kind: 'gross_notional', thresholds: { hard: 100_000 } };

describe('gross_notional limit', () => {
  it("accepts a first order at exactly hard, marked at the order's price when nothing else is known", () => {
    const { engine } = makeEngine([gross]);
    expect(engine.checkOrder(order({ quantity: 100, price: 1_000 }))).toMatchObject({ decision: 'ACCEPT', violations: [] });
  });

  it('rejects a first order whose notional is a small epsilon above hard', () => {
    const { engine } = makeEngine([gross]);
    const result = engine.checkOrder(order({ quantity: 100, price: 1_000.01 }));
    expect(result.reasons).toEqual(['LIMIT_BREACH']);
    expect(result.violations[0]).toMatchObject({ threshold: 100_000, key: 'account:ACC-1' });
    expect(result.violations[0]?.value).toBeCloseTo(100_001, 6);
  });

  it("marks the order's own symbol at the fresh reference rather than the order's price", () => {
    const { engine } = makeEngine([gross]);
    setReference(engine, { AAPL: 1_001 });
    expect(engine.checkOrder(order({ quantity: 100, price: 1_000 })).violations[0]?.value).toBe(100_100);
  });

  it("marks the order's own symbol at its last fill price when the reference is stale", () => {
    const { engine, clock } = makeEngine([gross]);
    setReference(engine, { AAPL: 500 });
    traded(engine, { quantity: 10, price: 1_000 }, 1_001);
    clock.advance(5_001);
    expect(engine.checkOrder(order({ quantity: 90, price: 1_000 })).violations[0]?.value).toBe(100_100);
  });

  it('adds the positions held in other symbols at their reference', () => {
    const { engine } = makeEngine([gross]);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'MSFT', quantity: 50, avgPrice: 900 }], false);
    setReference(engine, { MSFT: 1_000, AAPL: 1_000 });
    expect(engine.checkOrder(order({ quantity: 50, price: 1_000 })).decision).toBe('ACCEPT');
    expect(engine.checkOrder(order({ quantity: 1, price: 1_000 })).violations[0]?.value).toBe(101_000);
  });

  it('marks another symbol at its last fill price when its reference is stale', () => {
    const { engine, clock } = makeEngine([gross]);
    traded(engine, { symbol: 'MSFT', quantity: 50, price: 1_000 }, 1_000);
    setReference(engine, { MSFT: 10 });
    clock.advance(5_001);
    expect(engine.checkOrder(order({ quantity: 51, price: 1_000 })).violations[0]?.value).toBe(101_000);
  });

  it('rejects with NO_REFERENCE_PRICE when another held symbol has no mark at all', () => {
    const { engine } = makeEngine([gross]);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'MSFT', quantity: 1, avgPrice: 900 }], false);
    expect(engine.checkOrder(order({ quantity: 1, price: 10 }))).toMatchObject({ reasons: ['NO_REFERENCE_PRICE'], violations: [] });
  });

  it('rejects with NO_REFERENCE_PRICE when another symbol has only open orders and no mark', () => {
    const { engine } = makeEngine([gross]);
    accepted(engine, { symbol: 'MSFT', quantity: 1, price: 10 });
    expect(engine.checkOrder(order({ quantity: 1, price: 10 })).reasons).toEqual(['NO_REFERENCE_PRICE']);
  });

  it('rejects a MARKET order without a price when its symbol has no reference and no fill', () => {
    const { engine } = makeEngine([gross]);
    expect(engine.checkOrder(order({ orderType: 'MARKET', price: undefined, quantity: 1 })).reasons).toEqual(['NO_REFERENCE_PRICE']);
  });

  it('takes the worse of all buys filling and all sells filling, not their sum', () => {
    const { engine } = makeEngine([gross]);
    setReference(engine, { AAPL: 1_000 });
    accepted(engine, { side: 'SELL', quantity: 100, price: 1_000 });
    expect(engine.checkOrder(order({ side: 'BUY', quantity: 100, price: 1_000 })).decision).toBe('ACCEPT');
  });

  it('counts a short position by its absolute size', () => {
    const { engine } = makeEngine([gross]);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: -100, avgPrice: 1_000 }], false);
    setReference(engine, { AAPL: 1_000 });
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 1, price: 1_000 })).violations[0]?.value).toBe(101_000);
  });

  it('accepts a buy against a short position at hard because the short side stays the worst case', () => {
    const { engine } = makeEngine([gross]);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: -100, avgPrice: 1_000 }], false);
    setReference(engine, { AAPL: 1_000 });
    expect(engine.checkOrder(order({ side: 'BUY', quantity: 1, price: 1_000 })).decision).toBe('ACCEPT');
  });

  it('adds up every account when per is global', () => {
    const { engine } = makeEngine([{ ...gross, per: 'global' }]);
    setReference(engine, { AAPL: 1_000, MSFT: 1_000 });
    accepted(engine, { accountId: 'ACC-2', quantity: 60, price: 1_000 });
    const result = engine.checkOrder(order({ symbol: 'MSFT', quantity: 41, price: 1_000 }));
    expect(result.violations[0]).toMatchObject({ value: 101_000, key: 'global' });
  });

  it('keeps accounts apart when per is account', () => {
    const { engine } = makeEngine([gross]);
    accepted(engine, { accountId: 'ACC-2', quantity: 100, price: 1_000 });
    expect(engine.checkOrder(order({ quantity: 100, price: 1_000 })).decision).toBe('ACCEPT');
  });

  it('adds up the accounts of one strategy when per is strategy', () => {
    const { engine } = makeEngine([{ ...gross, per: 'strategy' }]);
    accepted(engine, { accountId: 'ACC-2', quantity: 60, price: 1_000 });
    const result = engine.checkOrder(order({ quantity: 41, price: 1_000 }));
    expect(result.violations[0]).toMatchObject({ value: 101_000, key: 'strategy:STRAT-1' });
  });

  it('adds up every account in the symbol, and only that symbol, when per is symbol', () => {
    const { engine } = makeEngine([{ ...gross, per: 'symbol' }]);
    setReference(engine, { AAPL: 1_000, MSFT: 1_000 });
    accepted(engine, { accountId: 'ACC-2', strategyId: 'STRAT-2', quantity: 60, price: 1_000 });
    accepted(engine, { symbol: 'MSFT', quantity: 100, price: 1_000 });
    const result = engine.checkOrder(order({ quantity: 41, price: 1_000 }));
    expect(result.violations[0]).toMatchObject({ value: 101_000, key: 'symbol:AAPL' });
  });

  it('counts only the order\'s own symbol when per is account+symbol', () => {
    const { engine } = makeEngine([{ ...gross, per: 'account+symbol' }]);
    accepted(engine, { symbol: 'MSFT', quantity: 100, price: 1_000 });
    expect(engine.checkOrder(order({ quantity: 100, price: 1_000 })).decision).toBe('ACCEPT');
  });

  it('walks the account once for several limits over it, and walks afresh for the next order', () => {
    const tiers = [
      { ...gross, id: 'gross-warn', thresholds: { hard: 150_000 } },
      { ...gross, id: 'gross-firm', per: 'global', thresholds: { warn: 1_050_000, hard: 1e9 } },
      { ...gross, id: 'gross-hard', thresholds: { hard: 100_000 } },
    ];
    const { engine } = makeEngine(tiers);
    engine.applyPositions([{ accountId: 'ACC-2', symbol: 'MSFT', quantity: 1_000, avgPrice: 1_000 }], false);
    setReference(engine, { MSFT: 1_000, AAPL: 1_000 });
    const values = (o: Parameters<typeof order>[0]): [string, number][] => engine.checkOrder(order(o)).violations.map((v) => [v.limitId, v.value]);
    expect(values({ quantity: 60, price: 1_000 })).toEqual([['gross-firm', 1_060_000]]);
    expect(values({ quantity: 60, price: 1_000 })).toEqual([
      ['gross-firm', 1_120_000],
      ['gross-hard', 120_000],
    ]);
    // ACC-2's MSFT row is read once by the account walk (two limits share it) and once by the firm's.
    const marks = vi.spyOn(CheckContext.prototype, 'markOf');
    expect(values({ accountId: 'ACC-2', quantity: 1, price: 1_000 })).toEqual([
      ['gross-warn', 1_001_000],
      ['gross-firm', 1_061_000],
      ['gross-hard', 1_001_000],
    ]);
    expect(marks).toHaveBeenCalledTimes(2);
    marks.mockRestore();
  });

  it('fails every limit over the account closed when the walk finds a symbol without a mark', () => {
    const { engine, clock } = makeEngine([gross, { ...gross, id: 'gross-2', thresholds: { hard: 1e12 } }]);
    setReference(engine, { MSFT: 1_000 });
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'MSFT', quantity: 5, avgPrice: 1_000 }], false);
    clock.advance(5_001);
    const result = engine.checkOrder(order({ quantity: 1, price: 1_000 }));
    expect([result.reasons, result.evaluated]).toEqual([['NO_REFERENCE_PRICE'], 2]);
  });
});
