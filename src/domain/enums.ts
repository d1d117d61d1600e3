import { z } from 'zod';

export const SideSchema = z.enum(['BUY', 'SELL']);
export type Side = z.infer<typeof SideSchema>;

export const OrderTypeSchema = z.enum(['LIMIT', 'MARKET']);
export type OrderType = z.infer<typeof OrderTypeSchema>;

/** Ordered from least to most severe; the index is the rank used in every comparison. */
export const SEVERITIES = ['INFO', 'WARNING', 'SOFT_BREACH', 'HARD_BREACH', 'CRITICAL'] as const;
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = Object.freeze({
  INFO: 0,
  WARNING: 1,
  SOFT_BREACH: 2,
  HARD_BREACH: 3,
  CRITICAL: 4,
});

export const ActionSchema = z.enum(['LOG', 'ALERT', 'BLOCK', 'REDUCE_ONLY', 'HALT']);
export type Action = z.infer<typeof ActionSchema>;
/** Actions that reject the order that triggered them. */
export const isRejectingAction = (action: Action): boolean =>
  action === 'BLOCK' || action === 'REDUCE_ONLY' || action === 'HALT';

export const ReasonCodeSchema = z.enum([
  'LIMIT_BREACH',
  'HALTED',
  'REDUCE_ONLY',
  'DEADLINE_EXCEEDED',
  'DUPLICATE_ORDER_ID',
  'NO_REFERENCE_PRICE',
  'BATCH_REJECTED',
  'DEPENDENCY_UNAVAILABLE',
  'CAPACITY_EXCEEDED',
  'POSITIONS_REPLACING',
]);
export type ReasonCode = z.infer<typeof ReasonCodeSchema>;

export const DecisionSchema = z.enum(['ACCEPT', 'REJECT']);
export type Decision = z.infer<typeof DecisionSchema>;

export const LimitKindSchema = z.enum([
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
  'value',
]);
export type LimitKind = z.infer<typeof LimitKindSchema>;
/** The kinds evaluated on orders; `value` limits are fed by callers instead. */
export const ORDER_LIMIT_KINDS: readonly Exclude<LimitKind, 'value'>[] = LimitKindSchema.options.filter(
  (kind): kind is Exclude<LimitKind, 'value'> => kind !== 'value',
);

/** What a limit's metric adds up over, and the key its violations and trading states live on. */
export const AggregationSchema = z.enum([
  'global',
  'account',
  'strategy',
  'symbol',
  'account+symbol',
  'strategy+symbol',
]);
export type Aggregation = z.infer<typeof AggregationSchema>;

export const TradingStateSchema = z.enum(['ACTIVE', 'REDUCE_ONLY', 'HALTED']);
export type TradingState = z.infer<typeof TradingStateSchema>;
export const TRADING_STATE_RANK: Readonly<Record<TradingState, number>> = Object.freeze({
  ACTIVE: 0,
  REDUCE_ONLY: 1,
  HALTED: 2,
});

export const ExecutionTypeSchema = z.enum(['FILL', 'CANCEL', 'REJECT', 'EXPIRE']);
export type ExecutionType = z.infer<typeof ExecutionTypeSchema>;
