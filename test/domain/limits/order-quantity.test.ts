import { describe, expect, it } from 'vitest';
import { makeEngine, order } from '../../support/engine-fixtures.js';

const banded = { id: 'qty', kind: 'order_quantity', thresholds: { warn: 50, soft: 80, hard: 100, critical: 200 } };

describe('order_quantity limit', () => {
  it('accepts an order whose quantity equals the hard threshold', () => {
    const { engine } = makeEngine([{ id: 'qty', kind: 'order_quantity', thresholds: { hard: 100 } }]);
    const result = engine.checkOrder(order({ quantity: 100 }));
    expect(result).toMatchObject({ decision: 'ACCEPT', reasons: [], violations: [], evaluated: 1 });
  });

  it('rejects an order a small epsilon above the hard threshold', () => {
    const { engine } = makeEngine([{ id: 'qty', kind: 'order_quantity', thresholds: { hard: 100 } }]);
    const result = engine.checkOrder(order({ quantity: 100.0001 }));
    expect(result.decision).toBe('REJECT');
    expect(result.reasons).toEqual(['LIMIT_BREACH']);
    expect(result.violations).toEqual([
      expect.objectContaining({
        limitId: 'qty',
        kind: 'order_quantity',
        severity: 'HARD_BREACH',
        action: 'BLOCK',
        value: 100.0001,
        threshold: 100,
        key: 'account:ACC-1',
      }),
    ]);
  });

  it('is clean at exactly the warn threshold', () => {
    const { engine } = makeEngine([banded]);
    expect(engine.checkOrder(order({ quantity: 50 })).violations).toEqual([]);
  });

  it('raises an accepted WARNING alert just above warn', () => {
    const { engine } = makeEngine([banded]);
    const result = engine.checkOrder(order({ quantity: 50.5 }));
    expect(result.decision).toBe('ACCEPT');
    expect(result.violations.map((v) => [v.severity, v.action, v.threshold])).toEqual([['WARNING', 'ALERT', 50]]);
  });

  it('stays a WARNING at exactly the soft threshold', () => {
    const { engine } = makeEngine([banded]);
    expect(engine.checkOrder(order({ quantity: 80 })).violations[0]?.severity).toBe('WARNING');
  });

  it('raises an accepted SOFT_BREACH alert just above soft', () => {
    const { engine } = makeEngine([banded]);
    const result = engine.checkOrder(order({ quantity: 80.5 }));
    expect(result.decision).toBe('ACCEPT');
    expect(result.violations.map((v) => [v.severity, v.action, v.threshold])).toEqual([['SOFT_BREACH', 'ALERT', 80]]);
  });

  it('stays a HARD_BREACH at exactly the critical threshold', () => {
    const { engine } = makeEngine([banded]);
    const result = engine.checkOrder(order({ quantity: 200 }));
    expect(result.violations.map((v) => [v.severity, v.action, v.threshold])).toEqual([['HARD_BREACH', 'BLOCK', 100]]);
  });

  it('rejects with a CRITICAL violation whose default action is HALT just above critical', () => {
    const { engine } = makeEngine([banded]);
    const result = engine.checkOrder(order({ quantity: 200.5 }));
    expect(result.decision).toBe('REJECT');
    expect(result.reasons).toEqual(['LIMIT_BREACH']);
    expect(result.violations.map((v) => [v.severity, v.action, v.threshold])).toEqual([['CRITICAL', 'HALT', 200]]);
  });

  it('does not add up across orders', () => {
    const { engine } = makeEngine([{ id: 'qty', kind: 'order_quantity', thresholds: { hard: 100 } }]);
    expect(engine.checkOrder(order({ quantity: 100 })).decision).toBe('ACCEPT');
    expect(engine.checkOrder(order({ quantity: 100 })).decision).toBe('ACCEPT');
  });

  it('accepts a hard breach whose action is overridden to ALERT', () => {
    const { engine } = makeEngine([{ id: 'qty', kind: 'order_quantity', thresholds: { hard: 100 }, actions: { HARD_BREACH: 'ALERT' } }]);
    const result = engine.checkOrder(order({ quantity: 101 }));
    expect(result.decision).toBe('ACCEPT');
    expect(result.violations.map((v) => [v.severity, v.action])).toEqual([['HARD_BREACH', 'ALERT']]);
  });

  it('rejects a warning whose action is overridden to BLOCK', () => {
    const { engine } = makeEngine([{ id: 'qty', kind: 'order_quantity', thresholds: { warn: 10, hard: 100 }, actions: { WARNING: 'BLOCK' } }]);
    const result = engine.checkOrder(order({ quantity: 11 }));
    expect(result.decision).toBe('REJECT');
    expect(result.reasons).toEqual(['LIMIT_BREACH']);
  });

  it('accepts and records a breach whose action is LOG', () => {
    const { engine, clock } = makeEngine([{ id: 'qty', kind: 'order_quantity', thresholds: { hard: 100 }, actions: { HARD_BREACH: 'LOG' } }]);
    const o = order({ quantity: 101 });
    expect(engine.checkOrder(o).decision).toBe('ACCEPT');
    expect(engine.violations.query({ pageSize: 10 }, clock.now()).items).toEqual([
      expect.objectContaining({ limitId: 'qty', action: 'LOG', orderId: o.orderId }),
    ]);
  });

  it('uses the severity actions from the engine config when the limit has none', () => {
    const { engine } = makeEngine([{ id: 'qty', kind: 'order_quantity', thresholds: { hard: 100 } }], {
      severityActions: { WARNING: 'LOG', SOFT_BREACH: 'LOG', HARD_BREACH: 'ALERT', CRITICAL: 'BLOCK' },
    });
    expect(engine.checkOrder(order({ quantity: 101 })).decision).toBe('ACCEPT');
  });

  it.each([
    ['global', 'global'],
    ['account', 'account:ACC-1'],
    ['strategy', 'strategy:STRAT-1'],
    ['symbol', 'symbol:AAPL'],
    ['account+symbol', 'account+symbol:ACC-1|AAPL'],
    ['strategy+symbol', 'strategy+symbol:STRAT-1|AAPL'],
  ])('reports a violation with per %s on key %s', (per, key) => {
    const { engine } = makeEngine([{ id: 'qty', kind: 'order_quantity', per, thresholds: { hard: 100 } }]);
    expect(engine.checkOrder(order({ quantity: 101 })).violations[0]?.key).toBe(key);
  });

  it('lands a HALT on the symbol when per is symbol, halting other accounts in that symbol only', () => {
    const { engine } = makeEngine([{ id: 'qty', kind: 'order_quantity', per: 'symbol', thresholds: { hard: 100, critical: 200 } }]);
    engine.checkOrder(order({ quantity: 201 }));
    expect(engine.tradingStates.get('symbol:AAPL')?.state).toBe('HALTED');
    expect(engine.checkOrder(order({ accountId: 'ACC-2', quantity: 1 })).reasons).toEqual(['HALTED']);
    expect(engine.checkOrder(order({ symbol: 'MSFT', quantity: 1 })).decision).toBe('ACCEPT');
  });

  it('does not apply to an order outside its symbol scope', () => {
    const { engine } = makeEngine([{ id: 'qty', kind: 'order_quantity', scope: { symbols: ['MSFT'] }, thresholds: { hard: 100 } }]);
    expect(engine.checkOrder(order({ quantity: 1_000 }))).toMatchObject({ decision: 'ACCEPT', evaluated: 0 });
  });
});
