import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CheckResult, ExecutionOutcome } from '../../src/domain/engine.js';
import { LimitEngine } from '../../src/domain/engine.js';
import type { ExposureGroup } from '../../src/domain/exposure-ledger.js';
import { roundingMargin } from '../../src/domain/walk-bounds.js';
import type { Aggregation } from '../../src/domain/enums.js';
import type { LimitDefinition } from '../../src/domain/limit-definition.js';
import type { Order } from '../../src/domain/orders.js';
import { KINDS, LATE_FILL_WINDOW, MAX_REF_AGE, orderBuilder, OutcomeCounts, printStats, scenarioArb, scopeIdOf, TTL } from '../support/engine-arbitraries.js';
import type { ExecSpec, OrderSpec, Scenario } from '../support/engine-arbitraries.js';
import { testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';
import { bookKey, ReferenceModel } from '../support/reference-model.js';
import type { Level, ModelResult, Universe } from '../support/reference-model.js';

const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 1000);
/** FC_SEED replays one run (fast-check prints the seed of a failure) or varies long runs. */
const SEED = process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) };
const CONFIG = testConfig({ lateFillWindowMs: LATE_FILL_WINDOW });

// Scenario shapes and generators live in test/support/engine-arbitraries.ts (shared with the recovery property).

// ---- running a scenario through the engine and the model ----------------------------------------

const close = (a: number, b: number): boolean => a === b || Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));

/**
 * Open quantities and positions. The engine keeps running sums where the model adds up afresh, so
 * the two may differ by rounding of the largest quantity the sums held (`scale`: 1e-8 left of a sum
 * that held 10,000 may read 1.0000262e-8), but never in whether anything is left: 0 against a
 * satoshi is a position or an open order one of them lost or made up.
 */
const sameQuantity = (a: number, b: number, scale: number): boolean =>
  (a === 0) === (b === 0) && Math.abs(a - b) <= 1e-13 * Math.max(1, scale, Math.abs(a), Math.abs(b));

/** The largest quantity a scenario's orders, fills and snapshot rows name: what its sums' rounding is relative to. */
function largestQuantity(scenario: Scenario): number {
  const sizes = scenario.ops.flatMap((op) => {
    switch (op.op) {
      case 'check':
        return [op.order.quantity];
      case 'batch':
        return op.orders.map((o) => o.quantity);
      case 'exec':
        return op.events.map((e) => e.alone ?? e.n);
      case 'positions':
        return op.rows.map((r) => Math.abs(r.quantity));
      default:
        return [];
    }
  });
  return Math.max(1, ...sizes);
}

/** Open notional, cost and P&L: as `close`, and likewise never 0 against something (a P&L of 1e-14 is a fill at the average cost realizing rounding). */
const sameAmount = (a: number, b: number): boolean => (a === 0) === (b === 0) && close(a, b);

function fail(where: string, what: string, engine: unknown, model: unknown): never {
  throw new Error(`${where}\n${what}\n  engine: ${JSON.stringify(engine)}\n  model:  ${JSON.stringify(model)}`);
}

/** Set FC_STATS=1 to print how often each outcome was reached (to see the generators do their job). */
const stats = new OutcomeCounts();

function compareResult(where: string, engine: CheckResult, model: ModelResult): void {
  stats.count(`${model.decision} ${model.reasons.join('+')}`);
  for (const v of model.violations) stats.count(`violation ${v.kind} ${v.severity} ${v.action}`);
  const shape = (r: CheckResult | ModelResult) => ({
    orderId: r.orderId,
    decision: r.decision,
    reasons: r.reasons,
    evaluated: r.evaluated,
    violations: r.violations.map((v) => ({ limitId: v.limitId, kind: v.kind, severity: v.severity, action: v.action, key: v.key, threshold: v.threshold })),
  });
  const e = shape(engine);
  const m = shape(model);
  if (JSON.stringify(e) !== JSON.stringify(m)) fail(where, 'check result differs', e, m);
  engine.violations.forEach((v, i) => {
    if (!close(v.value, model.violations[i]!.value)) fail(where, `violation ${v.limitId} value differs`, v.value, model.violations[i]!.value);
  });
}

/** Reservations never negative; open quantities, positions, states and active violations agree. */
function compareState(where: string, engine: LimitEngine, model: ReferenceModel, scale: number): void {
  const ledger = engine.ledger;
  const groups: [Level, string, typeof ledger.firm][] = [
    ...[...ledger.accounts].map(([id, g]): [Level, string, typeof g] => ['account', id, g]),
    ...[...ledger.strategies].map(([id, g]): [Level, string, typeof g] => ['strategy', id, g]),
    ['firm', '', ledger.firm],
  ];
  for (const [level, id, group] of groups) {
    if (group.openCount < 0) fail(where, `${level} ${id} open count negative`, group.openCount, '>= 0');
    for (const e of group.values()) {
      const symbol = e.market.symbol;
      for (const [name, value] of Object.entries({ openBuy: e.openBuy, openSell: e.openSell, openCount: e.openCount, openBuyNotional: e.openBuyNotional, openSellNotional: e.openSellNotional })) {
        if (!(value >= 0)) fail(where, `${level} ${id} ${symbol} ${name} negative`, value, '>= 0');
      }
    }
  }
  const { accounts, strategies, symbols } = model.universe;
  const books = model.books();
  const levels: [Level, string, typeof ledger.firm | undefined][] = [
    ...accounts.map((id): [Level, string, typeof ledger.firm | undefined] => ['account', id, ledger.accounts.get(id)]),
    ...strategies.map((id): [Level, string, typeof ledger.firm | undefined] => ['strategy', id, ledger.strategies.get(id)]),
    ['firm', '', ledger.firm],
  ];
  for (const [level, id, group] of levels) {
    let groupOpen = 0;
    for (const symbol of symbols) {
      const e = ledger.heldExposure(group, symbol);
      const mine = { buy: e?.openBuy ?? 0, sell: e?.openSell ?? 0, count: e?.openCount ?? 0 };
      const { buyNotional, sellNotional, ...theirs } = model.openAt(level, id, symbol);
      groupOpen += theirs.count;
      if (mine.count !== theirs.count || !sameQuantity(mine.buy, theirs.buy, scale) || !sameQuantity(mine.sell, theirs.sell, scale)) {
        fail(where, `open orders on ${level} ${id} ${symbol} differ`, mine, theirs);
      }
      if (!sameAmount(e?.openBuyNotional ?? 0, buyNotional) || !sameAmount(e?.openSellNotional ?? 0, sellNotional)) {
        fail(where, `open notional on ${level} ${id} ${symbol} differs`, [e?.openBuyNotional, e?.openSellNotional], [buyNotional, sellNotional]);
      }
      const book = books.get(bookKey(level, id, symbol)) ?? { position: 0, avgCost: 0, realized: 0, flatCost: 0 };
      const held = { position: e?.position ?? 0, avgCost: e?.avgCost ?? 0, realized: e?.realized ?? 0, flatCost: e?.flatCost ?? 0 };
      const same = (k: keyof typeof held) => sameAmount(held[k], book[k]);
      if (!sameQuantity(held.position, book.position, scale) || !same('avgCost') || !same('realized') || !same('flatCost')) {
        fail(where, `position on ${level} ${id} ${symbol} differs`, held, book);
      }
    }
    if ((group?.openCount ?? 0) !== groupOpen) fail(where, `open count of ${level} ${id} differs`, group?.openCount ?? 0, groupOpen);
  }

  const states = Object.fromEntries(engine.tradingStates.list().map((s) => [s.scope, s.state]));
  const sortKeys = (o: Record<string, unknown>) => JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b))));
  if (sortKeys(states) !== sortKeys(model.states)) fail(where, 'trading states differ', states, model.states);

  const active = engine.violations.active({}).map((v) => ({ id: `${v.limitId}#${v.key}`, severity: v.severity, count: v.count, value: v.value, maxValue: v.maxValue }));
  const expected = [...model.active.entries()].map(([id, v]) => ({ id, severity: v.severity, count: v.count, value: v.value, maxValue: v.maxValue }));
  active.sort((a, b) => a.id.localeCompare(b.id));
  expected.sort((a, b) => a.id.localeCompare(b.id));
  const sameActive =
    active.length === expected.length &&
    active.every((a, i) => {
      const b = expected[i]!;
      return a.id === b.id && a.severity === b.severity && a.count === b.count && close(a.value, b.value) && close(a.maxValue, b.maxValue);
    });
  if (!sameActive) fail(where, 'active violations differ', active, expected);
}

/**
 * The groups' bound sums (walk-bounds.ts) that a check may use now hold: at least the gross walk's
 * total and at most its P&L, with the margins the shortcuts leave; and never finite where the walk
 * fails closed. Only groups the engine itself stamped are checked; the check changes nothing a
 * check would not (versionAt lets go of stale references as the next check would).
 */
function checkWalkBounds(where: string, engine: LimitEngine, now: number): void {
  const ledger = engine.ledger;
  const version = ledger.walkBounds.versionAt(now, MAX_REF_AGE);
  const groups = [...ledger.accounts.values(), ...ledger.strategies.values(), ledger.firm];
  for (const group of groups) {
    if (group.boundsAt !== version) continue;
    const { gross, pnl } = walkExactly(group, now);
    const margin = roundingMargin(group.exposures.length);
    const upper = group.grossUpper + group.grossSlack;
    // A NaN bound is never used (the shortcut's comparison is false), and an infinite one never clean.
    const isGrossWrong = gross !== gross ? Number.isFinite(upper) : upper + upper * margin < gross;
    if (isGrossWrong) fail(where, `gross bound of ${group.id} below its walk`, upper, gross);
    const lowest = group.lossLower - group.lossSlack - group.lossScale * margin;
    if (pnl !== pnl ? Number.isFinite(lowest) : lowest > pnl) fail(where, `P&L bound of ${group.id} above its walk`, lowest, pnl);
  }
}

/** Gross notional and P&L of a group's rows as the walks take them, with no order (NaN: a walk fails closed). */
function walkExactly(group: ExposureGroup, now: number): { gross: number; pnl: number } {
  let gross = 0;
  let pnl = 0;
  for (const e of group.exposures) {
    const market = e.market;
    const isFresh = now - market.refAt <= MAX_REF_AGE;
    const worst = Math.max(e.position + e.openBuy, e.openSell - e.position);
    if (worst !== 0) gross += worst * (isFresh ? market.refPrice : market.lastFillPrice);
    pnl += e.position === 0 ? e.realized - e.flatCost : e.realized + e.position * ((isFresh ? market.refPrice : Number.NaN) - e.avgCost);
  }
  return { gross, pnl };
}

function runScenario(scenario: Scenario): { engine: LimitEngine; model: ReferenceModel; outcomes: string[][] } {
  const clock = new FakeClock();
  const engine = new LimitEngine(CONFIG, clock, scenario.limits);
  const model = new ReferenceModel(
    { openOrderTtlMs: TTL, lateFillWindowMs: LATE_FILL_WINDOW, maxReferenceAgeMs: MAX_REF_AGE, severityActions: CONFIG.severityActions },
    scenario.limits,
    scenario.universe,
  );
  const start = clock.now();
  const outcomes: string[][] = [];
  const { toOrder, toEvent } = orderBuilder(model);
  const scale = largestQuantity(scenario);

  scenario.ops.forEach((op, index) => {
    const where = `op #${index} at t+${clock.now() - start}: ${JSON.stringify(op)}`;
    switch (op.op) {
      case 'check': {
        const o = toOrder(op.order, []);
        const expected = model.checkOrder(o, clock.now());
        compareResult(`${where}\n  order ${JSON.stringify(o)}`, engine.checkOrder(o), expected);
        break;
      }
      case 'batch': {
        const orders: Order[] = [];
        for (const spec of op.orders) orders.push(toOrder(spec, orders));
        const expected = model.checkBatch(orders, op.atomic, clock.now());
        const actual = engine.checkBatch(orders, { atomic: op.atomic });
        const accepted = expected.filter((r) => r.decision === 'ACCEPT').length;
        if (actual.summary.accepted !== accepted || actual.summary.total !== orders.length) fail(where, 'batch summary differs', actual.summary, accepted);
        actual.results.forEach((r, i) => compareResult(`${where}\n  batch order ${i} ${JSON.stringify(orders[i])}`, r, expected[i]!));
        break;
      }
      case 'exec': {
        const events = op.events.map(toEvent);
        for (const e of events) {
          const isOpen = model.openOrders.some((o) => o.accountId === e.accountId && o.orderId === e.orderId);
          stats.count(`exec ${e.type} on ${isOpen ? 'open' : 'closed'} order`);
        }
        const expected = model.applyExecutions(events, clock.now());
        const actual = engine.applyExecutions(events).map((r: ExecutionOutcome) => r.outcome);
        outcomes.push(actual);
        events.forEach((e, i) => stats.count(`exec ${e.type} ${expected[i]}`));
        if (JSON.stringify(actual) !== JSON.stringify(expected)) fail(`${where}\n  events ${JSON.stringify(events)}`, 'execution outcomes differ', actual, expected);
        break;
      }
      case 'refs':
        engine.setReferencePrices(op.prices);
        model.setReferencePrices(op.prices, clock.now());
        break;
      case 'positions':
        engine.applyPositions(op.rows, op.replace);
        model.applyPositions(op.rows, op.replace);
        break;
      case 'advance':
        clock.advance(op.ms);
        break;
      case 'state': {
        const entry = engine.setTradingState(op.type, scopeIdOf(op), op.state, 'test');
        model.setTradingState(entry.scope, op.state);
        break;
      }
      case 'clearStates':
        for (const scope of Object.keys(model.states)) model.setTradingState(scope, 'ACTIVE');
        for (const entry of engine.tradingStates.list()) {
          const [type, id] = entry.scope === 'global' ? ['global', undefined] : entry.scope.split(':');
          engine.setTradingState(type as Aggregation, id, 'ACTIVE', 'test');
        }
        break;
      case 'reset':
        engine.resetSession();
        model.resetSession();
        break;
      case 'sweep':
        engine.sweep();
        model.expire(clock.now());
        break;
    }
    compareState(where, engine, model, scale);
    checkWalkBounds(where, engine, clock.now());
  });
  for (const [what, n] of model.seen) stats.count(what, n);
  for (const book of model.books().values()) stats.count('rounding taken as flat or as no price gap', book.roundedAway);
  return { engine, model, outcomes };
}

// ---- the property and its regressions -----------------------------------------------------------

describe('LimitEngine against a reference model', () => {
  it(
    'decides, reserves and records exactly as the reference model on random books and streams',
    () => {
      fc.assert(
        fc.property(scenarioArb, (scenario) => {
          runScenario(scenario);
        }),
        { numRuns: NUM_RUNS, ...SEED },
      );
      printStats(stats);
    },
    // About 2 ms a run on a laptop; long runs (FC_NUM_RUNS=20000) must not hit the default timeout.
    Math.max(30_000, NUM_RUNS * 20),
  );

  it('the generators reach every kind and operation', () => {
    const samples = fc.sample(scenarioArb, { numRuns: 200, seed: 7 });
    const kinds = new Set(samples.flatMap((s) => s.limits.map((l) => l.kind)));
    const ops = new Set(samples.flatMap((s) => s.ops.map((o) => o.op)));
    expect([...kinds].sort()).toEqual([...KINDS, 'value'].sort());
    expect(ops.size).toBe(10);
  });

  it('the generators write decimal quantities, prices and snapshots in a share of scenarios, down to 1e-8', () => {
    const samples = fc.sample(scenarioArb, { numRuns: 200, seed: 7 });
    const orders = (s: Scenario) => s.ops.flatMap((o) => (o.op === 'check' ? [o.order] : o.op === 'batch' ? o.orders : []));
    const decimal = samples.filter((s) => orders(s).some((o) => !Number.isInteger(o.quantity)));
    expect(decimal.length).toBeGreaterThan(60);
    expect(decimal.length).toBeLessThan(140);
    const all = decimal.flatMap(orders);
    expect(all.some((o) => !Number.isInteger(o.price))).toBe(true);
    expect(all.some((o) => o.quantity !== Number(o.quantity.toFixed(3)))).toBe(true);
    const rows = decimal.flatMap((s) => s.ops.flatMap((o) => (o.op === 'positions' ? o.rows : [])));
    expect(rows.some((r) => !Number.isInteger(r.quantity))).toBe(true);
    const events = decimal.flatMap((s) => s.ops.flatMap((o) => (o.op === 'exec' ? o.events : [])));
    expect(events.some((e) => e.target === 'newest' && e.size === 'partial')).toBe(true);
  });
});

// Shrunk counterexamples and their close relatives, kept as explicit cases.

const UNIVERSE: Universe = { accounts: ['A1', 'A2'], strategies: ['S1', 'S2'], symbols: ['X', 'Y'] };
const spec = (fields: Partial<OrderSpec> = {}): OrderSpec => ({
  accountId: 'A1',
  strategyId: 'S1',
  symbol: 'X',
  side: 'BUY',
  quantity: 1,
  type: 'LIMIT',
  price: 100,
  venue: undefined,
  reuse: 'fresh',
  pick: 0,
  flattenIn: undefined,
  ...fields,
});
const fillOf = (target: ExecSpec['target'], pick: number): ExecSpec => ({ type: 'FILL', target, pick, size: 'partial', n: 1, price: 94, lot: 1, alone: undefined });
const QUANTITY_LIMIT: LimitDefinition = { id: 'L0', kind: 'order_quantity', thresholds: { hard: 5 } };

describe('LimitEngine regressions found by the property', () => {
  it('ignores a fill that arrives more than a TTL after its order expired, with nothing else open', () => {
    const { engine, outcomes } = runScenario({
      universe: UNIVERSE,
      limits: [QUANTITY_LIMIT],
      ops: [
        { op: 'check', order: spec() },
        { op: 'advance', ms: TTL + 1 },
        { op: 'exec', events: [fillOf('past', 0)] },
        { op: 'advance', ms: TTL + 1 },
        { op: 'exec', events: [fillOf('past', 0)] },
      ],
    });
    expect(outcomes).toEqual([['applied'], ['unknown_order']]);
    expect(engine.ledger.heldExposure(engine.ledger.accounts.get('A1'), 'X')?.position).toBe(1);
  });

  // Found by the property when a closed id could be reused at once; the reuse is now refused within the window.
  it('ignores a stale late fill after an order tried to reuse the id of one closed a moment before', () => {
    const { engine, outcomes } = runScenario({
      universe: UNIVERSE,
      limits: [QUANTITY_LIMIT],
      ops: [
        { op: 'check', order: spec() }, // o1 at t0
        { op: 'advance', ms: 10_000 },
        { op: 'check', order: spec() }, // o2 at t+10s
        { op: 'advance', ms: 50_000 },
        { op: 'exec', events: [fillOf('unknown', 0)] }, // o1 expires at t+60s
        { op: 'check', order: spec({ reuse: 'past', pick: 0 }) }, // o1 again: DUPLICATE_ORDER_ID (closed 0 ms ago)
        { op: 'advance', ms: 10_000 },
        { op: 'exec', events: [fillOf('unknown', 0)] }, // o2 expires at t+70s
        { op: 'advance', ms: TTL },
        { op: 'exec', events: [fillOf('past', 1)] }, // o2 expired a full TTL ago
      ],
    });
    expect(outcomes).toEqual([['unknown_order'], ['unknown_order'], ['unknown_order']]);
    expect(engine.ledger.heldExposure(engine.ledger.accounts.get('A1'), 'X')).toBeUndefined();
  });
});
