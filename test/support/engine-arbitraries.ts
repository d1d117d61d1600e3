/**
 * Generators of random limit books and operation streams, shared by the property tests: the
 * engine against the reference model, and crash recovery (journal replay and snapshots).
 */
import fc from 'fast-check';
import { AggregationSchema, ORDER_LIMIT_KINDS } from '../../src/domain/enums.js';
import type { Action, Aggregation, Side, TradingState } from '../../src/domain/enums.js';
import type { LimitDefinition } from '../../src/domain/limit-definition.js';
import type { ExecutionEvent, Order, PositionRow } from '../../src/domain/orders.js';
import { testConfig } from './engine-fixtures.js';
import type { Universe } from './reference-model.js';

const CONFIG = testConfig();
export const TTL = CONFIG.openOrderTtlMs;
export const MAX_REF_AGE = CONFIG.maxReferenceAgeMs;
/** Shorter than the TTL, so a late fill can find its order forgotten while open ones still stand. */
export const LATE_FILL_WINDOW = 20_000;

// ---- scenario shape ---------------------------------------------------------------------------

/**
 * How an order's id is chosen: fresh, the account+id of an open, past or same-batch order, or
 * an open order's id under the generated account (a duplicate only within the same account).
 */
export type Reuse = 'fresh' | 'open' | 'past' | 'batch' | 'openIdOnly';

export interface OrderSpec {
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

export interface ExecSpec {
  type: ExecutionEvent['type'];
  target: 'open' | 'past' | 'unknown';
  pick: number;
  /** FILL size relative to what is left of an open order. */
  size: 'partial' | 'full' | 'over';
  n: number;
  price: number;
}

export type Op =
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

export interface Scenario {
  universe: Universe;
  limits: LimitDefinition[];
  ops: Op[];
}

// ---- generators ---------------------------------------------------------------------------------

export const KINDS = ORDER_LIMIT_KINDS;
export const AGGREGATIONS: readonly Aggregation[] = AggregationSchema.options;
export const SYMBOL_LEVEL: readonly Aggregation[] = ['symbol', 'account+symbol', 'strategy+symbol'];
export const ACTIONS: readonly Action[] = ['LOG', 'ALERT', 'BLOCK', 'REDUCE_ONLY', 'HALT'];
export const VENUES = ['V1', 'V2'] as const;

/** Threshold grid per kind: multiples of `step` up to `steps`, so that values land exactly on thresholds. */
/** Value limits are fed by callers and must never be evaluated on orders: they ride along as noise. */
export type GeneratedKind = (typeof KINDS)[number] | 'value';

export const THRESHOLD_GRID: Record<GeneratedKind, { step: number; steps: number }> = {
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

export const optional = <T>(arb: fc.Arbitrary<T>, freq = 2): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq });

/** Drops keys whose value is undefined, so definitions look like what a user would write. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** `valueWeight` (of 39) is how often a value limit comes up: rare by default, where they are only noise. */
export function limitArb(universe: Universe, index: number, valueWeight = 1): fc.Arbitrary<LimitDefinition> {
  // The kinds that read positions and P&L have the most state to get wrong: they come up twice as often.
  const kinds: fc.Arbitrary<GeneratedKind> = fc.oneof(
    { arbitrary: fc.constantFrom(...KINDS), weight: 30 },
    { arbitrary: fc.constantFrom('daily_loss' as const, 'gross_notional' as const, 'self_trade' as const), weight: 8 },
    { arbitrary: fc.constant('value' as const), weight: valueWeight },
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

export function orderSpecArb(u: Universe): fc.Arbitrary<OrderSpec> {
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

export const execSpecArb: fc.Arbitrary<ExecSpec> = fc.record({
  type: fc.constantFrom<ExecSpec['type']>('FILL', 'FILL', 'FILL', 'FILL', 'FILL', 'CANCEL', 'CANCEL', 'EXPIRE', 'REJECT'),
  target: fc.constantFrom<ExecSpec['target']>('open', 'open', 'open', 'open', 'past', 'past', 'unknown'),
  pick: fc.nat(),
  size: fc.constantFrom<ExecSpec['size']>('partial', 'partial', 'full', 'full', 'over'),
  n: fc.integer({ min: 1, max: 10 }),
  price: fc.integer({ min: 90, max: 110 }),
});

/** Clock steps, biased to the boundaries: reference age, TTL, late-fill window, and the book's own window lengths. */
export const advanceArb = (windows: readonly number[]): fc.Arbitrary<number> =>
  fc.oneof(
    { arbitrary: fc.constantFrom(0, ...windows.flatMap((w) => [w - 1, w])), weight: windows.length === 0 ? 0 : 4 },
    { arbitrary: fc.integer({ min: TTL / 2, max: TTL - 1 }), weight: 1 },
    { arbitrary: fc.integer({ min: 0, max: 2_000 }), weight: 4 },
    { arbitrary: fc.integer({ min: 0, max: 30_000 }), weight: 2 },
    { arbitrary: fc.constantFrom(MAX_REF_AGE, MAX_REF_AGE + 1, TTL, TTL + 1, LATE_FILL_WINDOW - 1, LATE_FILL_WINDOW, LATE_FILL_WINDOW + 1), weight: 2 },
    { arbitrary: fc.constantFrom(1_000, 5_000, 30_000), weight: 1 },
    { arbitrary: fc.integer({ min: MAX_REF_AGE + 1, max: MAX_REF_AGE + 1_000 }), weight: 1 },
    { arbitrary: fc.integer({ min: TTL + 1, max: TTL + 10_000 }), weight: 1 },
  );

export function opArb(u: Universe, windows: readonly number[]): fc.Arbitrary<Op> {
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

/** A small firm (2–3 accounts and symbols, 2 strategies), a book of 1–8 limits over it, and the book's window lengths. */
export interface World {
  universe: Universe;
  limits: LimitDefinition[];
  windows: number[];
}

export function worldArb(valueWeight = 1): fc.Arbitrary<World> {
  return fc
    .record({ accounts: fc.integer({ min: 2, max: 3 }), symbols: fc.integer({ min: 2, max: 3 }), limits: fc.integer({ min: 1, max: 8 }) })
    .chain(({ accounts, symbols, limits }) => {
      const universe: Universe = {
        accounts: ['A1', 'A2', 'A3'].slice(0, accounts),
        strategies: ['S1', 'S2'],
        symbols: ['X', 'Y', 'Z'].slice(0, symbols),
      };
      return fc.tuple(...Array.from({ length: limits }, (_, i) => limitArb(universe, i, valueWeight))).map((book) => ({
        universe,
        limits: book,
        windows: [...new Set(book.flatMap((l) => (l.windowMs === undefined ? [] : [l.windowMs])))],
      }));
    });
}

export const scenarioArb: fc.Arbitrary<Scenario> = worldArb().chain(({ universe, limits, windows }) =>
  fc.record({
    universe: fc.constant(universe),
    limits: fc.constant(limits),
    ops: fc.array(opArb(universe, windows), { minLength: 1, maxLength: 60, size: 'max' }),
  }),
);

/** How often each outcome of a property run was reached (see printStats). */
export class OutcomeCounts extends Map<string, number> {
  count(what: string, times = 1): void {
    this.set(what, (this.get(what) ?? 0) + times);
  }
}

/** Prints how often each counted outcome was reached, when FC_STATS is set (to see the generators do their job). */
export function printStats(stats: ReadonlyMap<string, number>): void {
  if (process.env.FC_STATS === undefined) return;
  console.log([...stats].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`).join('\n'));
}

// ---- from generated specs to concrete orders and executions ------------------------------------

/** The scope id a `state` operation names, as setTradingState takes it. */
export function scopeIdOf(op: { type: Aggregation; accountId: string; strategyId: string; symbol: string }): string | undefined {
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

/** Where reused ids and execution targets are picked from; read afresh on every call. */
export interface PickSource {
  readonly openOrders: readonly { readonly accountId: string; readonly orderId: string; readonly remaining: number }[];
  readonly everAccepted: readonly { readonly accountId: string; readonly orderId: string }[];
}

export const pickFrom = <T>(list: readonly T[], pick: number): T | undefined => (list.length === 0 ? undefined : list[pick % list.length]);

/** Turns specs into orders (fresh ids o1, o2, ...) and execution events against `source`. */
export function orderBuilder(source: PickSource): { toOrder: (spec: OrderSpec, batch: readonly Order[]) => Order; toEvent: (spec: ExecSpec) => ExecutionEvent } {
  let nextId = 1;
  const toOrder = (spec: OrderSpec, batch: readonly Order[]): Order => {
    const reused =
      spec.reuse === 'open' ? pickFrom(source.openOrders, spec.pick)
      : spec.reuse === 'openIdOnly' ? { orderId: pickFrom(source.openOrders, spec.pick)?.orderId, accountId: undefined }
      : spec.reuse === 'past' ? pickFrom(source.everAccepted, spec.pick)
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
    const open = spec.target === 'open' ? pickFrom(source.openOrders, spec.pick) : undefined;
    const past = spec.target === 'unknown' ? undefined : pickFrom(source.everAccepted, spec.pick);
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
  return { toOrder, toEvent };
}
