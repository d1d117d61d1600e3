import { describe, expect, it } from 'vitest';
import { makeEngine, order } from '../support/engine-fixtures.js';
import { setReference, traded } from '../support/engine-actions.js';

const collar = { id: 'collar', kind: 'price_deviation', thresholds: { hard: 50 } };
const gross = { id: 'gross', kind: 'gross_notional', thresholds: { hard: 1_000_000 } };
const loss = { id: 'loss', kind: 'daily_loss', thresholds: { hard: 1_000_000 } };

describe('missing and stale reference prices', () => {
  it('fails closed on a reference that went stale and accepts again once it is refreshed', () => {
    const { engine, clock } = makeEngine([collar]);
    setReference(engine, { AAPL: 100 });
    clock.advance(5_001);
    expect(engine.checkOrder(order({ price: 100 })).reasons).toEqual(['NO_REFERENCE_PRICE']);
    setReference(engine, { AAPL: 100 });
    expect(engine.checkOrder(order({ price: 100 })).decision).toBe('ACCEPT');
  });

  it('rejects with NO_REFERENCE_PRICE even when every other limit passes, reporting their alerts', () => {
    const { engine } = makeEngine([{ id: 'qty', kind: 'order_quantity', thresholds: { warn: 10, hard: 1_000 } }, collar]);
    const result = engine.checkOrder(order({ quantity: 20 }));
    expect(result).toMatchObject({ decision: 'REJECT', reasons: ['NO_REFERENCE_PRICE'], evaluated: 2 });
    expect(result.violations.map((v) => [v.limitId, v.severity])).toEqual([['qty', 'WARNING']]);
  });

  it('records no violation for the limit that could not be evaluated', () => {
    const { engine } = makeEngine([collar]);
    engine.checkOrder(order());
    expect([engine.violations.historySize, engine.violations.activeCount]).toEqual([0, 0]);
  });

  it('reserves nothing for an order rejected for a missing price', () => {
    const { engine } = makeEngine([collar]);
    engine.checkOrder(order());
    expect(engine.ledger.openOrderCount).toBe(0);
  });

  it('needs no reference for a MARKET order when no applicable limit uses a price', () => {
    const { engine } = makeEngine([
      { id: 'qty', kind: 'order_quantity', thresholds: { hard: 1_000 } },
      { id: 'pos', kind: 'position', thresholds: { hard: 1_000 } },
    ]);
    expect(engine.checkOrder(order({ orderType: 'MARKET', price: undefined })).decision).toBe('ACCEPT');
  });

  it("fails gross notional closed once a held symbol's reference goes stale and it never traded", () => {
    const { engine, clock } = makeEngine([gross]);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'MSFT', quantity: 10, avgPrice: 100 }], false);
    setReference(engine, { MSFT: 100 });
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
    clock.advance(5_001);
    expect(engine.checkOrder(order()).reasons).toEqual(['NO_REFERENCE_PRICE']);
  });

  it("fails daily loss closed once a held symbol's reference goes stale and it never traded", () => {
    const { engine, clock } = makeEngine([loss]);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'MSFT', quantity: 10, avgPrice: 100 }], false);
    setReference(engine, { MSFT: 100 });
    clock.advance(5_001);
    expect(engine.checkOrder(order()).reasons).toEqual(['NO_REFERENCE_PRICE']);
  });

  it('fails daily loss closed when a held symbol has only a stale reference and a last fill', () => {
    const { engine, clock } = makeEngine([{ ...loss, thresholds: { hard: 50 } }]);
    setReference(engine, { MSFT: 100 });
    traded(engine, { symbol: 'MSFT', quantity: 10, price: 100 });
    traded(engine, { symbol: 'MSFT', quantity: 10, price: 90 });
    setReference(engine, { MSFT: 200 });
    clock.advance(5_001);
    expect(engine.checkOrder(order())).toMatchObject({ decision: 'REJECT', reasons: ['NO_REFERENCE_PRICE'], violations: [] });
  });

  it('does not need a mark for a flat symbol that only carries realized P&L', () => {
    const { engine } = makeEngine([gross, loss]);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'MSFT', quantity: 10, avgPrice: 100 }], false);
    setReference(engine, { MSFT: 100 });
    traded(engine, { symbol: 'MSFT', side: 'SELL', quantity: 10, price: 110 });
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
  });
});
