import { describe, expect, it } from 'vitest';
import type { EngineSnapshot } from '../../src/domain/engine.js';
import { FLATTEN_GROUP_WEIGHT, LimitEngine, PositionsReplacingError } from '../../src/domain/engine.js';
import type { StateEvent } from '../../src/domain/events.js';
import type { PositionRow } from '../../src/domain/orders.js';
import { accepted, setReference } from '../support/engine-actions.js';
import { FakeClock } from '../support/fake-clock.js';
import { makeEngine, order, testConfig } from '../support/engine-fixtures.js';

const POSITION = { id: 'pos', kind: 'position', thresholds: { hard: 1_000 } };
const held = (accountId: string, symbol: string, quantity: number, strategyId = 'STRAT-1'): PositionRow => ({ accountId, strategyId, symbol, quantity, avgPrice: 100 });
const OLD = [held('ACC-1', 'AAPL', 900), held('ACC-2', 'AAPL', 50, 'STRAT-2'), held('ACC-3', 'MSFT', 10), held('ACC-6', 'IBM', 3)];
const NEW = [[held('ACC-1', 'AAPL', 10), held('ACC-4', 'IBM', 5)], [held('ACC-2', 'MSFT', 70)], [held('ACC-5', 'AAPL', -20)]];

/** An engine holding OLD, with open orders, prices set, journalling into `events` from then on. */
function holding() {
  const { engine, clock } = makeEngine([POSITION]);
  setReference(engine, { AAPL: 100, MSFT: 100, IBM: 100 });
  engine.applyPositions(OLD, false);
  accepted(engine, { orderId: 'resting', accountId: 'ACC-1', quantity: 50 });
  // ACC-7 holds nothing but this order: its group goes when the order does.
  accepted(engine, { orderId: 'leaves', accountId: 'ACC-7', symbol: 'IBM', quantity: 1 });
  const events: StateEvent[] = [];
  engine.recordEventsTo((event) => events.push(JSON.parse(JSON.stringify(event)) as StateEvent));
  return { engine, clock, events };
}

/** A whole replace in slices: flattening `budget` positions a step, then NEW's slices. */
function replaceInSlices(engine: LimitEngine, budget = 1): void {
  engine.beginPositionsReplace();
  while (engine.flattenForReplace(budget));
  NEW.forEach((rows, i) => engine.replacePositionsSlice(rows, i === NEW.length - 1));
}

const ledgerOf = (engine: LimitEngine) => engine.captureState().ledger;

describe('a positions replace applied in slices', () => {
  it('rejects checks POSITIONS_REPLACING from its beginning to its last slice, and leaves the book a one-step replace leaves', () => {
    const { engine } = holding();
    const { engine: inOneStep } = holding();
    inOneStep.applyPositions(NEW.flat(), true);

    engine.beginPositionsReplace();
    expect(engine.isReplacingPositions).toBe(true);
    expect(engine.checkOrder(order({ accountId: 'ACC-2', quantity: 1 }))).toMatchObject({ decision: 'REJECT', reasons: ['POSITIONS_REPLACING'], evaluated: 0 });
    expect(engine.flattenForReplace(1)).toBe(true);
    const batch = engine.checkBatch([order({ quantity: 1 }), order({ quantity: 1 })], { atomic: true });
    expect(batch.results.map((r) => r.reasons)).toEqual([['POSITIONS_REPLACING'], ['BATCH_REJECTED']]);
    while (engine.flattenForReplace(1));
    engine.replacePositionsSlice(NEW[0]!, false);
    engine.replacePositionsSlice(NEW[1]!, false);
    expect(engine.checkOrder(order({ quantity: 1 })).reasons).toEqual(['POSITIONS_REPLACING']);
    engine.replacePositionsSlice(NEW[2]!, true);

    expect(engine.isReplacingPositions).toBe(false);
    expect(ledgerOf(engine)).toEqual(ledgerOf(inOneStep));
    // ACC-1 now holds 10 (its 900 are gone) and still the resting 50: 10 + 50 + 100 is clean.
    expect(engine.checkOrder(order({ accountId: 'ACC-1', quantity: 100 })).decision).toBe('ACCEPT');
  });

  it('flattens whole groups of at most the budget a step, or one alone that holds more', () => {
    const { engine, events } = holding();
    // ACC-1, ACC-2, ACC-3, ACC-6 and ACC-7 (its open order) have one exposure each, ACC-BIG 10;
    // STRAT-1 and the firm hold ACC-BIG's too.
    engine.applyPositions(Array.from({ length: 10 }, (_, i) => held('ACC-BIG', `B${i}`, 1)), false);
    const bigAt = engine.ledger.accounts.get('ACC-BIG')!;
    expect(bigAt.exposures).toHaveLength(10);
    events.length = 0;
    engine.beginPositionsReplace();
    // Room for two groups of one exposure a step.
    while (engine.flattenForReplace(2 * (1 + FLATTEN_GROUP_WEIGHT)));
    const steps = events.flatMap((e) => (e.type === 'positions_flattened' ? [[...e.accounts, ...e.strategies, ...(e.firm ? ['firm'] : [])]] : []));
    expect(steps).toEqual([[], ['ACC-1', 'ACC-2'], ['ACC-3', 'ACC-6'], ['ACC-7'], ['ACC-BIG'], ['STRAT-1'], ['STRAT-2'], ['firm']]);
  });

  it('flattens a group a step or all at once alike', () => {
    const { engine: inOneStep } = holding();
    inOneStep.applyPositions(NEW.flat(), true);
    for (const budget of [1, 3, Number.POSITIVE_INFINITY]) {
      const { engine } = holding();
      replaceInSlices(engine, budget);
      expect(ledgerOf(engine)).toEqual(ledgerOf(inOneStep));
    }
  });

  it('refuses fills, merges and a session reset while under way, changing nothing, and takes them once it has ended', () => {
    const { engine } = holding();
    engine.beginPositionsReplace();
    engine.flattenForReplace(1);
    const before = JSON.stringify(engine.captureState());
    const fill = { type: 'FILL', accountId: 'ACC-1', orderId: 'resting', quantity: 1, price: 100 } as const;
    // A fill refuses the whole call, cancels with it included, wherever it is.
    const cancel = { type: 'CANCEL', accountId: 'ACC-7', orderId: 'leaves' } as const;
    expect(() => engine.applyExecutions([cancel, fill])).toThrow(PositionsReplacingError);
    expect(() => engine.applyExecutions([fill, cancel])).toThrow(PositionsReplacingError);
    expect(() => engine.applyPositions([held('ACC-9', 'AAPL', 1)], false)).toThrow(PositionsReplacingError);
    expect(() => engine.resetSession()).toThrow(PositionsReplacingError);
    expect(JSON.stringify(engine.captureState())).toBe(before);
    // A kill switch is not a change of the book being replaced: it is taken at once.
    expect(engine.setTradingState('global', undefined, 'HALTED', 'test').state).toBe('HALTED');
    while (engine.flattenForReplace(1));
    // A cancel only releases an open order: it goes on.
    expect(engine.applyExecutions([{ type: 'CANCEL', accountId: 'ACC-7', orderId: 'leaves' }])[0]!.outcome).toBe('applied');
    engine.replacePositionsSlice(NEW[1]!, true);
    expect(engine.applyExecutions([fill])[0]!.outcome).toBe('applied');
  });

  it('refuses rows before the flattening has ended (it would flatten them), and a restore ends the flattening', () => {
    const { engine, events } = holding();
    const before = JSON.parse(JSON.stringify(engine.captureState())) as EngineSnapshot;
    engine.beginPositionsReplace();
    expect(engine.flattenForReplace(1)).toBe(true);
    const flattened = JSON.stringify(ledgerOf(engine));
    events.length = 0;
    expect(() => engine.replacePositionsSlice(NEW[0]!, true)).toThrow(/still being flattened/);
    expect(JSON.stringify(ledgerOf(engine))).toBe(flattened);
    expect(events).toEqual([]);
    // A rewind to what the disk holds replaces the groups the flattening was going over.
    engine.rewindTo(before);
    expect(() => engine.flattenForReplace(1)).toThrow(PositionsReplacingError);
  });

  it('refuses to flatten or add rows when no replace is under way, changing nothing', () => {
    const { engine, events } = holding();
    engine.beginPositionsReplace();
    engine.applyPositions(OLD, true);
    events.length = 0;
    const before = JSON.stringify(ledgerOf(engine));
    expect(() => engine.flattenForReplace(1)).toThrow(PositionsReplacingError);
    expect(() => engine.replacePositionsSlice(NEW[1]!, true)).toThrow(PositionsReplacingError);
    expect(JSON.stringify(ledgerOf(engine))).toBe(before);
    expect(events).toEqual([]);
  });

  it('is ended in replay, and in a restore, by what ends it live: a replace in one step, a snapshot taken before it began', () => {
    const { engine, events } = holding();
    const before = JSON.parse(JSON.stringify(engine.captureState())) as EngineSnapshot;
    engine.beginPositionsReplace();
    engine.flattenForReplace(1);
    engine.applyPositions(OLD, true);
    const replayed = new LimitEngine(testConfig(), new FakeClock(), []);
    replayed.restoreState(before);
    for (const event of events.slice(0, 2)) replayed.replay(event);
    expect(replayed.isReplacingPositions).toBe(true);
    replayed.replay(events[2]!);
    expect(replayed.isReplacingPositions).toBe(false);
    replayed.beginPositionsReplace();
    replayed.restoreState(before);
    expect(replayed.isReplacingPositions).toBe(false);
  });

  it.each(['in one step', 'in slices'])('has the walks see a loss a replace %s brings, their bound sums made again (found by review)', (how) => {
    const { engine } = makeEngine([{ id: 'loss', kind: 'daily_loss', per: 'account', thresholds: { hard: 6_000 } }]);
    setReference(engine, { AAPL: 100 });
    engine.applyPositions([{ ...held('ACC-1', 'AAPL', 100), avgPrice: 50 }], false);
    // 5,000 up at the reference: the check's walk stamps the account's bound sums so.
    expect(engine.checkOrder(order({ quantity: 1, price: 100 })).decision).toBe('ACCEPT');
    const rows = [{ ...held('ACC-1', 'AAPL', 100), avgPrice: 200 }];
    if (how === 'in one step') {
      engine.applyPositions(rows, true);
    } else {
      engine.beginPositionsReplace();
      while (engine.flattenForReplace(1));
      engine.replacePositionsSlice(rows, true);
    }
    // 10,000 down now.
    expect(engine.checkOrder(order({ quantity: 1, price: 100 })).reasons).toEqual(['LIMIT_BREACH']);
  });

  it('ends, when left unfinished, with the next replace in one step or in slices, not with a merge', () => {
    const { engine } = holding();
    engine.beginPositionsReplace();
    engine.applyPositions(OLD, true);
    expect(engine.isReplacingPositions).toBe(false);
    engine.beginPositionsReplace();
    replaceInSlices(engine);
    expect(engine.isReplacingPositions).toBe(false);
  });

  it('keeps a slice refused for capacity from changing anything, the replace still under way', () => {
    const { engine } = makeEngine([], { capacity: { ...testConfig().capacity, maxPositions: 2 } });
    engine.beginPositionsReplace();
    while (engine.flattenForReplace(1));
    expect(() => engine.replacePositionsSlice([held('A', 'AAPL', 1), held('B', 'AAPL', 1), held('C', 'AAPL', 1)], true)).toThrow(/maxPositions/);
    expect(engine.isReplacingPositions).toBe(true);
    expect(engine.ledger.positionCount).toBe(0);
  });

  it('is replayed from its journal records as it was made, orders expiring between flatten steps and half way included, and kept in snapshots', () => {
    const { engine, clock, events } = holding();
    const start = JSON.parse(JSON.stringify(engine.captureState())) as EngineSnapshot;
    engine.beginPositionsReplace();
    engine.flattenForReplace(1);
    // The open orders expire: ACC-1's after its group was flattened, ACC-7's, its group gone with it, before its turn.
    clock.advance(testConfig().openOrderTtlMs + 1);
    engine.sweep();
    expect(engine.ledger.openOrderCount).toBe(0);
    expect(engine.ledger.accounts.get('ACC-7')).toBeUndefined();
    while (engine.flattenForReplace(1));
    expect(events.filter((e) => e.type === 'positions_flattened').flatMap((e) => (e.type === 'positions_flattened' ? e.accounts : []))).toEqual(['ACC-1', 'ACC-2', 'ACC-3', 'ACC-6']);
    engine.replacePositionsSlice(NEW[0]!, false);
    const halfWay = JSON.parse(JSON.stringify(engine.captureState())) as EngineSnapshot;
    expect(halfWay.replacingPositions).toBe(true);

    const replayed = new LimitEngine(testConfig(), new FakeClock(), []);
    replayed.restoreState(start);
    for (const event of events) replayed.replay(event);
    expect(replayed.isReplacingPositions).toBe(true);
    expect(replayed.captureState().ledger).toEqual(halfWay.ledger);

    const restored = new LimitEngine(testConfig(), new FakeClock(), []);
    restored.restoreState(halfWay);
    setReference(restored, { AAPL: 100, MSFT: 100, IBM: 100 });
    expect(restored.checkOrder(order({ quantity: 1 })).reasons).toEqual(['POSITIONS_REPLACING']);

    const seen = events.length;
    engine.replacePositionsSlice(NEW[1]!, true);
    for (const event of events.slice(seen)) replayed.replay(event);
    expect(replayed.isReplacingPositions).toBe(false);
    expect(replayed.captureState().ledger).toEqual(engine.captureState().ledger);
    expect(engine.captureState().replacingPositions).toBeUndefined();
  });
});
