import { describe, expect, it } from 'vitest';
import { makeEngine, order } from '../../support/engine-fixtures.js';
import { accepted, cancel } from '../../support/engine-actions.js';

const rate = { id: 'rate', kind: 'order_rate', windowMs: 1_000, thresholds: { hard: 2 } };

describe('order_rate limit', () => {
  it('accepts the order that brings the count in the window to exactly hard', () => {
    const { engine } = makeEngine([rate]);
    accepted(engine);
    expect(engine.checkOrder(order())).toMatchObject({ decision: 'ACCEPT', violations: [] });
  });

  it('rejects one order more than hard within the window', () => {
    const { engine } = makeEngine([rate]);
    accepted(engine);
    accepted(engine);
    const result = engine.checkOrder(order());
    expect(result.reasons).toEqual(['LIMIT_BREACH']);
    expect(result.violations[0]).toMatchObject({ value: 3, threshold: 2, key: 'strategy:STRAT-1' });
  });

  it('still counts orders accepted windowMs minus one millisecond ago', () => {
    const { engine, clock } = makeEngine([rate]);
    accepted(engine);
    accepted(engine);
    clock.advance(999);
    expect(engine.checkOrder(order()).decision).toBe('REJECT');
  });

  it('drops orders accepted exactly windowMs ago', () => {
    const { engine, clock } = makeEngine([rate]);
    accepted(engine);
    accepted(engine);
    clock.advance(1_000);
    expect(engine.checkOrder(order())).toMatchObject({ decision: 'ACCEPT', violations: [] });
  });

  it('does not count rejected orders', () => {
    const { engine } = makeEngine([rate, { id: 'qty', kind: 'order_quantity', thresholds: { hard: 100 } }]);
    accepted(engine);
    engine.checkOrder(order({ quantity: 101 }));
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
  });

  it('keeps counting orders that were cancelled', () => {
    const { engine } = makeEngine([rate]);
    cancel(engine, accepted(engine));
    cancel(engine, accepted(engine));
    expect(engine.checkOrder(order()).violations[0]?.value).toBe(3);
  });

  it('shares one window across the accounts of a strategy by default', () => {
    const { engine } = makeEngine([rate]);
    accepted(engine, { accountId: 'ACC-1' });
    accepted(engine, { accountId: 'ACC-2' });
    expect(engine.checkOrder(order({ accountId: 'ACC-3' })).decision).toBe('REJECT');
  });

  it('keeps strategies apart by default', () => {
    const { engine } = makeEngine([rate]);
    accepted(engine);
    accepted(engine);
    expect(engine.checkOrder(order({ strategyId: 'STRAT-2' })).decision).toBe('ACCEPT');
  });

  it('keeps accounts apart when per is account', () => {
    const { engine } = makeEngine([{ ...rate, per: 'account' }]);
    accepted(engine, { accountId: 'ACC-1' });
    accepted(engine, { accountId: 'ACC-1' });
    expect(engine.checkOrder(order({ accountId: 'ACC-2' })).decision).toBe('ACCEPT');
    expect(engine.checkOrder(order({ accountId: 'ACC-1' })).violations[0]?.key).toBe('account:ACC-1');
  });

  it('counts every order in the firm when per is global', () => {
    const { engine } = makeEngine([{ ...rate, per: 'global' }]);
    accepted(engine, { accountId: 'ACC-2', strategyId: 'STRAT-2' });
    accepted(engine, { accountId: 'ACC-3', strategyId: 'STRAT-3', symbol: 'MSFT' });
    expect(engine.checkOrder(order()).violations[0]).toMatchObject({ value: 3, key: 'global' });
  });

  it('keeps symbols apart when per is account+symbol', () => {
    const { engine } = makeEngine([{ ...rate, per: 'account+symbol' }]);
    accepted(engine, { symbol: 'MSFT' });
    accepted(engine, { symbol: 'MSFT' });
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
  });

  it('starts again from zero after a session reset', () => {
    const { engine } = makeEngine([rate]);
    accepted(engine);
    accepted(engine);
    engine.resetSession();
    accepted(engine);
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
  });
  it('counts an order only in the windows of the limits that applied to it, after an order that met more', () => {
    const acc1 = { id: 'acc1-rate', kind: 'order_rate', per: 'account', scope: { accounts: ['ACC-1'] }, windowMs: 1_000, thresholds: { hard: 1 } };
    const firm = { id: 'firm-rate', kind: 'order_rate', per: 'global', windowMs: 1_000, thresholds: { hard: 10 } };
    const { engine, clock } = makeEngine([acc1, firm]);
    const at = clock.now();
    expect(engine.checkOrder(order({ accountId: 'ACC-1' })).evaluated).toBe(2);
    expect(engine.checkOrder(order({ accountId: 'ACC-2' })).evaluated).toBe(1);
    expect(engine.checkOrder(order({ accountId: 'ACC-2' })).evaluated).toBe(1);
    // A leftover window from the first check would count ACC-2's orders in acc1-rate too.
    expect(engine.captureState().windows).toEqual({ 'acc1-rate': [['ACC-1', [at]]], 'firm-rate': [['', [at, at, at]]] });
    expect(engine.checkOrder(order({ accountId: 'ACC-1' }))).toMatchObject({ decision: 'REJECT', violations: [{ limitId: 'acc1-rate', value: 2 }] });
    expect(engine.checkOrder(order({ accountId: 'ACC-3' }))).toMatchObject({ decision: 'ACCEPT' });
  });
});
