import { describe, expect, it } from 'vitest';
import { FakeClock } from '../support/fake-clock.js';
import { makeEngine, order } from '../support/engine-fixtures.js';

const qty = { id: 'qty', kind: 'order_quantity', thresholds: { hard: 10, critical: 20 } };
const rate = { id: 'rate', kind: 'order_rate', windowMs: 60_000, thresholds: { hard: 1 } };
const position = { id: 'pos', kind: 'position', thresholds: { hard: 1_000 } };

/** A clock whose monotonic reading advances by 1 ms on every deadline read. */
const steppingClock = () => new FakeClock(undefined, 1);

describe('deadlines', () => {
  it('rejects with DEADLINE_EXCEEDED when the budget runs out between two limits', () => {
    const { engine } = makeEngine([qty, position, rate], {}, steppingClock());
    // Reads: 0 before the order, 1 before qty, 2 before position: spent.
    const result = engine.checkOrder(order({ quantity: 5 }), 2);
    expect(result).toMatchObject({ decision: 'REJECT', reasons: ['DEADLINE_EXCEEDED'], violations: [], evaluated: 1 });
  });

  it('records no violation and sets no state for a breach found before the budget ran out', () => {
    const { engine } = makeEngine([qty, position], {}, steppingClock());
    engine.checkOrder(order({ quantity: 25 }), 2);
    expect([engine.violations.historySize, engine.violations.activeCount, engine.tradingStates.size]).toEqual([0, 0, 0]);
  });

  it('reserves nothing for an order whose budget runs out mid-check', () => {
    const { engine } = makeEngine([qty, position], {}, steppingClock());
    engine.checkOrder(order({ quantity: 5 }), 2);
    expect([engine.ledger.openOrderCount, engine.ledger.positionCount]).toEqual([0, 0]);
  });

  it('does not count an order rejected at its deadline in the rate window', () => {
    const { engine } = makeEngine([rate, position], {}, steppingClock());
    expect(engine.checkOrder(order(), 2).reasons).toEqual(['DEADLINE_EXCEEDED']);
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
  });

  it('does not resolve an active violation when the budget runs out after the clean limit', () => {
    const { engine } = makeEngine([qty, position], {}, steppingClock());
    engine.checkOrder(order({ quantity: 11 }));
    engine.checkOrder(order({ quantity: 1 }), 2);
    expect(engine.violations.activeCount).toBe(1);
  });

  it('rejects an order whose budget is spent before its first limit with nothing evaluated', () => {
    const { engine, clock } = makeEngine([qty]);
    const deadline = clock.monotonic() + 5;
    clock.advance(5);
    expect(engine.checkOrder(order(), deadline)).toMatchObject({ reasons: ['DEADLINE_EXCEEDED'], evaluated: 0 });
  });

  it('accepts an order that finishes every limit inside its budget', () => {
    const { engine } = makeEngine([qty, position, rate], {}, steppingClock());
    // Reads: 0 before the order, 1-3 before each limit, 4 at the commit point.
    expect(engine.checkOrder(order({ quantity: 5 }), 5)).toMatchObject({ decision: 'ACCEPT', evaluated: 3 });
  });

  it('rejects an order whose budget runs out during its last limit: no violation, nothing reserved', () => {
    const { engine } = makeEngine([qty, position, rate], {}, steppingClock());
    const result = engine.checkOrder(order({ quantity: 15 }), 4);
    expect(result).toMatchObject({ decision: 'REJECT', reasons: ['DEADLINE_EXCEEDED'], violations: [], evaluated: 3 });
    expect([engine.violations.historySize, engine.ledger.openOrderCount]).toEqual([0, 0]);
    expect(engine.checkOrder(order({ quantity: 5 })).decision).toBe('ACCEPT');
  });

  it('never reads the monotonic clock when no deadline is given', () => {
    const { engine, clock } = makeEngine([qty, position, rate], {}, steppingClock());
    engine.checkOrder(order({ quantity: 5 }));
    engine.checkBatch([order({ quantity: 5 })]);
    expect(clock.monotonicReads).toBe(0);
  });

  it('rejects the remaining orders of a batch once the budget runs out between them', () => {
    const { engine } = makeEngine([], {}, steppingClock());
    // Two reads an order: before it and at its commit point.
    const { results, summary } = engine.checkBatch([order(), order(), order(), order()], { deadline: 4 });
    expect(results.map((r) => r.reasons)).toEqual([[], [], ['DEADLINE_EXCEEDED'], ['DEADLINE_EXCEEDED']]);
    expect(summary).toEqual({ total: 4, accepted: 2, rejected: 2 });
    expect(engine.ledger.openOrderCount).toBe(2);
  });

  it('takes back an atomic batch whose budget runs out partway', () => {
    const { engine } = makeEngine([], {}, steppingClock());
    const { results } = engine.checkBatch([order(), order(), order(), order()], { atomic: true, deadline: 4 });
    expect(results.map((r) => r.reasons)).toEqual([['BATCH_REJECTED'], ['BATCH_REJECTED'], ['DEADLINE_EXCEEDED'], ['BATCH_REJECTED']]);
    expect(engine.ledger.openOrderCount).toBe(0);
  });
});
