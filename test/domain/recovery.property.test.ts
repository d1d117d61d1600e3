/**
 * Crash recovery as a property: the events the live engine hands its sink, replayed in order
 * (after the snapshot they follow, if any) into a fresh engine with the same config, rebuild
 * exactly the live engine's state, and the recovered engine then decides exactly as the live one.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { EngineConfig, EngineSnapshot } from '../../src/domain/engine.js';
import { LimitEngine } from '../../src/domain/engine.js';
import type { Aggregation, TradingState } from '../../src/domain/enums.js';
import { StateEventSchema } from '../../src/domain/events.js';
import type { StateEvent } from '../../src/domain/events.js';
import type { LimitBook } from '../../src/domain/limit-book.js';
import type { LimitDefinition } from '../../src/domain/limit-definition.js';
import type { ExecutionEvent, Order, PositionRow, ReferencePrice } from '../../src/domain/orders.js';
import { LATE_FILL_WINDOW, limitArb, opArb, orderBuilder, pickFrom, OutcomeCounts, printStats, scopeIdOf, worldArb } from '../support/engine-arbitraries.js';
import type { Op, PickSource } from '../support/engine-arbitraries.js';
import { testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';
import type { Universe } from '../support/reference-model.js';

const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 300);
const CONFIG = testConfig();
/**
 * Small tables, so that eviction and fail-closed paths are journalled and replayed too: closed
 * orders and active violations evicted, trading states escalated to global, window keys and
 * positions at capacity, history dropped by capacity and by retention. Same TTL and reference
 * age as CONFIG (the clock steps are built around them), and a late-fill window shorter than
 * the TTL; every symbol of a universe fits.
 */
const TIGHT: EngineConfig = testConfig({
  lateFillWindowMs: LATE_FILL_WINDOW,
  history: { capacity: 12, retentionMs: 90_000 },
  capacity: {
    ...CONFIG.capacity,
    maxOpenOrders: 6,
    maxPositions: 5,
    maxWindowKeys: 2,
    maxWindowEntries: 7,
    maxTradingStates: 2,
    maxActiveViolations: 3,
  },
});
/** Limit ids the book operations use: L0..L7 come with the initial book, L8 and L9 only by upsert. */
const LIMIT_IDS = 10;

// ---- scenario shape and generators ----------------------------------------------------------

/** The reference model's operations plus what only an operator or another system does. */
type RecoveryOp =
  | Op
  | { op: 'upsert'; limit: LimitDefinition }
  | { op: 'delete'; pick: number }
  | { op: 'replace'; limits: LimitDefinition[] }
  | { op: 'value'; pick: number; value: number; accountId: string; strategyId: string; symbol: string };

interface RecoveryScenario {
  config: EngineConfig;
  universe: Universe;
  limits: LimitDefinition[];
  /** What the live engine does before the crash. */
  ops: RecoveryOp[];
  /** The snapshot is taken before ops[snapshotAt % (ops.length + 1)]. */
  snapshotAt: number;
  /** What both the live and the recovered engines do after recovery. */
  after: RecoveryOp[];
}

function recoveryOpArb(u: Universe, windows: readonly number[]): fc.Arbitrary<RecoveryOp> {
  const limit = fc.integer({ min: 0, max: LIMIT_IDS - 1 }).chain((i) => limitArb(u, i, 8));
  return fc.oneof(
    { arbitrary: opArb(u, windows), weight: 90 },
    { arbitrary: limit.map((l): RecoveryOp => ({ op: 'upsert', limit: l })), weight: 4 },
    { arbitrary: fc.nat().map((pick): RecoveryOp => ({ op: 'delete', pick })), weight: 2 },
    {
      arbitrary: fc
        .uniqueArray(fc.integer({ min: 0, max: LIMIT_IDS - 1 }), { maxLength: 5 })
        .chain((ids) => fc.tuple(...ids.map((i) => limitArb(u, i, 4))))
        .map((limits): RecoveryOp => ({ op: 'replace', limits })),
      weight: 1,
    },
    {
      arbitrary: fc
        .record({
          pick: fc.nat(),
          value: fc.integer({ min: 0, max: 6 }),
          accountId: fc.constantFrom(...u.accounts),
          strategyId: fc.constantFrom(...u.strategies),
          symbol: fc.constantFrom(...u.symbols),
        })
        .map((v): RecoveryOp => ({ op: 'value', ...v })),
      weight: 6,
    },
  );
}

const scenarioArb: fc.Arbitrary<RecoveryScenario> = worldArb(4).chain(({ universe, limits, windows }) => {
  const op = recoveryOpArb(universe, windows);
  return fc.record({
    config: fc.constantFrom(CONFIG, TIGHT),
    universe: fc.constant(universe),
    limits: fc.constant(limits),
    ops: fc.array(op, { minLength: 1, maxLength: 60, size: 'max' }),
    snapshotAt: fc.nat(),
    after: fc.array(op, { maxLength: 25, size: 'max' }),
  });
});

// ---- concrete operations, applied alike to every engine --------------------------------------

type Concrete =
  | { op: 'check'; order: Order }
  | { op: 'batch'; orders: Order[]; atomic: boolean }
  | { op: 'sliced'; orders: Order[]; between: Order }
  | { op: 'exec'; events: ExecutionEvent[] }
  | { op: 'refs'; prices: ReferencePrice[] }
  | { op: 'positions'; rows: PositionRow[]; replace: boolean }
  | { op: 'replaceBegin' }
  | { op: 'flatten'; budget: number }
  | { op: 'replaceSlice'; rows: PositionRow[]; isLast: boolean }
  | { op: 'advance'; ms: number }
  | { op: 'sweep' }
  | { op: 'state'; type: Aggregation; id: string | undefined; state: TradingState }
  | { op: 'reset' }
  | { op: 'upsert'; limit: LimitDefinition }
  | { op: 'delete'; limitId: string }
  | { op: 'replace'; limits: LimitDefinition[] }
  | { op: 'value'; limitId: string; value: number; scopeId: string | undefined };

/** Open orders from the live ledger, past orders from the journal: what picks and reuses draw on. */
function pickSource(live: LimitEngine, journal: readonly StateEvent[]): PickSource {
  return {
    get openOrders() {
      return [...live.ledger.allOpenOrders()];
    },
    get everAccepted() {
      return journal.flatMap((e) => (e.type === 'order_accepted' ? [e.order] : []));
    },
  };
}

/** Engines flattening for a replace in slices, as its steps told (a request's, so no snapshot or replay has it). */
const flattening = new WeakMap<LimitEngine, boolean>();
const isFlattening = (engine: LimitEngine): boolean => flattening.get(engine) === true;

/** `canBegin`: a replace in slices may begin (not after recovery, where only the live engine would have it to flatten). */
function concretize(op: RecoveryOp, live: LimitEngine, build: ReturnType<typeof orderBuilder>, canBegin = true): Concrete[] {
  switch (op.op) {
    case 'check':
      return [{ op: 'check', order: build.toOrder(op.order, []) }];
    case 'batch': {
      const orders: Order[] = [];
      for (const spec of op.orders) orders.push(build.toOrder(spec, orders));
      // An atomic batch of three or more runs in slices with another request between them, as a
      // large one does over HTTP: its first order, then its last order checked alone, then the rest.
      if (op.atomic && orders.length >= 3) return [{ op: 'sliced', orders: orders.slice(0, -1), between: orders.at(-1)! }];
      return [{ op: 'batch', orders, atomic: op.atomic }];
    }
    case 'exec':
      return [{ op: 'exec', events: op.events.map(build.toEvent) }];
    case 'refs':
      return [{ op: 'refs', prices: op.prices }];
    case 'positions':
      // A replace in slices, with whatever comes between its steps: one of three rows begins one,
      // and while one is under way the next positions op is its next step: flattening as many
      // groups as it has rows, then a slice of rows (of two rows, not the last).
      if (live.isReplacingPositions && isFlattening(live)) return [{ op: 'flatten', budget: op.rows.length }];
      if (live.isReplacingPositions) return [{ op: 'replaceSlice', rows: op.rows, isLast: op.rows.length !== 2 }];
      if (canBegin && op.replace && op.rows.length === 3) return [{ op: 'replaceBegin' }];
      return [{ op: 'positions', rows: op.rows, replace: op.replace }];
    case 'advance':
      return [{ op: 'advance', ms: op.ms }];
    case 'sweep':
      return [{ op: 'sweep' }];
    case 'state':
      return [{ op: 'state', type: op.type, id: scopeIdOf(op), state: op.state }];
    case 'clearStates':
      return live.tradingStates.list().map((entry): Concrete => {
        const [type, id] = entry.scope === 'global' ? ['global', undefined] : entry.scope.split(':');
        return { op: 'state', type: type as Aggregation, id, state: 'ACTIVE' };
      });
    case 'reset':
      return [{ op: 'reset' }];
    case 'upsert':
      return [{ op: 'upsert', limit: op.limit }];
    case 'delete': {
      // Mostly a limit in the book; sometimes one that is not (an UnknownLimitError changes nothing).
      const ids = live.book.limits.map((l) => l.id);
      return [{ op: 'delete', limitId: pickFrom([...ids, 'L9'], op.pick)! }];
    }
    case 'replace':
      return [{ op: 'replace', limits: op.limits }];
    case 'value': {
      const values = live.book.limits.filter((l) => l.kind === 'value');
      const limit = pickFrom(values.length > 0 ? values : live.book.limits, op.pick);
      if (limit === undefined) return [];
      return [{ op: 'value', limitId: limit.id, value: op.value, scopeId: scopeIdOf({ ...op, type: limit.per }) }];
    }
  }
}

const bookOf = (book: LimitBook): string => JSON.stringify({ version: book.version, limits: book.definitions });

/** What the engine answered, as a string to compare; a throw is an answer too. */
function apply(engine: LimitEngine, c: Exclude<Concrete, { op: 'advance' }>): string {
  try {
    switch (c.op) {
      case 'check':
        return JSON.stringify(engine.checkOrder(c.order));
      case 'batch':
        return JSON.stringify(engine.checkBatch(c.orders, { atomic: c.atomic }));
      case 'sliced': {
        const run = engine.beginBatch(c.orders, { atomic: true });
        engine.advanceBatch(run, 1);
        const between = engine.checkOrder(c.between);
        engine.advanceBatch(run, Number.POSITIVE_INFINITY);
        return JSON.stringify({ batch: run.result, between });
      }
      case 'exec':
        return JSON.stringify(engine.applyExecutions(c.events));
      case 'refs':
        engine.setReferencePrices(c.prices);
        return 'ok';
      case 'positions':
        engine.applyPositions(c.rows, c.replace);
        return 'ok';
      case 'replaceBegin':
        engine.beginPositionsReplace();
        flattening.set(engine, true);
        return 'ok';
      case 'flatten': {
        const isLeft = engine.flattenForReplace(c.budget);
        flattening.set(engine, isLeft);
        return String(isLeft);
      }
      case 'replaceSlice':
        engine.replacePositionsSlice(c.rows, c.isLast);
        return 'ok';
      case 'sweep':
        engine.sweep();
        return 'ok';
      case 'state':
        return JSON.stringify(engine.setTradingState(c.type, c.id, c.state, 'test'));
      case 'reset':
        engine.resetSession();
        return 'ok';
      case 'upsert':
        return bookOf(engine.upsertLimit(c.limit));
      case 'delete':
        return bookOf(engine.deleteLimit(c.limitId));
      case 'replace':
        return bookOf(engine.replaceLimits(c.limits));
      case 'value':
        return JSON.stringify(engine.evaluateValue(c.limitId, c.value, c.scopeId));
    }
  } catch (error) {
    return error instanceof Error ? `threw ${error.name}: ${error.message}` : `threw ${String(error)}`;
  }
}

// ---- comparing ---------------------------------------------------------------------------------

/** Set FC_STATS=1 to print how often each event type was emitted. */
const stats = new OutcomeCounts();

/** Counts the paths worth knowing the generators reach (FC_STATS). */
function noteOutcome(c: Exclude<Concrete, { op: 'advance' }>, answer: string, wasOpen: readonly boolean[]): void {
  if (answer.includes('CAPACITY_EXCEEDED')) stats.count('order rejected CAPACITY_EXCEEDED');
  if (answer.includes('BATCH_REJECTED') && c.op === 'batch' && c.orders.length > 1) stats.count('atomic batch rejected');
  if (c.op === 'sliced') stats.count(`sliced atomic batch ${answer.includes('BATCH_REJECTED') ? 'rolled back' : 'stood'}`);
  if (c.op === 'replaceBegin' || c.op === 'flatten') stats.count(`positions replace ${c.op}`);
  if (c.op === 'replaceSlice') stats.count(`positions replace slice${c.isLast ? ' (last)' : ''}`);
  if (answer.includes('POSITIONS_REPLACING')) stats.count('order rejected POSITIONS_REPLACING');
  if (answer.startsWith('threw')) stats.count(`${c.op} ${answer.replace(/:.*/, '')}`);
  if (answer.includes('escalated from')) stats.count('trading state escalated to global');
  if (c.op === 'value' && !answer.startsWith('threw')) stats.count('value evaluated');
  if (c.op === 'exec' && !answer.startsWith('threw')) {
    const outcomes = JSON.parse(answer) as { outcome: string }[];
    c.events.forEach((e, i) => {
      if (e.type === 'FILL' && outcomes[i]?.outcome === 'applied' && wasOpen[i] === false) stats.count('late fill after expiry applied');
    });
  }
}

const digest = (engine: LimitEngine): string => JSON.stringify(engine.captureState());

/** The first place two JSON values differ, for a readable failure. */
function firstDifference(a: unknown, b: unknown, path = '$'): string | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && Array.isArray(a) === Array.isArray(b)) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])];
    for (const key of keys) {
      const inner = firstDifference(ra[key], rb[key], `${path}.${key}`);
      if (inner !== undefined) return inner;
    }
    return `${path}: key order ${JSON.stringify(Object.keys(ra))} vs ${JSON.stringify(Object.keys(rb))}`;
  }
  return `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

function expectSame(where: string, what: string, actual: string, expected: string): void {
  if (actual === expected) return;
  const at = firstDifference(JSON.parse(actual), JSON.parse(expected));
  throw new Error(`${where}\n${what} differs at ${at}\n  recovered: ${actual}\n  live:      ${expected}`);
}

/** Property 3: the event survives a JSON journal and the schema gives back exactly what was written. */
function throughJournal(event: StateEvent, where: string): StateEvent {
  const json = JSON.stringify(event);
  const raw: unknown = JSON.parse(json);
  const parsed = StateEventSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${where}\nevent does not parse: ${json}\n${parsed.error.message}`);
  expect(parsed.data, `${where}\nevent changed by the schema: ${json}`).toEqual(raw);
  stats.count(`event ${event.type}${event.type === 'trading_state' ? ` from ${event.source.replace(/:.*/, '')}` : ''}`);
  return parsed.data;
}

// ---- one scenario ------------------------------------------------------------------------------

function runScenario(s: RecoveryScenario): void {
  const clock = new FakeClock();
  const start = clock.now();
  const live = new LimitEngine(s.config, clock, s.limits);
  const emitted: StateEvent[] = [];
  live.recordEventsTo((event) => emitted.push(event));
  /** Every event, as a journal would hand it back. */
  const journal: StateEvent[] = [];
  /** Property 1, checked after every operation: a fresh engine with the same initial book, fed the journal. */
  const replica = new LimitEngine(s.config, clock, s.limits);
  const build = orderBuilder(pickSource(live, journal));
  const snapshotIndex = s.snapshotAt % (s.ops.length + 1);
  let snapshot: { json: string; events: number } | undefined;

  const takeSnapshot = (where: string): void => {
    // Property 2, first half: the snapshot, as a file would hold it, restores to the same state.
    const json = JSON.stringify(live.captureState());
    snapshot = { json, events: journal.length };
    const restored = new LimitEngine(s.config, clock, []);
    restored.restoreState(JSON.parse(json) as EngineSnapshot);
    expectSame(`${where}\nright after restoring a snapshot`, 'state', digest(restored), json);
  };

  const runStep = (where: string, concretes: readonly Concrete[]): void => {
    for (const c of concretes) {
      if (c.op === 'advance') clock.advance(c.ms);
      else noteOutcome(c, apply(live, c), c.op === 'exec' ? c.events.map((e) => live.ledger.openOrder(e.accountId, e.orderId) !== undefined) : []);
    }
    for (const event of emitted.splice(0)) {
      const back = throughJournal(event, where);
      journal.push(back);
      replica.replay(back);
    }
    expectSame(`${where}\njournal replayed from the start into ${JSON.stringify(s.limits)}`, 'state', digest(replica), digest(live));
  };
  s.ops.forEach((op, index) => {
    const where = `op #${index} at t+${clock.now() - start}: ${JSON.stringify(op)}`;
    if (index === snapshotIndex) takeSnapshot(where);
    runStep(where, concretize(op, live, build));
  });
  // A request's flattening does not outlive its process: recovered engines would have none to go on with.
  if (isFlattening(live)) runStep('finishing the flattening under way', [{ op: 'flatten', budget: Number.POSITIVE_INFINITY }]);
  if (snapshot === undefined) takeSnapshot('after the last op');
  if (live.violations.evictedActive > 0) stats.count('active violation evicted');
  if (live.ledger.closedOrderCount > 0) stats.count('closed orders kept at the end');

  // Property 2: the snapshot plus the journal after it.
  const restored = new LimitEngine(s.config, clock, []);
  restored.restoreState(JSON.parse(snapshot!.json) as EngineSnapshot);
  for (const event of journal.slice(snapshot!.events)) restored.replay(event);
  expectSame(`snapshot before op #${snapshotIndex} plus ${journal.length - snapshot!.events} events`, 'state', digest(restored), digest(live));

  // Property 4: from here on the recovered engines answer exactly as the live one. Market data is
  // not recovered: every engine gets the same fresh reference prices first.
  const engines = { live, replica, restored };
  const events: Record<keyof typeof engines, StateEvent[]> = { live: [], replica: [], restored: [] };
  for (const [name, engine] of Object.entries(engines) as [keyof typeof engines, LimitEngine][]) {
    engine.recordEventsTo((event) => events[name].push(event));
  }
  const refs: RecoveryOp = { op: 'refs', prices: s.universe.symbols.map((symbol, i) => ({ symbol, price: 99 + i })) };
  [refs, ...s.after].forEach((op, index) => {
    const where = `after recovery, op #${index - 1} at t+${clock.now() - start}: ${JSON.stringify(op)}`;
    for (const c of concretize(op, live, build, false)) {
      if (c.op === 'advance') {
        clock.advance(c.ms);
        continue;
      }
      const answer = apply(live, c);
      for (const name of ['replica', 'restored'] as const) expectSame(`${where}\n${name}: ${JSON.stringify(c)}`, 'answer', JSON.stringify(apply(engines[name], c)), JSON.stringify(answer));
    }
    for (const event of events.live) journal.push(event);
    for (const name of ['replica', 'restored'] as const) {
      expectSame(`${where}\n${name}`, 'events', JSON.stringify(events[name]), JSON.stringify(events.live));
      expectSame(`${where}\n${name}`, 'state', digest(engines[name]), digest(live));
      for (const accountId of s.universe.accounts) {
        expectSame(`${where}\n${name}`, `exposure of ${accountId}`, JSON.stringify(engines[name].exposure(accountId)), JSON.stringify(live.exposure(accountId)));
      }
      events[name].length = 0;
    }
    events.live.length = 0;
  });
}

// ---- the properties ----------------------------------------------------------------------------

describe('recovery: journal replay and snapshots rebuild the live engine', () => {
  it(
    'replay of every event, and a snapshot plus the events after it, give the live state and the live answers',
    () => {
      fc.assert(
        fc.property(scenarioArb, (scenario) => {
          runScenario(scenario);
        }),
        { numRuns: NUM_RUNS },
      );
      printStats(stats);
    },
    Math.max(30_000, NUM_RUNS * 60),
  );

  it('the generators make the engine emit every kind of event', () => {
    const seen = new Set<string>();
    for (const scenario of fc.sample(scenarioArb, { numRuns: 100, seed: 11 })) {
      const clock = new FakeClock();
      const engine = new LimitEngine(scenario.config, clock, scenario.limits);
      const journal: StateEvent[] = [];
      engine.recordEventsTo((event) => {
        journal.push(event);
        seen.add(event.type);
        if (event.type === 'trading_state') seen.add(`trading_state ${event.source.startsWith('limit:') ? 'limit' : event.source}`);
        if (event.type === 'violation' && event.breach.orderId === undefined) seen.add('violation of a value limit');
      });
      const build = orderBuilder(pickSource(engine, journal));
      for (const op of scenario.ops) {
        for (const c of concretize(op, engine, build)) {
          if (c.op === 'advance') clock.advance(c.ms);
          else apply(engine, c);
        }
      }
    }
    expect([...seen].sort()).toEqual(
      [...StateEventSchema.options.map((o) => o.shape.type.value), 'trading_state api', 'trading_state limit', 'violation of a value limit'].sort(),
    );
  });
});
