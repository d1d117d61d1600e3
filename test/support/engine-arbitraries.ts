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
  /** When set, the order flattens the account's position instead, written in this lot: 0.8 for the 0.7999999999999999 of 0.1 + 0.7. */
  flattenIn: number | undefined;
}

export interface ExecSpec {
  type: ExecutionEvent['type'];
  /** An open order picked at random, the newest open one, an order ever accepted, or an id never used. */
  target: 'open' | 'newest' | 'past' | 'unknown';
  pick: number;
  /** FILL size relative to what is left of an open order. */
  size: 'partial' | 'full' | 'over';
  n: number;
  price: number;
  /** The quantity step the venue reports in: 1 for whole lots, else a decimal one (0.1, 1e-8). */
  lot: number;
  /** A FILL's size when it targets no open order (a late or unknown fill); n when absent. */
  alone: number | undefined;
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

/**
 * How a scenario writes its numbers: whole lots at whole prices (thresholds on the grid are met
 * exactly), or decimal lots at decimal ticks, as coins and FX trade. Decimals are what a gateway
 * sends (0.3, not 0.1 + 0.2), and their sums carry binary rounding: 0.1 + 0.2 − 0.3 is 5.6e-17,
 * 0.7 filled of 1 leaves 0.30000000000000004. The engine must take what rounding leaves as no
 * quantity and no P&L, and keep a real remainder, however small (src/domain/rounding.ts).
 */
export interface NumberStyle {
  /** Quantities are written with its decimal places: 1, 0.1, 0.25, 0.001, 1e-8. */
  lot: number;
  /** Prices are multiples of it, as decimals: 1, 0.01, 0.05, 0.25. */
  tick: number;
  /**
   * The sizes the scenario trades most, so that fills and positions add up to each other (buys
   * of 0.1 and 0.2 closed by a sell of 0.3) and what is left is rounding or a real remainder.
   */
  sizes: readonly number[];
}

const WHOLE: NumberStyle = { lot: 1, tick: 1, sizes: [1, 5, 10] };

/** Places after the point `step` is written with: 0.25 → 2, 1e-8 → 8. */
const placesOf = (step: number): number => {
  let places = 0;
  while (Number(step.toFixed(places)) !== step) places++;
  return places;
};

/** `x` as the decimal with `step`'s places a venue would write for it (0.30000000000000004 → 0.3). */
const asDecimal = (x: number, step: number): number => Number(x.toFixed(placesOf(step)));

/** k steps, written as a decimal: 3 × 0.1 is 0.3, not 0.30000000000000004. */
const steps = (k: number, step: number): number => asDecimal(k * step, step);

/**
 * Sizes whose sums round in binary (0.1 + 0.2, 0.1 + 0.7, 1.1 + 2.2), and mixed magnitudes: a
 * satoshi on 1, and two on 10,000 coins (2e-12 of them, the smallest real remainder here: what
 * keeps the rounding rule from growing unnoticed).
 */
const DECIMAL_SIZES = [0.1, 0.2, 0.3, 0.7, 0.8, 1.1, 2.2, 3.3, 0.001, 0.003, 0.25, 0.75, 1e-8, 3e-8, 1.00000001, 0.12345678, 10_000.00000001, 9_999.99999999] as const;

/** The sizes a lot can write (0.25 is no multiple of 0.1), with one, three and eleven lots. */
function sizesFor(lot: number): number[] {
  const written = DECIMAL_SIZES.filter((q) => q >= lot && steps(Math.round(q / lot), lot) === q);
  return [...new Set([...written, lot, steps(3, lot), steps(11, lot)])];
}

const decimalStyleArb: fc.Arbitrary<NumberStyle> = fc
  .record({ lot: fc.constantFrom(0.1, 0.25, 0.01, 0.001, 1e-8), tick: fc.constantFrom(1, 0.01, 0.05, 0.25) })
  .chain(({ lot, tick }) => {
    const sizes = sizesFor(lot);
    return fc.shuffledSubarray(sizes, { minLength: 2, maxLength: Math.min(4, sizes.length) }).map((chosen) => ({ lot, tick, sizes: chosen }));
  });

/** Half the scenarios in whole numbers, which meet the grid's thresholds exactly; half in decimals. */
export const numberStyleArb: fc.Arbitrary<NumberStyle> = fc.oneof({ arbitrary: fc.constant(WHOLE), weight: 1 }, { arbitrary: decimalStyleArb, weight: 1 });

/** A positive order (or position) size up to about 20 units, mostly one of the style's sizes. */
function quantityArb(style: NumberStyle): fc.Arbitrary<number> {
  if (style.lot === 1) return fc.oneof(fc.constantFrom(...style.sizes), fc.integer({ min: 1, max: 20 }));
  const { lot } = style;
  return fc.oneof(
    { arbitrary: fc.constantFrom(...style.sizes), weight: 6 },
    { arbitrary: fc.integer({ min: 1, max: Math.round(20 / lot) }).map((k) => steps(k, lot)), weight: 1 },
    { arbitrary: fc.integer({ min: 1, max: 12 }).map((k) => steps(k, lot)), weight: 1 },
    { arbitrary: fc.integer({ min: 1, max: 20 }), weight: 1 },
  );
}

/** A price between `min` and `max`, on the style's tick; `common` ones (on the tick, and their neighbours) are likelier. */
function priceArb(style: NumberStyle, min: number, max: number, common: readonly number[] = []): fc.Arbitrary<number> {
  const { tick } = style;
  const onTick = fc.integer({ min: Math.ceil(min / tick), max: Math.floor(max / tick) }).map((k) => steps(k, tick));
  if (common.length === 0) return onTick;
  const near = tick === 1 ? common : common.flatMap((p) => [-1, 0, 0, 1].map((d) => steps(Math.round(p / tick) + d, tick)));
  return fc.oneof(fc.constantFrom(...near), onTick);
}

/**
 * An account or symbol. Decimal scenarios trade mostly the first, so that their fills meet on one
 * position (buys of 0.1 and 0.2, a sell of 0.3) often enough to close it, up to rounding or not.
 */
function pickArb(names: readonly string[], style: NumberStyle): fc.Arbitrary<string> {
  if (style.lot === 1) return fc.constantFrom(...names);
  return fc.oneof({ arbitrary: fc.constant(names[0]!), weight: 2 }, { arbitrary: fc.constantFrom(...names), weight: 1 });
}

export function orderSpecArb(u: Universe, style: NumberStyle = WHOLE): fc.Arbitrary<OrderSpec> {
  return fc.record({
    accountId: pickArb(u.accounts, style),
    strategyId: fc.constantFrom(...u.strategies),
    symbol: pickArb(u.symbols, style),
    side: fc.constantFrom<Side>('BUY', 'SELL'),
    quantity: quantityArb(style),
    type: fc.constantFrom<OrderSpec['type']>('LIMIT', 'LIMIT', 'LIMIT', 'LIMIT', 'MARKET_PRICED', 'MARKET'),
    price: priceArb(style, 94, 106, [95, 100, 105]),
    venue: optional(fc.constantFrom(...VENUES)),
    reuse: fc.constantFrom<Reuse>('fresh', 'fresh', 'fresh', 'fresh', 'fresh', 'fresh', 'fresh', 'open', 'past', 'batch', 'openIdOnly'),
    pick: fc.nat(),
    flattenIn: style.lot === 1 ? fc.constant(undefined) : fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: fc.constant(style.lot), weight: 1 }),
  });
}

/**
 * Decimal scenarios aim half their executions at the newest open order, so one order is filled
 * in parts that add up to it (0.7, then the 0.3 left), or cancelled after a part was filled.
 */
const targetArb = (style: NumberStyle): fc.Arbitrary<ExecSpec['target']> =>
  style.lot === 1
    ? fc.constantFrom('open', 'open', 'open', 'open', 'past', 'past', 'unknown')
    : fc.constantFrom('open', 'open', 'newest', 'newest', 'newest', 'newest', 'past', 'past', 'unknown');

/**
 * Decimal fills come mostly at a few prices, so that one position is bought and sold at the same
 * price: 0.1 and 0.7 bought at 100.1 average 100.10000000000001, and selling at 100.1 realizes nothing.
 */
const FILL_PRICES = [95, 100.1, 105] as const;

export function execSpecArb(style: NumberStyle = WHOLE): fc.Arbitrary<ExecSpec> {
  return fc.record({
    type: fc.constantFrom<ExecSpec['type']>('FILL', 'FILL', 'FILL', 'FILL', 'FILL', 'CANCEL', 'CANCEL', 'EXPIRE', 'REJECT'),
    target: targetArb(style),
    pick: fc.nat(),
    size: fc.constantFrom<ExecSpec['size']>('partial', 'partial', 'full', 'full', 'over'),
    n: fc.integer({ min: 1, max: 10 }),
    price: priceArb(style, 90, 110, style.lot === 1 ? [] : FILL_PRICES),
    lot: fc.constant(style.lot),
    alone: style.lot === 1 ? fc.constant(undefined) : quantityArb(style),
  });
}

/**
 * The newest open order filled in decimal parts, then filled up (the venue writing what is left
 * as a decimal: 0.3 of the 0.30000000000000004 that 1 − 0.7 leaves) or cancelled. Half the time
 * every part is at one price, whose average over the parts is that price up to rounding.
 */
const splitArb = (style: NumberStyle): fc.Arbitrary<Op> =>
  fc
    .tuple(fc.array(execSpecArb(style), { minLength: 1, maxLength: 3 }), execSpecArb(style), fc.constantFrom<ExecSpec['type']>('FILL', 'FILL', 'CANCEL'), fc.boolean())
    .map(([parts, last, type, onePrice]): Op => {
      const price = (p: ExecSpec): number => (onePrice ? last.price : p.price);
      return {
        op: 'exec',
        events: [
          ...parts.map((p): ExecSpec => ({ ...p, type: 'FILL', target: 'newest', size: 'partial', price: price(p) })),
          { ...last, type, target: 'newest', size: 'full' },
        ],
      };
    });

/** A position snapshot row's signed size: flat, long or short. */
const signedQuantityArb = (style: NumberStyle): fc.Arbitrary<number> =>
  style.lot === 1
    ? fc.oneof(fc.constant(0), fc.integer({ min: -20, max: 20 }))
    : fc.oneof(fc.constant(0), fc.tuple(quantityArb(style), fc.boolean()).map(([q, short]) => (short ? -q : q)));

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

export function opArb(u: Universe, windows: readonly number[], style: NumberStyle = WHOLE): fc.Arbitrary<Op> {
  const order = orderSpecArb(u, style);
  return fc.oneof(
    { arbitrary: order.map((o): Op => ({ op: 'check', order: o })), weight: 30 },
    {
      arbitrary: fc.record({ orders: fc.array(order, { minLength: 1, maxLength: 4 }), atomic: fc.constantFrom(true, true, false) }).map((b): Op => ({ op: 'batch', ...b })),
      weight: 10,
    },
    { arbitrary: fc.array(execSpecArb(style), { minLength: 1, maxLength: 3 }).map((events): Op => ({ op: 'exec', events })), weight: 16 },
    { arbitrary: splitArb(style), weight: style.lot === 1 ? 0 : 8 },
    {
      arbitrary: fc
        .array(fc.record({ symbol: fc.constantFrom(...u.symbols), price: priceArb(style, 95, 105) }), { minLength: 1, maxLength: 3 })
        .map((prices): Op => ({ op: 'refs', prices })),
      weight: 8,
    },
    {
      arbitrary: fc
        .record({
          rows: fc.array(
            fc
              .record({
                accountId: pickArb(u.accounts, style),
                strategyId: optional(fc.constantFrom(...u.strategies), 3),
                symbol: pickArb(u.symbols, style),
                quantity: signedQuantityArb(style),
                avgPrice: priceArb(style, 95, 105),
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

export const scenarioArb: fc.Arbitrary<Scenario> = fc.tuple(worldArb(), numberStyleArb).chain(([{ universe, limits, windows }, style]) =>
  fc.record({
    universe: fc.constant(universe),
    limits: fc.constant(limits),
    ops: fc.array(opArb(universe, windows, style), { minLength: 1, maxLength: 60, size: 'max' }),
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
  /** The account's net position in the symbol, for orders that flatten it; without it they are ordinary orders. */
  positionOf?(accountId: string, symbol: string): number;
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
    const accountId = reused?.accountId ?? spec.accountId;
    const flattening = flatteningOf(spec, source.positionOf?.(accountId, spec.symbol) ?? 0);
    const o: Order = {
      orderId: reused?.orderId ?? `o${nextId++}`,
      accountId,
      strategyId: spec.strategyId,
      symbol: spec.symbol,
      side: flattening?.side ?? spec.side,
      quantity: flattening?.quantity ?? spec.quantity,
      orderType: spec.type === 'LIMIT' ? 'LIMIT' : 'MARKET',
    };
    if (spec.type !== 'MARKET') o.price = spec.price;
    if (spec.venue !== undefined) o.venue = spec.venue;
    return o;
  };
  const toEvent = (spec: ExecSpec): ExecutionEvent => {
    const open = spec.target === 'open' ? pickFrom(source.openOrders, spec.pick) : spec.target === 'newest' ? source.openOrders.at(-1) : undefined;
    const past = spec.target === 'unknown' ? undefined : pickFrom(source.everAccepted, spec.pick);
    const { accountId, orderId } = open ?? past ?? { accountId: 'A1', orderId: `unknown-${spec.pick % 5}` };
    if (spec.type !== 'FILL') return { type: spec.type, accountId, orderId };
    const left = open?.remaining;
    const quantity =
      left === undefined ? (spec.alone ?? spec.n)
      : spec.lot !== 1 ? decimalFill(spec, left)
      : spec.size === 'full' ? left
      : spec.size === 'over' ? left + spec.n
      : left > 1 ? 1 + (spec.n % (left - 1))
      : left;
    return { type: 'FILL', accountId, orderId, quantity, price: spec.price };
  };
  return { toOrder, toEvent };
}

/** The side and size that flatten a position of `held`, as a gateway writes them; undefined when not asked or flat. */
function flatteningOf(spec: OrderSpec, held: number): { side: Side; quantity: number } | undefined {
  if (spec.flattenIn === undefined) return undefined;
  const quantity = asDecimal(Math.abs(held), spec.flattenIn);
  return quantity > 0 ? { side: held > 0 ? 'SELL' : 'BUY', quantity } : undefined;
}

/**
 * A fill of an order with `left` open, as a venue reports it in decimals. The rest is mostly
 * written as a decimal (0.3 of the 0.30000000000000004 that 1 − 0.7 leaves), sometimes as the very
 * double left; a partial fill is about n/11 of the rest, at least one lot short of it.
 */
function decimalFill(spec: ExecSpec, left: number): number {
  const { lot, n } = spec;
  const rest = asDecimal(left, lot);
  if (spec.size === 'full') return n % 3 === 0 ? left : rest;
  if (spec.size === 'over') return asDecimal(left + steps(n, lot), lot);
  const part = Math.min(asDecimal((rest * n) / 11, lot), asDecimal(rest - lot, lot));
  return part > 0 ? part : rest;
}
