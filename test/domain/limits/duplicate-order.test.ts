import { describe, expect, it } from 'vitest';
import type { Order } from '../../../src/domain/orders.js';
import { makeEngine, order } from '../../support/engine-fixtures.js';
import { accepted } from '../../support/engine-actions.js';

const duplicate = { id: 'dup', kind: 'duplicate_order', windowMs: 1_000, thresholds: { hard: 1 } };
const same: Partial<Order> = { symbol: 'AAPL', side: 'BUY', quantity: 100, price: 100 };

describe('duplicate_order limit', () => {
  it('accepts the first order of its kind', () => {
    const { engine } = makeEngine([duplicate]);
    expect(engine.checkOrder(order(same))).toMatchObject({ decision: 'ACCEPT', violations: [], evaluated: 1 });
  });

  it('rejects a second order with the same symbol, side, quantity and price in the window', () => {
    const { engine } = makeEngine([duplicate]);
    accepted(engine, same);
    const result = engine.checkOrder(order(same));
    expect(result.reasons).toEqual(['LIMIT_BREACH']);
    expect(result.violations[0]).toMatchObject({ value: 2, threshold: 1, key: 'account:ACC-1' });
  });

  it.each([
    ['price', { price: 100.01 }],
    ['quantity', { quantity: 101 }],
    ['side', { side: 'SELL' }],
    ['symbol', { symbol: 'MSFT' }],
  ] as [string, Partial<Order>][])('does not treat an order with a different %s as a duplicate', (_field, change) => {
    const { engine } = makeEngine([duplicate]);
    accepted(engine, same);
    expect(engine.checkOrder(order({ ...same, ...change })).decision).toBe('ACCEPT');
  });

  it('treats two MARKET orders without a price as duplicates', () => {
    const { engine } = makeEngine([duplicate]);
    accepted(engine, { ...same, orderType: 'MARKET', price: undefined });
    expect(engine.checkOrder(order({ ...same, orderType: 'MARKET', price: undefined })).decision).toBe('REJECT');
  });

  it('does not treat a MARKET order without a price as a duplicate of a priced order', () => {
    const { engine } = makeEngine([duplicate]);
    accepted(engine, same);
    expect(engine.checkOrder(order({ ...same, orderType: 'MARKET', price: undefined })).decision).toBe('ACCEPT');
  });

  it('accepts the same order again once windowMs has passed', () => {
    const { engine, clock } = makeEngine([duplicate]);
    accepted(engine, same);
    clock.advance(1_000);
    expect(engine.checkOrder(order(same)).decision).toBe('ACCEPT');
  });

  it('does not count a rejected duplicate', () => {
    const { engine } = makeEngine([duplicate, { id: 'qty', kind: 'order_quantity', thresholds: { hard: 10 } }]);
    engine.checkOrder(order(same));
    expect(engine.checkOrder(order(same)).violations.map((v) => v.limitId)).toEqual(['qty']);
  });

  it('keeps accounts apart when per is account', () => {
    const { engine } = makeEngine([duplicate]);
    accepted(engine, same);
    expect(engine.checkOrder(order({ ...same, accountId: 'ACC-2' })).decision).toBe('ACCEPT');
  });

  it('catches the same order from another account when per is global', () => {
    const { engine } = makeEngine([{ ...duplicate, per: 'global' }]);
    accepted(engine, same);
    expect(engine.checkOrder(order({ ...same, accountId: 'ACC-2' })).violations[0]?.key).toBe('global');
  });

  it('catches the same order from another account of the strategy when per is strategy', () => {
    const { engine } = makeEngine([{ ...duplicate, per: 'strategy' }]);
    accepted(engine, same);
    expect(engine.checkOrder(order({ ...same, accountId: 'ACC-2' })).violations[0]?.key).toBe('strategy:STRAT-1');
  });

  it('forgets duplicates after a session reset', () => {
    const { engine } = makeEngine([duplicate]);
    accepted(engine, same);
    engine.resetSession();
    expect(engine.checkOrder(order(same)).decision).toBe('ACCEPT');
  });
});
