import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CheckResult, ExecutionOutcome } from '../../src/domain/engine.js';
import { LimitEngine } from '../../src/domain/engine.js';
import type { Action, Aggregation, LimitKind, Side, TradingState } from '../../src/domain/enums.js';
import type { LimitDefinition } from '../../src/domain/limit-definition.js';
import type { ExecutionEvent, Order, PositionRow } from '../../src/domain/orders.js';
import { testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';
import { bookKey, ReferenceModel } from '../support/reference-model.js';
import type { Level, ModelResult, Universe } from '../support/reference-model.js';

const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 1000);
const CONFIG = testConfig();
const TTL = CONFIG.openOrderTtlMs;
const MAX_REF_AGE = CONFIG.maxReferenceAgeMs;

// ---- scenario shape ---------------------------------------------------------------------------

/**
 * How an order's id is chosen: fresh, the account+id of an open, past or same-batch order, or
 * an open order's id under the generated account (a duplicate only within the same account).
 */
type Reuse = 'fresh' | 'open' | 'past' | 'batch' | 'openIdOnly';

interface OrderSpec {
  accountId: string;
  strategyId: string;
  symbol: string;
  side: Side;
  quantity: number;
  /** LIMIT, MARKET with a price, MARKET without. */
  type: 'LIMIT' | 'MARKET_PRICED' | 'MARKET';
  price: number;
  venue: string | undefined;
  reuse: Reuse;
  pick: number;
}

interface ExecSpec {
  type: ExecutionEvent['type'];
  target: 'open' | 'past' | 'unknown';
  pick: number;
  /** FILL size relative to what is left of an open order. */
  size: 'partial' | 'full' | 'over';
  n: number;
  price: number;
}

type Op =
  | { op: 'check'; order: OrderSpec }
  | { op: 'batch'; orders: OrderSpec[]; atomic: boolean }
  | { op: 'exec'; events: ExecSpec[] }
  | { op: 'refs'; prices: { symbol: string; price: number }[] }
  | { op: 'positions'; rows: PositionRow[]; replace: boolean }
  | { op: 'advance'; ms: number }
  | { op: 'sweep' }
  | { op: 'state'; type: Aggregation; accountId: string; strategyId: string; symbol: string; state: TradingState }
  | { op: 'clearStates' }
  | { op: 'reset' };

interface Scenario {
  universe: Universe;
  limits: LimitDefinition[];
  ops: Op[];
}

// ---- generators ---------------------------------------------------------------------------------

const KINDS = [
  'order_quantity',
  'order_notional',
  'price_deviation',
  'position',
  'gross_notional',
  'open_orders',
  'order_rate',
  'duplicate_order',
  'daily_loss',
  'restricted',
  'self_trade',
] as const satisfies readonly LimitKind[];
const AGGREGATIONS: readonly Aggregation[] = ['global', 'account', 'strategy', 'symbol', 'account+symbol', 'strategy+symbol'];
const SYMBOL_LEVEL: readonly Aggregation[] = ['symbol', 'account+symbol', 'strategy+symbol'];
const ACTIONS: readonly Action[] = ['LOG', 'ALERT', 'BLOCK', 'REDUCE_ONLY', 'HALT'];
const VENUES = ['V1', 'V2'] as const;

/** Threshold grid per kind: multiples of `step` up to `steps`, so that values land exactly on thresholds. */
/** Value limits are fed by callers and must never be evaluated on orders: they ride along as noise. */
type GeneratedKind = (typeof KINDS)[number] | 'value';

const THRESHOLD_GRID: Record<GeneratedKind, { step: number; steps: number }> = {
  order_quantity: { step: 1, steps: 25 },
  order_notional: { step: 100, steps: 25 },
  price_deviation: { step: 50, steps: 14 },
  position: { step: 1, steps: 50 },
  gross_notional: { step: 100, steps: 80 },
  open_orders: { step: 1, steps: 8 },
  order_rate: { step: 1, steps: 5 },
  duplicate_order: { step: 1, steps: 3 },
  daily_loss: { step: 2, steps: 40 },
  restricted: { step: 1, steps: 1 },
  self_trade: { step: 1, steps: 1 },
  value: { step: 1, steps: 5 },
};

const optional = <T>(arb: fc.Arbitrary<T>, freq = 2): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq });

/** Drops keys whose value is undefined, so definitions look like what a user would write. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function limitArb(universe: Universe, index: number): fc.Arbitrary<LimitDefinition> {
  // The kinds that read positions and P&L have the most state to get wrong: they come up twice as often.
  const kinds: fc.Arbitrary<GeneratedKind> = fc.oneof(
    { arbitrary: fc.constantFrom(...KINDS), weight: 30 },
    { arbitrary: fc.constantFrom('daily_loss' as const, 'gross_notional' as const, 'self_trade' as const), weight: 8 },
    { arbitrary: fc.constant('value' as const), weight: 1 },
  );
  return kinds.chain((kind) => {
    const grid = THRESHOLD_GRID[kind];
    const windowed = kind === 'order_rate' || kind === 'duplicate_order';
    const perChoices = kind === 'position' || kind === 'self_trade' ? SYMBOL_LEVEL : AGGREGATIONS;
    return fc
      .record({
        per: optional(fc.constantFrom(...perChoices)),
        levels: fc.array(fc.integer({ min: 0, max: grid.steps }), { minLength: 4, maxLength: 4 }),
        present: fc.record({ warn: fc.boolean(), soft: fc.boolean(), critical: fc.boolean() }),
        accounts: optional(fc.subarray([...universe.accounts], { minLength: 1 }), 3),
        strategies: optional(fc.subarray([...universe.strategies], { minLength: 1 }), 4),
        symbols: optional(fc.subarray([...universe.symbols], { minLength: 1 }), 3),
        venues: optional(fc.subarray([...VENUES], { minLength: 1 }), 8),
        actions: optional(
          fc.record(
            {
              WARNING: fc.constantFrom(...ACTIONS),
              SOFT_BREACH: fc.constantFrom(...ACTIONS),
              HARD_BREACH: fc.constantFrom(...ACTIONS),
              CRITICAL: fc.constantFrom(...ACTIONS),
            },
            { requiredKeys: [] },
          ),
        ),
        windowMs: fc.oneof(fc.constantFrom(1_000, 5_000, 30_000), fc.integer({ min: 1, max: 120_000 })),
        missingReference: optional(fc.constantFrom('reject' as const, 'allow' as const)),
        enabled: fc.constantFrom<boolean | undefined>(undefined, undefined, undefined, undefined, undefined, true, false),
      })
      .map((r): LimitDefinition => {
        const [warn, soft, hard, critical] = [...r.levels].sort((a, b) => a - b).map((l) => l * grid.step) as [number, number, number, number];
        const scope = compact({ accounts: r.accounts, strategies: r.strategies, symbols: r.symbols, venues: r.venues });
        return compact({
          id: `L${index}`,
          kind,
          per: r.per,
          scope: Object.keys(scope).length === 0 ? undefined : scope,
          thresholds: compact({
            warn: r.present.warn ? warn : undefined,
            soft: r.present.soft ? soft : undefined,
            hard,
            critical: r.present.critical ? critical : undefined,
          }),
          windowMs: windowed ? r.windowMs : undefined,
          missingReference: kind === 'price_deviation' ? r.missingReference : undefined,
          actions: r.actions === undefined ? undefined : compact(r.actions),
          enabled: r.enabled,
        });
      });
  });
}

function orderSpecArb(u: Universe): fc.Arbitrary<OrderSpec> {
  return fc.record({
    accountId: fc.constantFrom(...u.accounts),
    strategyId: fc.constantFrom(...u.strategies),
    symbol: fc.constantFrom(...u.symbols),
    side: fc.constantFrom<Side>('BUY', 'SELL'),
    quantity: fc.oneof(fc.constantFrom(1, 5, 10), fc.integer({ min: 1, max: 20 })),
    type: fc.constantFrom<OrderSpec['type']>('LIMIT', 'LIMIT', 'LIMIT', 'LIMIT', 'MARKET_PRICED', 'MARKET'),
    price: fc.oneof(fc.constantFrom(95, 100, 105), fc.integer({ min: 94, max: 106 })),
    venue: optional(fc.constantFrom(...VENUES)),
    reuse: fc.constantFrom<Reuse>('fresh', 'fresh', 'fresh', 'fresh', 'fresh', 'fresh', 'fresh', 'open', 'past', 'batch', 'openIdOnly'),
    pick: fc.nat(),
  });
}

const execSpecArb: fc.Arbitrary<ExecSpec> = fc.record({
  type: fc.constantFrom<ExecSpec['type']>('FILL', 'FILL', 'FILL', 'FILL', 'FILL', 'CANCEL', 'CANCEL', 'EXPIRE', 'REJECT'),
  target: fc.constantFrom<ExecSpec['target']>('open', 'open', 'open', 'open', 'past', 'past', 'unknown'),
  pick: fc.nat(),
  size: fc.constantFrom<ExecSpec['size']>('partial', 'partial', 'full', 'full', 'over'),
  n: fc.integer({ min: 1, max: 10 }),
  price: fc.integer({ min: 90, max: 110 }),
});

/** Clock steps, biased to the boundaries: reference age, TTL, and the book's own window lengths. */
const advanceArb = (windows: readonly number[]): fc.Arbitrary<number> =>
  fc.oneof(
    { arbitrary: fc.constantFrom(0, ...windows.flatMap((w) => [w - 1, w])), weight: windows.length === 0 ? 0 : 4 },
    { arbitrary: fc.integer({ min: TTL / 2, max: TTL - 1 }), weight: 1 },
    { arbitrary: fc.integer({ min: 0, max: 2_000 }), weight: 4 },
    { arbitrary: fc.integer({ min: 0, max: 30_000 }), weight: 2 },
    { arbitrary: fc.constantFrom(MAX_REF_AGE, MAX_REF_AGE + 1, TTL, TTL + 1), weight: 2 },
    { arbitrary: fc.constantFrom(1_000, 5_000, 30_000), weight: 1 },
    { arbitrary: fc.integer({ min: MAX_REF_AGE + 1, max: MAX_REF_AGE + 1_000 }), weight: 1 },
    { arbitrary: fc.integer({ min: TTL + 1, max: TTL + 10_000 }), weight: 1 },
  );

function opArb(u: Universe, windows: readonly number[]): fc.Arbitrary<Op> {
  const order = orderSpecArb(u);
  return fc.oneof(
    { arbitrary: order.map((o): Op => ({ op: 'check', order: o })), weight: 30 },
    {
      arbitrary: fc.record({ orders: fc.array(order, { minLength: 1, maxLength: 4 }), atomic: fc.constantFrom(true, true, false) }).map((b): Op => ({ op: 'batch', ...b })),
      weight: 10,
    },
    { arbitrary: fc.array(execSpecArb, { minLength: 1, maxLength: 3 }).map((events): Op => ({ op: 'exec', events })), weight: 16 },
    {
      arbitrary: fc
        .array(fc.record({ symbol: fc.constantFrom(...u.symbols), price: fc.integer({ min: 95, max: 105 }) }), { minLength: 1, maxLength: 3 })
        .map((prices): Op => ({ op: 'refs', prices })),
      weight: 8,
    },
    {
      arbitrary: fc
        .record({
          rows: fc.array(
            fc
              .record({
                accountId: fc.constantFrom(...u.accounts),
                strategyId: optional(fc.constantFrom(...u.strategies), 3),
                symbol: fc.constantFrom(...u.symbols),
                quantity: fc.oneof(fc.constant(0), fc.integer({ min: -20, max: 20 })),
                avgPrice: fc.integer({ min: 95, max: 105 }),
              })
              .map((row) => compact(row)),
            { minLength: 1, maxLength: 3 },
          ),
          replace: fc.boolean(),
        })
        .map((p): Op => ({ op: 'positions', ...p })),
      weight: 6,
    },
    { arbitrary: advanceArb(windows).map((ms): Op => ({ op: 'advance', ms })), weight: 10 },
    {
      arbitrary: fc
        .record({
          type: fc.constantFrom(...AGGREGATIONS),
          accountId: fc.constantFrom(...u.accounts),
          strategyId: fc.constantFrom(...u.strategies),
          symbol: fc.constantFrom(...u.symbols),
          state: fc.constantFrom<TradingState>('ACTIVE', 'ACTIVE', 'REDUCE_ONLY', 'HALTED'),
        })
        .map((s): Op => ({ op: 'state', ...s })),
      weight: 4,
    },
    { arbitrary: fc.constant<Op>({ op: 'clearStates' }), weight: 4 },
    { arbitrary: fc.constant<Op>({ op: 'reset' }), weight: 2 },
    { arbitrary: fc.constant<Op>({ op: 'sweep' }), weight: 2 },
  );
}

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({ accounts: fc.integer({ min: 2, max: 3 }), symbols: fc.integer({ min: 2, max: 3 }), limits: fc.integer({ min: 1, max: 8 }) })
  .chain(({ accounts, symbols, limits }) => {
    const universe: Universe = {
      accounts: ['A1', 'A2', 'A3'].slice(0, accounts),
      strategies: ['S1', 'S2'],
      symbols: ['X', 'Y', 'Z'].slice(0, symbols),
    };
    return fc.tuple(...Array.from({ length: limits }, (_, i) => limitArb(universe, i))).chain((book) => {
      const windows = [...new Set(book.flatMap((l) => (l.windowMs === undefined ? [] : [l.windowMs])))];
      return fc.record({
        universe: fc.constant(universe),
        limits: fc.constant(book),
        ops: fc.array(opArb(universe, windows), { minLength: 1, maxLength: 60, size: 'max' }),
      });
    });
  });

// ---- running a scenario through the engine and the model ----------------------------------------

const close = (a: number, b: number): boolean => a === b || Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));

function fail(where: string, what: string, engine: unknown, model: unknown): never {
  throw new Error(`${where}\n${what}\n  engine: ${JSON.stringify(engine)}\n  model:  ${JSON.stringify(model)}`);
}

/** Set FC_STATS=1 to print how often each outcome was reached (to see the generators do their job). */
const stats = new Map<string, number>();
const count = (what: string): void => {
  stats.set(what, (stats.get(what) ?? 0) + 1);
};

function compareResult(where: string, engine: CheckResult, model: ModelResult): void {
  count(`${model.decision} ${model.reasons.join('+')}`);
  for (const v of model.violations) count(`violation ${v.kind} ${v.severity} ${v.action}`);
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
function compareState(where: string, engine: LimitEngine, model: ReferenceModel): void {
  const ledger = engine.ledger;
  const groups: [Level, string, typeof ledger.firm][] = [
    ...[...ledger.accounts].map(([id, g]): [Level, string, typeof g] => ['account', id, g]),
    ...[...ledger.strategies].map(([id, g]): [Level, string, typeof g] => ['strategy', id, g]),
    ['firm', '', ledger.firm],
  ];
  for (const [level, id, group] of groups) {
    if (group.openCount < 0) fail(where, `${level} ${id} open count negative`, group.openCount, '>= 0');
    for (const [symbol, e] of group.bySymbol) {
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
      const e = group?.bySymbol.get(symbol);
      const mine = { buy: e?.openBuy ?? 0, sell: e?.openSell ?? 0, count: e?.openCount ?? 0 };
      const { buyNotional, sellNotional, ...theirs } = model.openAt(level, id, symbol);
      groupOpen += theirs.count;
      if (JSON.stringify(mine) !== JSON.stringify(theirs)) fail(where, `open orders on ${level} ${id} ${symbol} differ`, mine, theirs);
      if (!close(e?.openBuyNotional ?? 0, buyNotional) || !close(e?.openSellNotional ?? 0, sellNotional)) {
        fail(where, `open notional on ${level} ${id} ${symbol} differs`, [e?.openBuyNotional, e?.openSellNotional], [buyNotional, sellNotional]);
      }
      const book = books.get(bookKey(level, id, symbol)) ?? { position: 0, avgCost: 0, realized: 0 };
      const held = { position: e?.position ?? 0, avgCost: e?.avgCost ?? 0, realized: e?.realized ?? 0 };
      if (!close(held.position, book.position) || !close(held.avgCost, book.avgCost) || !close(held.realized, book.realized)) {
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

function scopeId(op: Extract<Op, { op: 'state' }>): string | undefined {
  switch (op.type) {
    case 'global':
      return undefined;
    case 'account':
      return op.accountId;
    case 'strategy':
      return op.strategyId;
    case 'symbol':
      return op.symbol;
    case 'account+symbol':
      return `${op.accountId}|${op.symbol}`;
    case 'strategy+symbol':
      return `${op.strategyId}|${op.symbol}`;
  }
}

function runScenario(scenario: Scenario): { engine: LimitEngine; model: ReferenceModel; outcomes: string[][] } {
  const clock = new FakeClock();
  const engine = new LimitEngine(CONFIG, clock, scenario.limits);
  const model = new ReferenceModel(
    { openOrderTtlMs: TTL, maxReferenceAgeMs: MAX_REF_AGE, severityActions: CONFIG.severityActions },
    scenario.limits,
    scenario.universe,
  );
  const start = clock.now();
  let nextId = 1;
  const outcomes: string[][] = [];
  const pickFrom = <T>(list: readonly T[], pick: number): T | undefined => (list.length === 0 ? undefined : list[pick % list.length]);
  const toOrder = (spec: OrderSpec, batch: readonly Order[]): Order => {
    const reused =
      spec.reuse === 'open' ? pickFrom(model.openOrders, spec.pick)
      : spec.reuse === 'openIdOnly' ? { orderId: pickFrom(model.openOrders, spec.pick)?.orderId, accountId: undefined }
      : spec.reuse === 'past' ? pickFrom(model.everAccepted, spec.pick)
      : spec.reuse === 'batch' ? pickFrom(batch, spec.pick)
      : undefined;
    const o: Order = {
      orderId: reused?.orderId ?? `o${nextId++}`,
      accountId: reused?.accountId ?? spec.accountId,
      strategyId: spec.strategyId,
      symbol: spec.symbol,
      side: spec.side,
      quantity: spec.quantity,
      orderType: spec.type === 'LIMIT' ? 'LIMIT' : 'MARKET',
    };
    if (spec.type !== 'MARKET') o.price = spec.price;
    if (spec.venue !== undefined) o.venue = spec.venue;
    return o;
  };
  const toEvent = (spec: ExecSpec): ExecutionEvent => {
    const open = spec.target === 'open' ? pickFrom(model.openOrders, spec.pick) : undefined;
    const past = spec.target === 'unknown' ? undefined : pickFrom(model.everAccepted, spec.pick);
    const { accountId, orderId } = open ?? past ?? { accountId: 'A1', orderId: `unknown-${spec.pick % 5}` };
    if (spec.type !== 'FILL') return { type: spec.type, accountId, orderId };
    const left = open?.remaining;
    const quantity =
      left === undefined ? spec.n
      : spec.size === 'full' ? left
      : spec.size === 'over' ? left + spec.n
      : left > 1 ? 1 + (spec.n % (left - 1))
      : left;
    return { type: 'FILL', accountId, orderId, quantity, price: spec.price };
  };

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
          count(`exec ${e.type} on ${isOpen ? 'open' : 'closed'} order`);
        }
        const expected = model.applyExecutions(events, clock.now());
        const actual = engine.applyExecutions(events).map((r: ExecutionOutcome) => r.outcome);
        outcomes.push(actual);
        events.forEach((e, i) => count(`exec ${e.type} ${expected[i]}`));
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
        const entry = engine.setTradingState(op.type, scopeId(op), op.state, 'test');
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
    compareState(where, engine, model);
  });
  for (const [what, n] of model.seen) stats.set(what, (stats.get(what) ?? 0) + n);
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
        { numRuns: NUM_RUNS },
      );
      if (process.env.FC_STATS !== undefined) console.log([...stats].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`).join('\n'));
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
  ...fields,
});
const fillOf = (target: ExecSpec['target'], pick: number): ExecSpec => ({ type: 'FILL', target, pick, size: 'partial', n: 1, price: 94 });
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
    expect(engine.ledger.accounts.get('A1')?.bySymbol.get('X')?.position).toBe(1);
  });

  it('ignores a stale late fill even when a reused order id keeps an older closed entry ahead of it', () => {
    const { engine, outcomes } = runScenario({
      universe: UNIVERSE,
      limits: [QUANTITY_LIMIT],
      ops: [
        { op: 'check', order: spec() }, // o1 at t0
        { op: 'advance', ms: 10_000 },
        { op: 'check', order: spec() }, // o2 at t+10s
        { op: 'advance', ms: 50_000 },
        { op: 'exec', events: [fillOf('unknown', 0)] }, // o1 expires at t+60s
        { op: 'check', order: spec({ reuse: 'past', pick: 0 }) }, // o1 again, open
        { op: 'advance', ms: 10_000 },
        { op: 'exec', events: [fillOf('unknown', 0)] }, // o2 expires at t+70s
        { op: 'advance', ms: TTL },
        { op: 'exec', events: [fillOf('past', 1)] }, // the new o1 expires; o2 expired a full TTL ago
      ],
    });
    expect(outcomes).toEqual([['unknown_order'], ['unknown_order'], ['unknown_order']]);
    expect(engine.ledger.accounts.get('A1')?.bySymbol.get('X')).toBeUndefined();
  });
});
