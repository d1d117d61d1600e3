import { describe, expect, it } from 'vitest';
import { makeEngine, order } from '../../support/engine-fixtures.js';
import { setReference, traded } from '../../support/engine-actions.js';

const collar = { id: 'collar', kind: 'price_deviation', thresholds: { hard: 50 } };

describe('price_deviation limit', () => {
  it('accepts a price exactly hard basis points above the reference', () => {
    const { engine } = makeEngine([collar]);
    setReference(engine, { AAPL: 100 });
    expect(engine.checkOrder(order({ price: 100.5 }))).toMatchObject({ decision: 'ACCEPT', violations: [] });
  });

  it('accepts a price exactly hard basis points below the reference', () => {
    const { engine } = makeEngine([collar]);
    setReference(engine, { AAPL: 100 });
    expect(engine.checkOrder(order({ side: 'SELL', price: 99.5 })).decision).toBe('ACCEPT');
  });

  it('rejects a price a small epsilon further above the reference than hard', () => {
    const { engine } = makeEngine([collar]);
    setReference(engine, { AAPL: 100 });
    const result = engine.checkOrder(order({ price: 100.51 }));
    expect(result.reasons).toEqual(['LIMIT_BREACH']);
    expect(result.violations[0]?.severity).toBe('HARD_BREACH');
    expect(result.violations[0]?.value).toBeCloseTo(51, 9);
  });

  it('rejects a price too far below the reference', () => {
    const { engine } = makeEngine([collar]);
    setReference(engine, { AAPL: 100 });
    expect(engine.checkOrder(order({ price: 99 })).violations[0]?.value).toBe(100);
  });

  it('scores a MARKET order without a price as zero deviation from a fresh reference', () => {
    const { engine } = makeEngine([{ ...collar, thresholds: { warn: 0, hard: 0 } }]);
    setReference(engine, { AAPL: 100 });
    expect(engine.checkOrder(order({ orderType: 'MARKET', price: undefined }))).toMatchObject({ decision: 'ACCEPT', violations: [], evaluated: 1 });
  });

  it('rejects a MARKET order without a price when the reference is missing or stale, unless told to allow it', () => {
    const market = order({ orderType: 'MARKET', price: undefined });
    const { engine, clock } = makeEngine([collar]);
    expect(engine.checkOrder(market)).toMatchObject({ decision: 'REJECT', reasons: ['NO_REFERENCE_PRICE'], violations: [] });
    setReference(engine, { AAPL: 100 });
    clock.advance(5_001);
    expect(engine.checkOrder(market)).toMatchObject({ decision: 'REJECT', reasons: ['NO_REFERENCE_PRICE'] });
    const allowing = makeEngine([{ ...collar, missingReference: 'allow' }]).engine;
    expect(allowing.checkOrder(market)).toMatchObject({ decision: 'ACCEPT', evaluated: 1 });
  });

  it('collars a MARKET order that carries a price', () => {
    const { engine } = makeEngine([collar]);
    setReference(engine, { AAPL: 100 });
    expect(engine.checkOrder(order({ orderType: 'MARKET', price: 102 })).violations[0]?.value).toBe(200);
  });

  it('rejects with NO_REFERENCE_PRICE when the symbol has no reference', () => {
    const { engine } = makeEngine([collar]);
    expect(engine.checkOrder(order({ price: 100 }))).toMatchObject({ decision: 'REJECT', reasons: ['NO_REFERENCE_PRICE'], violations: [] });
  });

  it('rejects with NO_REFERENCE_PRICE when the reference is stale', () => {
    const { engine, clock } = makeEngine([collar]);
    setReference(engine, { AAPL: 100 });
    clock.advance(5_001);
    expect(engine.checkOrder(order({ price: 100 })).reasons).toEqual(['NO_REFERENCE_PRICE']);
  });

  it('does not treat the last fill price as a reference', () => {
    const { engine } = makeEngine([{ ...collar, missingReference: 'allow' }]);
    traded(engine, { quantity: 1, orderType: 'MARKET', price: undefined }, 100);
    engine.upsertLimit(collar);
    expect(engine.checkOrder(order({ price: 100 })).reasons).toEqual(['NO_REFERENCE_PRICE']);
  });

  it("accepts without a reference when missingReference is 'allow'", () => {
    const { engine } = makeEngine([{ ...collar, thresholds: { hard: 0 }, missingReference: 'allow' }]);
    expect(engine.checkOrder(order({ price: 1_000 }))).toMatchObject({ decision: 'ACCEPT', violations: [], evaluated: 1 });
  });

  it("still collars against a fresh reference when missingReference is 'allow'", () => {
    const { engine } = makeEngine([{ ...collar, missingReference: 'allow' }]);
    setReference(engine, { AAPL: 100 });
    expect(engine.checkOrder(order({ price: 101 })).reasons).toEqual(['LIMIT_BREACH']);
  });

  it('reports its violation on the symbol key when per is symbol', () => {
    const { engine } = makeEngine([{ ...collar, per: 'symbol' }]);
    setReference(engine, { AAPL: 100 });
    expect(engine.checkOrder(order({ price: 101 })).violations[0]?.key).toBe('symbol:AAPL');
  });
});
