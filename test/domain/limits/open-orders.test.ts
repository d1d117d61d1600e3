import { describe, expect, it } from 'vitest';
import { makeEngine, order } from '../../support/engine-fixtures.js';
import { accepted, cancel, fill } from '../../support/engine-actions.js';

const openOrders = { id: 'open', kind: 'open_orders', thresholds: { hard: 2 } };

describe('open_orders limit', () => {
  it('accepts the order that brings the open count to exactly hard', () => {
    const { engine } = makeEngine([openOrders]);
    accepted(engine);
    expect(engine.checkOrder(order())).toMatchObject({ decision: 'ACCEPT', violations: [] });
  });

  it('rejects the order that would be one more than hard', () => {
    const { engine } = makeEngine([openOrders]);
    accepted(engine);
    accepted(engine);
    const result = engine.checkOrder(order());
    expect(result.reasons).toEqual(['LIMIT_BREACH']);
    expect(result.violations[0]).toMatchObject({ value: 3, threshold: 2, key: 'account:ACC-1' });
  });

  it('does not count rejected orders', () => {
    const { engine } = makeEngine([openOrders, { id: 'qty', kind: 'order_quantity', thresholds: { hard: 100 } }]);
    accepted(engine);
    expect(engine.checkOrder(order({ quantity: 101 })).decision).toBe('REJECT');
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
  });

  it('frees a slot when an order is cancelled', () => {
    const { engine } = makeEngine([openOrders]);
    cancel(engine, accepted(engine));
    accepted(engine);
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
  });

  it('frees a slot when an order fills completely', () => {
    const { engine } = makeEngine([openOrders]);
    fill(engine, accepted(engine));
    accepted(engine);
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
  });

  it('keeps the slot of a partially filled order', () => {
    const { engine } = makeEngine([openOrders]);
    const first = accepted(engine, { quantity: 100 });
    fill(engine, first, 40);
    accepted(engine);
    expect(engine.checkOrder(order()).violations[0]?.value).toBe(3);
  });

  it('frees a slot when an order expires', () => {
    const { engine, clock } = makeEngine([openOrders]);
    accepted(engine);
    clock.advance(30_000);
    accepted(engine);
    clock.advance(30_000);
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
  });

  it('keeps accounts apart when per is account', () => {
    const { engine } = makeEngine([openOrders]);
    accepted(engine);
    accepted(engine);
    expect(engine.checkOrder(order({ accountId: 'ACC-2' })).decision).toBe('ACCEPT');
  });

  it('counts every symbol of the account when per is account', () => {
    const { engine } = makeEngine([openOrders]);
    accepted(engine, { symbol: 'MSFT' });
    accepted(engine, { symbol: 'IBM' });
    expect(engine.checkOrder(order()).violations[0]?.value).toBe(3);
  });

  it('counts only the symbol when per is account+symbol', () => {
    const { engine } = makeEngine([{ ...openOrders, per: 'account+symbol' }]);
    accepted(engine, { symbol: 'MSFT' });
    accepted(engine, { symbol: 'MSFT' });
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
  });

  it('counts every account in the symbol when per is symbol', () => {
    const { engine } = makeEngine([{ ...openOrders, per: 'symbol' }]);
    accepted(engine, { accountId: 'ACC-2' });
    accepted(engine, { accountId: 'ACC-3' });
    expect(engine.checkOrder(order()).violations[0]).toMatchObject({ value: 3, key: 'symbol:AAPL' });
  });

  it('counts every account of the strategy when per is strategy', () => {
    const { engine } = makeEngine([{ ...openOrders, per: 'strategy' }]);
    accepted(engine, { accountId: 'ACC-2' });
    accepted(engine, { accountId: 'ACC-3', symbol: 'MSFT' });
    expect(engine.checkOrder(order()).violations[0]).toMatchObject({ value: 3, key: 'strategy:STRAT-1' });
  });

  it('counts the accounts of one strategy in one symbol when per is strategy+symbol', () => {
    const { engine } = makeEngine([{ ...openOrders, per: 'strategy+symbol' }]);
    accepted(engine, { accountId: 'ACC-2' });
    accepted(engine, { accountId: 'ACC-3', symbol: 'MSFT' });
    accepted(engine, { accountId: 'ACC-3', strategyId: 'STRAT-2' });
    expect(engine.checkOrder(order()).violations).toEqual([]);
    expect(engine.checkOrder(order()).violations[0]?.key).toBe('strategy+symbol:STRAT-1|AAPL');
  });

  it('counts every open order in the firm when per is global', () => {
    const { engine } = makeEngine([{ ...openOrders, per: 'global' }]);
    accepted(engine, { accountId: 'ACC-2', strategyId: 'STRAT-2', symbol: 'MSFT' });
    accepted(engine, { accountId: 'ACC-3', strategyId: 'STRAT-3', symbol: 'IBM' });
    expect(engine.checkOrder(order()).violations[0]).toMatchObject({ value: 3, key: 'global' });
  });
});
