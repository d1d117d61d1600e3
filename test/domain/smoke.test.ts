import { describe, expect, it } from 'vitest';
import { makeEngine, order } from '../support/engine-fixtures.js';

describe('engine smoke', () => {
  it('accepts under the hard threshold and rejects above it', () => {
    const { engine } = makeEngine([{ id: 'qty', kind: 'order_quantity', thresholds: { hard: 100 } }]);
    expect(engine.checkOrder(order({ quantity: 100 })).decision).toBe('ACCEPT');
    const r = engine.checkOrder(order({ quantity: 101 }));
    expect(r.decision).toBe('REJECT');
    expect(r.reasons).toEqual(['LIMIT_BREACH']);
    expect(r.violations[0]?.severity).toBe('HARD_BREACH');
  });

  it('counts the reservation of an accepted order against the next', () => {
    const { engine } = makeEngine([{ id: 'pos', kind: 'position', thresholds: { hard: 150 } }]);
    expect(engine.checkOrder(order({ quantity: 100 })).decision).toBe('ACCEPT');
    expect(engine.checkOrder(order({ quantity: 60 })).decision).toBe('REJECT');
    expect(engine.checkOrder(order({ quantity: 50 })).decision).toBe('ACCEPT');
  });
});
