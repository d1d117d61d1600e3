import { z } from 'zod';
import { ActionSchema, LimitKindSchema, SeveritySchema, TradingStateSchema } from './enums.js';
import { OrderSchema, PositionRowSchema, RecordedExecutionSchema } from './orders.js';

/**
 * Every change of engine state, as the durable journal records it. Replaying these in order
 * (after the snapshot they follow) rebuilds exactly the same state: they carry outcomes
 * (an accepted order, a violation), never requests, so replay needs no clock and no deadline.
 * Market data is deliberately absent: stale prices must not come back after a restart.
 */
export const StateEventSchema = z.discriminatedUnion('type', [
  /** `batch`: the atomic batch it belongs to, kept until batch_committed or batch_rolled_back names it. */
  z.object({ type: z.literal('order_accepted'), at: z.number(), order: OrderSchema, price: z.number(), batch: z.string().optional() }),
  z.object({ type: z.literal('batch_committed'), at: z.number(), batch: z.string() }),
  /**
   * An atomic batch rejected after some of its orders were reserved (and journalled), or left
   * unfinished by a stop: every order it reserved is taken back, newest first. Which they were,
   * and the windows each counted in, the engine has kept since their order_accepted (in
   * snapshots too), so the record names the batch only and is all-or-none by itself.
   */
  z.object({ type: z.literal('batch_rolled_back'), at: z.number(), batch: z.string() }),
  z.object({ type: z.literal('execution'), at: z.number(), event: RecordedExecutionSchema }),
  /**
   * `replacing`: a replace applied in slices is under way after this record (its rows are merged
   * a slice at a time after positions_flattened, the last slice has it false); checks are
   * rejected meanwhile. Absent in a change made in one go, and in older journals.
   */
  z.object({ type: z.literal('positions'), at: z.number(), rows: z.array(PositionRowSchema), replace: z.boolean(), replacing: z.boolean().optional() }),
  /**
   * A replace in slices begun (the first, with none flattened) or going on: these groups'
   * positions flattened, in this order, accounts then strategies then the firm (see
   * ExposureLedger.flattenGroups). A replace is under way after it.
   */
  z.object({ type: z.literal('positions_flattened'), at: z.number(), accounts: z.array(z.string()), strategies: z.array(z.string()), firm: z.boolean() }),
  /** The whole book replaced (and, in older journals, any change of it). */
  z.object({ type: z.literal('book'), at: z.number(), version: z.number().int(), limits: z.array(z.unknown()) }),
  /** One limit added (last in the book) or replaced (in its place): a change costs the limit, not the book. */
  z.object({ type: z.literal('limit_upserted'), at: z.number(), version: z.number().int(), limit: z.unknown() }),
  z.object({ type: z.literal('limit_deleted'), at: z.number(), version: z.number().int(), limitId: z.string() }),
  z.object({
    type: z.literal('trading_state'),
    at: z.number(),
    scope: z.string(),
    state: TradingStateSchema,
    reason: z.string(),
    source: z.string(),
  }),
  z.object({ type: z.literal('session_reset'), at: z.number() }),
  z.object({
    type: z.literal('violation'),
    at: z.number(),
    breach: z.object({
      limitId: z.string(),
      kind: LimitKindSchema,
      key: z.string(),
      severity: SeveritySchema,
      action: ActionSchema,
      value: z.number(),
      threshold: z.number(),
      orderId: z.string().optional(),
      message: z.string(),
    }),
  }),
  z.object({ type: z.literal('resolved'), at: z.number(), limitId: z.string(), key: z.string() }),
  /**
   * Open orders expired, or closed ones were forgotten, at this time (by a check, an execution or
   * the sweeper): how many of each, the oldest first (one call does a bounded number). Absent in
   * older journals, whose replay does all that were due.
   */
  z.object({ type: z.literal('expire'), at: z.number(), expired: z.int().min(0).optional(), forgotten: z.int().min(0).optional() }),
  /** The sweeper dropped empty windows and old history at this time. */
  z.object({ type: z.literal('sweep'), at: z.number() }),
]);
export type StateEvent = z.infer<typeof StateEventSchema>;


/** Where the engine hands its events; it must only buffer (the hot path calls it). */
export type EventSink = (event: StateEvent) => void;
