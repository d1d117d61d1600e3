import { describe, expect, it } from 'vitest';
import { makeEngine, order } from '../../support/engine-fixtures.js';
import { accepted, cancel, fill } from '../../support/engine-actions.js';

const position = { id: 'pos', kind: 'position', thresholds: { hard: 1_000 } };

describe('position limit', () => {
  it('accepts a buy from flat that lifts the net position to exactly hard', () => {
    const { engine } = makeEngine([position]);
    expect(engine.checkOrder(order({ quantity: 1_000 }))).toMatchObject({ decision: 'ACCEPT', violations: [] });
  });

  it('rejects a buy that would lift the net position a small epsilon above hard', () => {
    const { engine } = makeEngine([position]);
    const result = engine.checkOrder(order({ quantity: 1_000.5 }));
    expect(result.reasons).toEqual(['LIMIT_BREACH']);
    expect(result.violations[0]).toMatchObject({ value: 1_000.5, threshold: 1_000, key: 'account+symbol:ACC-1|AAPL' });
  });

  it('counts open buy reservations against a new buy', () => {
    const { engine } = makeEngine([position]);
    accepted(engine, { quantity: 600 });
    expect(engine.checkOrder(order({ quantity: 401 })).violations[0]?.value).toBe(1_001);
  });

  it('does not let open sells offset a new buy', () => {
    const { engine } = makeEngine([position]);
    accepted(engine, { side: 'SELL', quantity: 500 });
    expect(engine.checkOrder(order({ side: 'BUY', quantity: 1_001 })).violations[0]?.value).toBe(1_001);
  });

  it('rejects a sell from flat that would go short beyond hard', () => {
    const { engine } = makeEngine([position]);
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 1_001 })).violations[0]?.value).toBe(1_001);
  });

  it('counts open sell reservations against a new sell', () => {
    const { engine } = makeEngine([position]);
    accepted(engine, { side: 'SELL', quantity: 700 });
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 300 })).decision).toBe('ACCEPT');
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 1 })).decision).toBe('REJECT');
  });

  it('adds the filled position to a new buy', () => {
    const { engine } = makeEngine([position]);
    fill(engine, accepted(engine, { quantity: 600 }));
    expect(engine.checkOrder(order({ quantity: 400 })).decision).toBe('ACCEPT');
    expect(engine.checkOrder(order({ quantity: 1 })).violations[0]?.value).toBe(1_001);
  });

  it('accepts a sell that brings a long above hard down to exactly hard', () => {
    const { engine } = makeEngine([position]);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 1_500, avgPrice: 100 }], false);
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 500 })).decision).toBe('ACCEPT');
  });

  it('rejects a sell that leaves a long still above hard', () => {
    const { engine } = makeEngine([position]);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 1_500, avgPrice: 100 }], false);
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 499 })).violations[0]?.value).toBe(1_001);
  });

  it('rejects a sell that flips a long into a short beyond hard', () => {
    const { engine } = makeEngine([position]);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 500, avgPrice: 100 }], false);
    expect(engine.checkOrder(order({ side: 'SELL', quantity: 1_600 })).violations[0]?.value).toBe(1_100);
  });

  it('frees the reservation of a cancelled order', () => {
    const { engine } = makeEngine([position]);
    cancel(engine, accepted(engine, { quantity: 600 }));
    expect(engine.checkOrder(order({ quantity: 1_000 })).decision).toBe('ACCEPT');
  });

  it('keeps other symbols and other accounts apart when per is account+symbol', () => {
    const { engine } = makeEngine([position]);
    accepted(engine, { quantity: 1_000 });
    expect(engine.checkOrder(order({ symbol: 'MSFT', quantity: 1_000 })).decision).toBe('ACCEPT');
    expect(engine.checkOrder(order({ accountId: 'ACC-2', quantity: 1_000 })).decision).toBe('ACCEPT');
  });

  it('adds up every account in the symbol when per is symbol', () => {
    const { engine } = makeEngine([{ ...position, per: 'symbol' }]);
    accepted(engine, { accountId: 'ACC-1', quantity: 600 });
    const result = engine.checkOrder(order({ accountId: 'ACC-2', strategyId: 'STRAT-2', quantity: 401 }));
    expect(result.violations[0]).toMatchObject({ value: 1_001, key: 'symbol:AAPL' });
  });

  it('adds up the accounts of one strategy when per is strategy+symbol', () => {
    const { engine } = makeEngine([{ ...position, per: 'strategy+symbol' }]);
    accepted(engine, { accountId: 'ACC-1', quantity: 600 });
    const result = engine.checkOrder(order({ accountId: 'ACC-2', quantity: 401 }));
    expect(result.violations[0]).toMatchObject({ value: 1_001, key: 'strategy+symbol:STRAT-1|AAPL' });
  });

  it('keeps strategies apart when per is strategy+symbol', () => {
    const { engine } = makeEngine([{ ...position, per: 'strategy+symbol' }]);
    accepted(engine, { quantity: 600 });
    expect(engine.checkOrder(order({ strategyId: 'STRAT-2', quantity: 1_000 })).decision).toBe('ACCEPT');
  });
});
