import { z } from 'zod';
import {
  ActionSchema,
  AggregationSchema,
  DecisionSchema,
  LimitKindSchema,
  ReasonCodeSchema,
  SeveritySchema,
  TradingStateSchema,
} from '../domain/enums.js';
import { LimitDefinitionSchema } from '../domain/limit-definition.js';
import { ExecutionEventSchema, IdentifierSchema, OrderSchema, PositionRowSchema, ReferencePriceSchema } from '../domain/orders.js';

/** Hard ceiling of the schema; the configured `maxBatchSize` (usually lower) is enforced in the route. */
export const BATCH_CEILING = 100_000;

export const CheckRequestSchema = OrderSchema;

export const BatchRequestSchema = z.strictObject({
  orders: z.array(OrderSchema).min(1).max(BATCH_CEILING),
  atomic: z.boolean().optional(),
});

export const OrderViolationSchema = z.object({
  violationId: z.string(),
  limitId: z.string(),
  kind: LimitKindSchema,
  severity: SeveritySchema,
  action: ActionSchema,
  value: z.number(),
  threshold: z.number(),
  key: z.string(),
  message: z.string(),
});

export const CheckResultSchema = z.object({
  orderId: z.string(),
  decision: DecisionSchema,
  reasons: z.array(ReasonCodeSchema),
  violations: z.array(OrderViolationSchema),
  evaluated: z.number().int(),
  bookVersion: z.number().int(),
});

export const BatchResponseSchema = z.object({
  results: z.array(CheckResultSchema),
  summary: z.object({ total: z.number().int(), accepted: z.number().int(), rejected: z.number().int() }),
});

/** Events one POST /v1/executions takes at most (the sliced parser stops at it too). */
/** Rows one PUT /v1/positions takes at most (the sliced parser stops at it too). */
export const POSITIONS_CEILING = 1_000_000;
export const EXECUTIONS_CEILING = 10_000;
export const ExecutionsRequestSchema = z.strictObject({ events: z.array(ExecutionEventSchema).min(1).max(EXECUTIONS_CEILING) });
export const ExecutionsResponseSchema = z.object({
  results: z.array(z.object({ orderId: z.string(), outcome: z.enum(['applied', 'unknown_order']) })),
});

export const PositionsRequestSchema = z.strictObject({
  positions: z.array(PositionRowSchema).max(POSITIONS_CEILING),
  replace: z.boolean().optional(),
});

export const PositionsResponseSchema = z.object({ applied: z.number().int(), replaced: z.boolean() });

export const MarketDataRequestSchema = z.strictObject({ prices: z.array(ReferencePriceSchema).min(1).max(100_000) });
export const MarketDataResponseSchema = z.object({ updated: z.number().int() });

export const SessionResetResponseSchema = z.object({ reset: z.literal(true), at: z.string() });

/** The previous page's `nextCursor`: a sequence number, as text. */
const CursorSchema = z.string().regex(/^\d{1,15}$/);
/** The most items a page may hold, and the ops reads' default (DEFAULT_KEY_PAGE_SIZE). */
const MAX_PAGE_SIZE = 1_000;
const PageSizeSchema = z.number().int().min(1).max(MAX_PAGE_SIZE);
export const DEFAULT_PAGE_SIZE = 100;

/** The previous page's last item, for `cursor`; null on the last page. */
const NextCursorSchema = z.string().nullable();

/**
 * The ops reads paged by key (an account's positions, the trading states) answer up to the most
 * a page may: an account or a table that fits is answered whole, as before they were paged,
 * and a page of 1,000 out of 10,000 is about a millisecond of the engine's time.
 */
export const DEFAULT_KEY_PAGE_SIZE = MAX_PAGE_SIZE;

/** The previous page's last symbol (its `nextCursor`): the next page starts after it. */
const SymbolCursorSchema = IdentifierSchema;

/** The previous page's last scope key (its `nextCursor`), as violations name keys: `global`, `account:ACC`, `account+symbol:ACC|SYM`, … */
const ScopeKeyCursorSchema = z.string().regex(/^(global|(account|strategy|symbol):[!-{}~]{1,64}|(account|strategy)\+symbol:[!-{}~]{1,64}\|[!-{}~]{1,64})$/, 'a scope key');

const PositionViewSchema = z.object({
  symbol: z.string(),
  quantity: z.number(),
  avgPrice: z.number(),
  openBuyQuantity: z.number(),
  openSellQuantity: z.number(),
  openBuyNotional: z.number(),
  openSellNotional: z.number(),
  openOrders: z.number().int(),
  /** The fresh reference, else the last fill; null when the symbol has no mark. */
  markPrice: z.number().nullable(),
  realizedPnl: z.number(),
  /** At the fresh reference only; null without one (0 when flat). */
  unrealizedPnl: z.number().nullable(),
  /** max(|P + B|, |P − S|) × mark; null without a mark. */
  grossNotional: z.number().nullable(),
});

/** One page of the account's positions, in symbol order, with totals over all of them. */
export const AccountExposureQuerySchema = z.strictObject({
  cursor: SymbolCursorSchema.optional(),
  pageSize: PageSizeSchema.optional(),
});

export const AccountExposureSchema = z.object({
  accountId: z.string(),
  /** A page of the positions, in symbol order. */
  positions: z.array(PositionViewSchema),
  /** The page's last symbol, for `cursor`; null on the last page. */
  nextCursor: NextCursorSchema,
  /** Totals over all the account's positions, not the page. */
  openOrders: z.number().int(),
  /** Null when any held symbol has no mark. */
  grossNotional: z.number().nullable(),
  realizedPnl: z.number(),
  unrealizedPnl: z.number().nullable(),
});

/**
 * The body of a route that needs none (a reset, a delete): absent or `{}`. A field here is
 * something the route would not honour (a scope, a dry run), so it is refused, not ignored.
 */
export const EmptyBodySchema = z.strictObject({});

/** The query of a route that takes none (all but the paged reads: violations, exposure, trading states): `?dryRun=true` is refused, not ignored. */
export const NoQuerySchema = z.strictObject({});

export const LimitIdParamsSchema = z.strictObject({ id: IdentifierSchema });
export const AccountIdParamsSchema = z.strictObject({ id: IdentifierSchema });

export const LimitsResponseSchema = z.object({ version: z.number().int(), limits: z.array(z.looseObject({})) });
export const LimitResponseSchema = z.object({ version: z.number().int(), limit: z.looseObject({}) });
export const LimitDeletedResponseSchema = z.object({ version: z.number().int(), deleted: z.string() });
export const LimitWriteSchema = LimitDefinitionSchema;

export const EvaluateRequestSchema = z.strictObject({
  value: z.number().min(-1e15).max(1e15),
  /** The id on the limit's `per` key: an account id for per: account, `ACC|SYM` for account+symbol; omit for global limits. */
  scopeId: z.string().min(1).max(140).optional(),
});

/** A value graded against a value limit; `threshold` and `violation` only when it breached one. */
export const EvaluateResponseSchema = z.object({
  limitId: z.string(),
  key: z.string(),
  value: z.number(),
  severity: SeveritySchema,
  action: ActionSchema,
  threshold: z.number().optional(),
  violation: OrderViolationSchema.optional(),
});

/** A trading-state scope, as it is written and as it is answered: `id` for all but `global`. */
const TradingScopeSchema = z.strictObject({ type: AggregationSchema, id: z.string().min(1).max(140).optional() });

export const TradingStateRequestSchema = z.strictObject({
  scope: TradingScopeSchema,
  state: TradingStateSchema,
  reason: z.string().min(1).max(500),
});

/** One scope's state; `scope`, `state` and `reason` can be PUT back as they are. */
export const TradingStateEntrySchema = z.object({
  scope: TradingScopeSchema,
  state: TradingStateSchema,
  reason: z.string(),
  /** Epoch milliseconds. */
  setAt: z.number(),
  /** `api` for an operator, `limit:<id>` for a limit's HALT or REDUCE_ONLY action. */
  source: z.string(),
});
/** A page of the states, in scope-key order. */
export const TradingStatesQuerySchema = z.strictObject({
  cursor: ScopeKeyCursorSchema.optional(),
  pageSize: PageSizeSchema.optional(),
});
/** `nextCursor` is the page's last scope key (`account:ACC-1`); null on the last page. */
export const TradingStatesResponseSchema = z.object({ states: z.array(TradingStateEntrySchema), nextCursor: NextCursorSchema });

/**
 * The query of both violation reads, the history and the active ones: `since` and `until`
 * bound an event's time in the history, an active violation's latest breach (`lastAt`).
 */
export const ViolationQuerySchema = z.strictObject({
  limitId: IdentifierSchema.optional(),
  severity: SeveritySchema.optional(),
  /** ISO-8601 time or epoch milliseconds. */
  since: z.string().max(40).optional(),
  until: z.string().max(40).optional(),
  cursor: CursorSchema.optional(),
  pageSize: PageSizeSchema.optional(),
});

/** One breach as it happened; times are epoch milliseconds. */
export const ViolationEventSchema = OrderViolationSchema.extend({
  seq: z.number().int(),
  at: z.number(),
  /** Absent for a value fed to POST /v1/limits/{id}/evaluate. */
  orderId: z.string().optional(),
});
export const ViolationPageSchema = z.object({ items: z.array(ViolationEventSchema), nextCursor: NextCursorSchema });

/** A breach of one limit on one key that has not resolved, as of its latest breach. */
export const ActiveViolationSchema = z.object({
  violationId: z.string(),
  limitId: z.string(),
  kind: LimitKindSchema,
  key: z.string(),
  severity: SeveritySchema,
  action: ActionSchema,
  value: z.number(),
  maxValue: z.number(),
  threshold: z.number(),
  count: z.number().int(),
  firstAt: z.number(),
  lastAt: z.number(),
  message: z.string(),
});
export const ActiveViolationPageSchema = z.object({ items: z.array(ActiveViolationSchema), nextCursor: NextCursorSchema });
