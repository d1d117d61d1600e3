import { describe, expect, it } from 'vitest';
import { LimitBookError, UnknownLimitError } from '../../../src/domain/index.js';
import { makeEngine, order } from '../../support/engine-fixtures.js';

const var95 = { id: 'var', kind: 'value', thresholds: { warn: 10, soft: 20, hard: 30, critical: 40 } };
const perAccount = { id: 'margin', kind: 'value', per: 'account', thresholds: { hard: 100, critical: 200 } };

describe('value limit', () => {
  it('reports INFO with no violation for a value equal to warn', () => {
    const { engine } = makeEngine([var95]);
    expect(engine.evaluateValue('var', 10, undefined)).toEqual({
      limitId: 'var',
      key: 'global',
      value: 10,
      severity: 'INFO',
      action: 'LOG',
      threshold: undefined,
      violation: undefined,
    });
  });

  it.each([
    [10.5, 'WARNING', 'ALERT', 10],
    [20.5, 'SOFT_BREACH', 'ALERT', 20],
    [30.5, 'HARD_BREACH', 'BLOCK', 30],
    [40.5, 'CRITICAL', 'HALT', 40],
  ])('grades the value %d as %s with action %s against threshold %d', (value, severity, action, threshold) => {
    const { engine } = makeEngine([var95]);
    const result = engine.evaluateValue('var', value, undefined);
    expect(result).toMatchObject({ severity, action, threshold, key: 'global' });
    expect(result.violation).toMatchObject({ limitId: 'var', kind: 'value', severity, value, threshold });
  });

  it('records a breach as an active violation and a history event without an order id', () => {
    const { engine, clock } = makeEngine([var95]);
    engine.evaluateValue('var', 35, undefined);
    expect(engine.violations.active({ limitId: 'var' })).toEqual([expect.objectContaining({ key: 'global', value: 35, count: 1 })]);
    expect(engine.violations.query({ pageSize: 10 }, clock.now()).items).toEqual([expect.objectContaining({ limitId: 'var', orderId: undefined })]);
  });

  it('resolves the active violation when a later value is clean', () => {
    const { engine } = makeEngine([var95]);
    engine.evaluateValue('var', 35, undefined);
    engine.evaluateValue('var', 5, undefined);
    expect(engine.violations.activeCount).toBe(0);
  });

  it('is never evaluated on orders', () => {
    const { engine } = makeEngine([{ ...var95, thresholds: { hard: 0 } }]);
    expect(engine.checkOrder(order())).toMatchObject({ decision: 'ACCEPT', evaluated: 0 });
  });

  it('keys a per-account value by the given scope id', () => {
    const { engine } = makeEngine([perAccount]);
    expect(engine.evaluateValue('margin', 101, 'ACC-9').key).toBe('account:ACC-9');
  });

  it('keys a per-account+symbol value by the composite scope id', () => {
    const { engine } = makeEngine([{ ...perAccount, per: 'account+symbol' }]);
    expect(engine.evaluateValue('margin', 101, 'ACC-9|AAPL').key).toBe('account+symbol:ACC-9|AAPL');
  });

  it('halts the account a CRITICAL per-account value is about', () => {
    const { engine } = makeEngine([perAccount]);
    engine.evaluateValue('margin', 201, 'ACC-1');
    expect(engine.checkOrder(order({ accountId: 'ACC-1' })).reasons).toEqual(['HALTED']);
    expect(engine.checkOrder(order({ accountId: 'ACC-2' })).decision).toBe('ACCEPT');
  });

  it('refuses a per-account value without a scope id', () => {
    const { engine } = makeEngine([perAccount]);
    expect(() => engine.evaluateValue('margin', 1, undefined)).toThrow(LimitBookError);
  });

  it('refuses an unknown limit id', () => {
    const { engine } = makeEngine([var95]);
    expect(() => engine.evaluateValue('nope', 1, undefined)).toThrow(UnknownLimitError);
  });

  it('refuses a limit that is not of kind value', () => {
    const { engine } = makeEngine([{ id: 'qty', kind: 'order_quantity', thresholds: { hard: 1 } }]);
    expect(() => engine.evaluateValue('qty', 1, undefined)).toThrow(LimitBookError);
  });

  it('reports INFO for a disabled value limit whatever the value', () => {
    const { engine } = makeEngine([{ ...var95, enabled: false }]);
    expect(engine.evaluateValue('var', 1_000, undefined)).toMatchObject({ severity: 'INFO', violation: undefined });
  });
});

describe('value limits on composite keys', () => {
  it('take an ACC|SYM scope id for per account+symbol, and refuse a single id', () => {
    const { engine } = makeEngine([{ id: 'var-pair', kind: 'value', per: 'account+symbol', thresholds: { hard: 10 } }]);
    expect(engine.evaluateValue('var-pair', 11, 'ACC-1|AAPL')).toMatchObject({ key: 'account+symbol:ACC-1|AAPL', severity: 'HARD_BREACH' });
    expect(() => engine.evaluateValue('var-pair', 11, 'ACC-1')).toThrow(/<id>\|<symbol>/);
  });

  it('refuse a scope id on a global limit', () => {
    const { engine } = makeEngine([{ id: 'var-firm', kind: 'value', thresholds: { hard: 10 } }]);
    expect(() => engine.evaluateValue('var-firm', 1, 'ACC-1')).toThrow(/absent/);
  });
});
