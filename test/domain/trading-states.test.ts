import { describe, expect, it } from 'vitest';
import type { Aggregation } from '../../src/domain/enums.js';
import type { Order } from '../../src/domain/orders.js';
import { makeEngine, order } from '../support/engine-fixtures.js';
import { accepted } from '../support/engine-actions.js';

/** For each scope type: the id that matches the default order, and an order that it must not touch. */
const SCOPES: [Aggregation, string | undefined, Partial<Order> | undefined][] = [
  ['global', undefined, undefined],
  ['account', 'ACC-1', { accountId: 'ACC-2' }],
  ['strategy', 'STRAT-1', { strategyId: 'STRAT-2' }],
  ['symbol', 'AAPL', { symbol: 'MSFT' }],
  ['account+symbol', 'ACC-1|AAPL', { symbol: 'MSFT' }],
  ['strategy+symbol', 'STRAT-1|AAPL', { strategyId: 'STRAT-2' }],
];
const OUTSIDE = SCOPES.filter(([, , outside]) => outside !== undefined) as [Aggregation, string, Partial<Order>][];

/** ACC-1 long 100 AAPL through STRAT-1. */
function longEngine(limits: unknown[] = []) {
  const setup = makeEngine(limits);
  setup.engine.applyPositions([{ accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: 'AAPL', quantity: 100, avgPrice: 10 }], false);
  return setup;
}

describe('trading states', () => {
  it.each(SCOPES)('rejects every order with HALTED when the %s scope is halted', (type, id) => {
    const { engine } = longEngine([{ id: 'qty', kind: 'order_quantity', thresholds: { hard: 1_000 } }]);
    engine.setTradingState(type, id, 'HALTED', 'ops');
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 10 }))).toMatchObject({ decision: 'REJECT', reasons: ['HALTED'], evaluated: 0, violations: [] });
  });

  it.each(OUTSIDE)('leaves orders outside a halted %s scope alone', (type, id, outside) => {
    const { engine } = makeEngine([]);
    engine.setTradingState(type, id, 'HALTED', 'ops');
    expect(engine.checkOrder(order(outside)).decision).toBe('ACCEPT');
  });

  it.each(SCOPES)('rejects an order that adds to the position with REDUCE_ONLY when the %s scope is reduce-only', (type, id) => {
    const { engine } = longEngine();
    engine.setTradingState(type, id, 'REDUCE_ONLY', 'ops');
    expect(engine.checkOrder(order({ side: 'BUY', quantity: 10 }))).toMatchObject({ decision: 'REJECT', reasons: ['REDUCE_ONLY'], evaluated: 0 });
  });

  it.each(SCOPES)('accepts a reducing sell when the %s scope is reduce-only', (type, id) => {
    const { engine } = longEngine();
    engine.setTradingState(type, id, 'REDUCE_ONLY', 'ops');
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 10 })).decision).toBe('ACCEPT');
  });

  it('accepts a reduce-only sell that brings the long exactly to flat', () => {
    const { engine } = longEngine();
    engine.setTradingState('account', 'ACC-1', 'REDUCE_ONLY', 'ops');
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 100 })).decision).toBe('ACCEPT');
  });

  it('rejects a reduce-only sell that would flip the long into a short', () => {
    const { engine } = longEngine();
    engine.setTradingState('account', 'ACC-1', 'REDUCE_ONLY', 'ops');
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 101 })).reasons).toEqual(['REDUCE_ONLY']);
  });

  it('rejects a reduce-only sell that would flip once the open sells fill too', () => {
    const { engine } = longEngine();
    engine.setTradingState('account', 'ACC-1', 'REDUCE_ONLY', 'ops');
    accepted(engine, { side: 'SELL', quantity: 60 });
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 41 })).reasons).toEqual(['REDUCE_ONLY']);
  });

  it('accepts a reduce-only buy that covers part of a short', () => {
    const { engine } = makeEngine([]);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: -100, avgPrice: 10 }], false);
    engine.setTradingState('account', 'ACC-1', 'REDUCE_ONLY', 'ops');
    expect(engine.checkOrder(order({ side: 'BUY', quantity: 100 })).decision).toBe('ACCEPT');
  });

  it('rejects any reduce-only order from a flat position', () => {
    const { engine } = makeEngine([]);
    engine.setTradingState('global', undefined, 'REDUCE_ONLY', 'ops');
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 1 })).reasons).toEqual(['REDUCE_ONLY']);
  });

  it('still checks limits on a reducing order in a reduce-only scope', () => {
    const { engine } = longEngine([{ id: 'qty', kind: 'order_quantity', thresholds: { hard: 5 } }]);
    engine.setTradingState('account', 'ACC-1', 'REDUCE_ONLY', 'ops');
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 10 }))).toMatchObject({ reasons: ['LIMIT_BREACH'], evaluated: 1 });
  });

  it('applies a halted symbol over a reduce-only account, rejecting even a reducing order', () => {
    const { engine } = longEngine();
    engine.setTradingState('account', 'ACC-1', 'REDUCE_ONLY', 'ops');
    engine.setTradingState('symbol', 'AAPL', 'HALTED', 'ops');
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 10 })).reasons).toEqual(['HALTED']);
  });

  it('applies a halted account over a reduce-only firm', () => {
    const { engine } = longEngine();
    engine.setTradingState('global', undefined, 'REDUCE_ONLY', 'ops');
    engine.setTradingState('account', 'ACC-1', 'HALTED', 'ops');
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 10 })).reasons).toEqual(['HALTED']);
  });

  it('lifts a halt when an operator sets the scope ACTIVE', () => {
    const { engine } = makeEngine([]);
    engine.setTradingState('account', 'ACC-1', 'HALTED', 'ops');
    engine.setTradingState('account', 'ACC-1', 'ACTIVE', 'ops');
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
    expect(engine.tradingStates.size).toBe(0);
  });

  it('lifts one halt and keeps another: the lifted scope is gone from every index', () => {
    const { engine } = makeEngine([]);
    engine.setTradingState('account', 'ACC-1', 'HALTED', 'ops');
    engine.setTradingState('account', 'ACC-2', 'HALTED', 'ops');
    engine.setTradingState('account', 'ACC-1', 'ACTIVE', 'ops');
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
    expect(engine.checkOrder(order({ accountId: 'ACC-2' })).reasons).toEqual(['HALTED']);
    expect(engine.tradingStates.size).toBe(1);
  });

  it('lets an operator loosen a halt to reduce-only', () => {
    const { engine } = longEngine();
    engine.setTradingState('account', 'ACC-1', 'HALTED', 'ops');
    engine.setTradingState('account', 'ACC-1', 'REDUCE_ONLY', 'ops');
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 10 })).decision).toBe('ACCEPT');
  });

  it('checks the halt before the duplicate order id', () => {
    const { engine } = makeEngine([]);
    const o = accepted(engine);
    engine.setTradingState('global', undefined, 'HALTED', 'ops');
    expect(engine.checkOrder(o).reasons).toEqual(['HALTED']);
  });

  it('records who set a state and why', () => {
    const { engine, clock } = makeEngine([]);
    engine.setTradingState('strategy', 'STRAT-1', 'HALTED', 'runaway algo');
    expect(engine.tradingStates.get('strategy:STRAT-1')).toEqual({
      scope: 'strategy:STRAT-1',
      state: 'HALTED',
      reason: 'runaway algo',
      setAt: clock.now(),
      source: 'api',
    });
  });
});

describe('trading states set by limit actions', () => {
  const critical = { id: 'qty', kind: 'order_quantity', thresholds: { hard: 100, critical: 200 } };

  it('halts the violated account when a CRITICAL violation has the HALT action', () => {
    const { engine } = makeEngine([critical]);
    const result = engine.checkOrder(order({ quantity: 201 }));
    expect(result.reasons).toEqual(['LIMIT_BREACH']);
    expect(engine.tradingStates.get('account:ACC-1')).toMatchObject({ state: 'HALTED', source: 'limit:qty' });
  });

  it('rejects the next order of the halted account with HALTED', () => {
    const { engine } = makeEngine([critical]);
    engine.checkOrder(order({ quantity: 201 }));
    expect(engine.checkOrder(order({ quantity: 1 })).reasons).toEqual(['HALTED']);
  });

  it('leaves other accounts trading after halting one', () => {
    const { engine } = makeEngine([critical]);
    engine.checkOrder(order({ quantity: 201 }));
    expect(engine.checkOrder(order({ accountId: 'ACC-2', quantity: 1 })).decision).toBe('ACCEPT');
  });

  it('does not change any state on a HARD_BREACH with the BLOCK action', () => {
    const { engine } = makeEngine([critical]);
    engine.checkOrder(order({ quantity: 200 }));
    expect(engine.tradingStates.size).toBe(0);
  });

  it('does not halt when the CRITICAL action is overridden to BLOCK', () => {
    const { engine } = makeEngine([{ ...critical, actions: { CRITICAL: 'BLOCK' } }]);
    expect(engine.checkOrder(order({ quantity: 201 })).violations[0]).toMatchObject({ severity: 'CRITICAL', action: 'BLOCK' });
    expect(engine.tradingStates.size).toBe(0);
  });

  it('sets the violated key reduce-only when the action is REDUCE_ONLY', () => {
    const { engine } = makeEngine([{ ...critical, per: 'account+symbol', actions: { HARD_BREACH: 'REDUCE_ONLY' } }]);
    const result = engine.checkOrder(order({ quantity: 101 }));
    expect(result).toMatchObject({ decision: 'REJECT', reasons: ['LIMIT_BREACH'] });
    expect(engine.tradingStates.get('account+symbol:ACC-1|AAPL')?.state).toBe('REDUCE_ONLY');
    expect(engine.checkOrder(order({ quantity: 1 })).reasons).toEqual(['REDUCE_ONLY']);
  });

  it('never loosens a halted scope to reduce-only', () => {
    const { engine } = makeEngine([{ id: 'm', kind: 'value', per: 'account', thresholds: { hard: 1 }, actions: { HARD_BREACH: 'REDUCE_ONLY' } }]);
    engine.setTradingState('account', 'ACC-1', 'HALTED', 'ops');
    engine.evaluateValue('m', 2, 'ACC-1');
    expect(engine.tradingStates.get('account:ACC-1')).toMatchObject({ state: 'HALTED', source: 'api' });
  });

  it('tightens a reduce-only scope to halted', () => {
    const { engine } = makeEngine([{ id: 'm', kind: 'value', per: 'account', thresholds: { hard: 1 }, actions: { HARD_BREACH: 'HALT' } }]);
    engine.setTradingState('account', 'ACC-1', 'REDUCE_ONLY', 'ops');
    engine.evaluateValue('m', 2, 'ACC-1');
    expect(engine.tradingStates.get('account:ACC-1')).toMatchObject({ state: 'HALTED', source: 'limit:m' });
  });
});
