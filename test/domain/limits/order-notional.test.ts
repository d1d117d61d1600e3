import { describe, expect, it } from 'vitest';
import { makeEngine, order } from '../../support/engine-fixtures.js';
import { setReference, traded } from '../../support/engine-actions.js';

const notional = { id: 'notional', kind: 'order_notional', thresholds: { hard: 10_000 } };

describe('order_notional limit', () => {
  it('accepts an order whose quantity times price equals the hard threshold', () => {
    const { engine } = makeEngine([notional]);
    expect(engine.checkOrder(order({ quantity: 100, price: 100 }))).toMatchObject({ decision: 'ACCEPT', violations: [] });
  });

  it('rejects an order whose notional is a small epsilon above hard', () => {
    const { engine } = makeEngine([notional]);
    const result = engine.checkOrder(order({ quantity: 1, price: 10_000.0001 }));
    expect(result.reasons).toEqual(['LIMIT_BREACH']);
    expect(result.violations[0]).toMatchObject({ severity: 'HARD_BREACH', value: 10_000.0001, threshold: 10_000, key: 'account:ACC-1' });
  });

  it("prices a LIMIT order at its own price even when the reference differs", () => {
    const { engine } = makeEngine([notional]);
    setReference(engine, { AAPL: 200 });
    expect(engine.checkOrder(order({ quantity: 100, price: 100 })).decision).toBe('ACCEPT');
  });

  it('prices a MARKET order without a price at the fresh reference', () => {
    const { engine } = makeEngine([notional]);
    setReference(engine, { AAPL: 101 });
    const result = engine.checkOrder(order({ orderType: 'MARKET', price: undefined, quantity: 100 }));
    expect(result.violations[0]?.value).toBe(10_100);
  });

  it('prices a MARKET order that carries a price at that price', () => {
    const { engine } = makeEngine([notional]);
    setReference(engine, { AAPL: 50 });
    const result = engine.checkOrder(order({ orderType: 'MARKET', price: 101, quantity: 100 }));
    expect(result.violations[0]?.value).toBe(10_100);
  });

  it('rejects a MARKET order without a price when the symbol has no reference', () => {
    const { engine } = makeEngine([notional]);
    const result = engine.checkOrder(order({ orderType: 'MARKET', price: undefined, quantity: 1 }));
    expect(result).toMatchObject({ decision: 'REJECT', reasons: ['NO_REFERENCE_PRICE'], violations: [], evaluated: 1 });
  });

  it('rejects a MARKET order without a price when the reference is older than maxReferenceAgeMs', () => {
    const { engine, clock } = makeEngine([notional]);
    setReference(engine, { AAPL: 10 });
    clock.advance(5_001);
    expect(engine.checkOrder(order({ orderType: 'MARKET', price: undefined, quantity: 1 })).reasons).toEqual(['NO_REFERENCE_PRICE']);
  });

  it('still uses a reference exactly maxReferenceAgeMs old', () => {
    const { engine, clock } = makeEngine([notional]);
    setReference(engine, { AAPL: 10 });
    clock.advance(5_000);
    expect(engine.checkOrder(order({ orderType: 'MARKET', price: undefined, quantity: 1 })).decision).toBe('ACCEPT');
  });

  it('does not fall back to the last fill price for a MARKET order without a reference', () => {
    const { engine } = makeEngine([notional]);
    traded(engine, { quantity: 1, price: 10 });
    expect(engine.checkOrder(order({ orderType: 'MARKET', price: undefined, quantity: 1 })).reasons).toEqual(['NO_REFERENCE_PRICE']);
  });

  it('reports its violation on the strategy key when per is strategy', () => {
    const { engine } = makeEngine([{ ...notional, per: 'strategy' }]);
    expect(engine.checkOrder(order({ quantity: 101, price: 100 })).violations[0]?.key).toBe('strategy:STRAT-1');
  });
});
