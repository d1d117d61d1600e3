import { describe, expect, it } from 'vitest';
import { makeEngine, order } from '../../support/engine-fixtures.js';

const restricted = { id: 'gme', kind: 'restricted', scope: { symbols: ['GME'] }, thresholds: { hard: 0 } };

describe('restricted limit', () => {
  it('rejects every order in a restricted symbol with value 1 over a hard of 0', () => {
    const { engine } = makeEngine([restricted]);
    const result = engine.checkOrder(order({ symbol: 'GME', quantity: 1 }));
    expect(result.reasons).toEqual(['LIMIT_BREACH']);
    expect(result.violations[0]).toMatchObject({ kind: 'restricted', severity: 'HARD_BREACH', value: 1, threshold: 0, key: 'account:ACC-1' });
  });

  it('rejects a sell that would only reduce a position in a restricted symbol', () => {
    const { engine } = makeEngine([restricted]);
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'GME', quantity: 100, avgPrice: 10 }], false);
    expect(engine.checkOrder(order({ symbol: 'GME', side: 'SELL', quantity: 10 })).decision).toBe('REJECT');
  });

  it('does not apply to symbols outside its scope', () => {
    const { engine } = makeEngine([restricted]);
    expect(engine.checkOrder(order({ symbol: 'AAPL' }))).toMatchObject({ decision: 'ACCEPT', evaluated: 0 });
  });

  it('restricts only the listed accounts when scoped by account', () => {
    const { engine } = makeEngine([{ ...restricted, scope: { accounts: ['ACC-9'] } }]);
    expect(engine.checkOrder(order({ accountId: 'ACC-9' })).decision).toBe('REJECT');
    expect(engine.checkOrder(order({ accountId: 'ACC-1' })).decision).toBe('ACCEPT');
  });

  it('restricts only orders routed to a listed venue when scoped by venue', () => {
    const { engine } = makeEngine([{ ...restricted, scope: { venues: ['DARK'] } }]);
    expect(engine.checkOrder(order({ venue: 'DARK' })).decision).toBe('REJECT');
    expect(engine.checkOrder(order({ venue: 'LIT' })).decision).toBe('ACCEPT');
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
  });

  it('only warns when its hard threshold is 1 and warn is 0', () => {
    const { engine } = makeEngine([{ ...restricted, thresholds: { warn: 0, hard: 1 } }]);
    const result = engine.checkOrder(order({ symbol: 'GME' }));
    expect(result.decision).toBe('ACCEPT');
    expect(result.violations[0]?.severity).toBe('WARNING');
  });

  it('halts the symbol when its critical threshold is 0 and per is symbol', () => {
    const { engine } = makeEngine([{ ...restricted, per: 'symbol', thresholds: { hard: 0, critical: 0 } }]);
    expect(engine.checkOrder(order({ symbol: 'GME' })).violations[0]).toMatchObject({ severity: 'CRITICAL', action: 'HALT', key: 'symbol:GME' });
    expect(engine.tradingStates.get('symbol:GME')?.state).toBe('HALTED');
  });
});
