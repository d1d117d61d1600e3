import { describe, expect, it } from 'vitest';
import type { EngineSnapshot } from '../../src/domain/engine.js';
import { LimitEngine, PositionsReplacingError } from '../../src/domain/engine.js';
import type { StateEvent } from '../../src/domain/events.js';
import type { PositionRow } from '../../src/domain/orders.js';
import { accepted, setReference } from '../support/engine-actions.js';
import { FakeClock } from '../support/fake-clock.js';
import { makeEngine, order, testConfig } from '../support/engine-fixtures.js';

const POSITION = { id: 'pos', kind: 'position', thresholds: { hard: 1_000 } };
const held = (accountId: string, symbol: string, quantity: number): PositionRow => ({ accountId, strategyId: 'STRAT-1', symbol, quantity, avgPrice: 100 });
const OLD = [held('ACC-1', 'AAPL', 900), held('ACC-2', 'AAPL', 50), held('ACC-3', 'MSFT', 10)];
const NEW = [[held('ACC-1', 'AAPL', 10), held('ACC-4', 'IBM', 5)], [held('ACC-2', 'MSFT', 70)], [held('ACC-5', 'AAPL', -20)]];

/** An engine holding OLD, with one open order, prices set, journalling into `events` from then on. */
function holding() {
  const { engine, clock } = makeEngine([POSITION]);
  setReference(engine, { AAPL: 100, MSFT: 100, IBM: 100 });
  engine.applyPositions(OLD, false);
  accepted(engine, { orderId: 'resting', accountId: 'ACC-1', quantity: 50 });
  const events: StateEvent[] = [];
  engine.recordEventsTo((event) => events.push(JSON.parse(JSON.stringify(event)) as StateEvent));
  return { engine, clock, events };
}

const ledgerOf = (engine: LimitEngine) => engine.captureState().ledger;

describe('a positions replace applied in slices', () => {
  it('rejects checks POSITIONS_REPLACING from its first slice to its last, and leaves the book a one-step replace leaves', () => {
    const { engine } = holding();
    const { engine: inOneStep } = holding();
    inOneStep.applyPositions(NEW.flat(), true);

    engine.replacePositionsSlice(NEW[0]!, true, false);
    expect(engine.isReplacingPositions).toBe(true);
    expect(engine.checkOrder(order({ accountId: 'ACC-2', quantity: 1 }))).toMatchObject({ decision: 'REJECT', reasons: ['POSITIONS_REPLACING'], evaluated: 0 });
    const batch = engine.checkBatch([order({ quantity: 1 }), order({ quantity: 1 })], { atomic: true });
    expect(batch.results.map((r) => r.reasons)).toEqual([['POSITIONS_REPLACING'], ['BATCH_REJECTED']]);
    engine.replacePositionsSlice(NEW[1]!, false, false);
    expect(engine.checkOrder(order({ quantity: 1 })).reasons).toEqual(['POSITIONS_REPLACING']);
    engine.replacePositionsSlice(NEW[2]!, false, true);

    expect(engine.isReplacingPositions).toBe(false);
    expect(ledgerOf(engine)).toEqual(ledgerOf(inOneStep));
    // ACC-1 now holds 10 (its 900 are gone) and still the resting 50: 10 + 50 + 100 is clean.
    expect(engine.checkOrder(order({ accountId: 'ACC-1', quantity: 100 })).decision).toBe('ACCEPT');
  });

  it('refuses executions, merges and a session reset while under way, changing nothing, and takes them once it has ended', () => {
    const { engine } = holding();
    engine.replacePositionsSlice(NEW[0]!, true, false);
    const before = JSON.stringify(engine.captureState());
    expect(() => engine.applyExecutions([{ type: 'CANCEL', accountId: 'ACC-1', orderId: 'resting' }])).toThrow(PositionsReplacingError);
    expect(() => engine.applyPositions([held('ACC-9', 'AAPL', 1)], false)).toThrow(PositionsReplacingError);
    expect(() => engine.resetSession()).toThrow(PositionsReplacingError);
    expect(JSON.stringify(engine.captureState())).toBe(before);
    // A kill switch is not a change of the book being replaced: it is taken at once.
    expect(engine.setTradingState('global', undefined, 'HALTED', 'test').state).toBe('HALTED');
    engine.replacePositionsSlice(NEW[1]!, false, true);
    expect(engine.applyExecutions([{ type: 'CANCEL', accountId: 'ACC-1', orderId: 'resting' }])[0]!.outcome).toBe('applied');
  });

  it('refuses a later slice when no replace is under way, changing nothing', () => {
    const { engine, events } = holding();
    const before = JSON.stringify(ledgerOf(engine));
    expect(() => engine.replacePositionsSlice(NEW[1]!, false, true)).toThrow(PositionsReplacingError);
    expect(JSON.stringify(ledgerOf(engine))).toBe(before);
    expect(events).toEqual([]);
  });

  it('ends, when left unfinished, with the next replace in one step or in slices, not with a merge', () => {
    const { engine } = holding();
    engine.replacePositionsSlice(NEW[0]!, true, false);
    engine.applyPositions(OLD, true);
    expect(engine.isReplacingPositions).toBe(false);
    engine.replacePositionsSlice(NEW[0]!, true, false);
    engine.replacePositionsSlice(NEW[0]!, true, true);
    expect(engine.isReplacingPositions).toBe(false);
  });

  it('keeps the first slice refused for capacity from starting it', () => {
    const { engine } = makeEngine([], { capacity: { ...testConfig().capacity, maxPositions: 2 } });
    expect(() => engine.replacePositionsSlice([held('A', 'AAPL', 1), held('B', 'AAPL', 1), held('C', 'AAPL', 1)], true, false)).toThrow(/maxPositions/);
    expect(engine.isReplacingPositions).toBe(false);
  });

  it('is replayed from its journal records as it was made, half way included, and kept in snapshots', () => {
    const { engine, events } = holding();
    const start = JSON.parse(JSON.stringify(engine.captureState())) as EngineSnapshot;
    engine.replacePositionsSlice(NEW[0]!, true, false);
    engine.replacePositionsSlice(NEW[1]!, false, false);
    const halfWay = JSON.parse(JSON.stringify(engine.captureState())) as EngineSnapshot;
    expect(halfWay.replacingPositions).toBe(true);

    const replayed = new LimitEngine(testConfig(), new FakeClock(), []);
    replayed.restoreState(start);
    for (const event of events) replayed.replay(event);
    expect(replayed.isReplacingPositions).toBe(true);
    expect(replayed.captureState()).toEqual(halfWay);

    const restored = new LimitEngine(testConfig(), new FakeClock(), []);
    restored.restoreState(halfWay);
    setReference(restored, { AAPL: 100, MSFT: 100, IBM: 100 });
    expect(restored.checkOrder(order({ quantity: 1 })).reasons).toEqual(['POSITIONS_REPLACING']);

    engine.replacePositionsSlice(NEW[2]!, false, true);
    replayed.replay(events.at(-1)!);
    expect(replayed.isReplacingPositions).toBe(false);
    expect(replayed.captureState()).toEqual(engine.captureState());
    expect(engine.captureState().replacingPositions).toBeUndefined();
  });
});
