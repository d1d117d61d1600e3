import type { Action, Aggregation, LimitKind } from './enums.js';
import type { CheckContext } from './check-context.js';
import type { LimitDefinition } from './limit-definition.js';
import type { WindowStore } from './window-store.js';
import type { ShardedMap } from './sharded-map.js';
import type { ActiveViolation } from './violation-book.js';

/**
 * A limit's metric for one order: the value after this order, NaN when it cannot tell (the
 * reason is left in `ctx.failure`), or NOT_APPLICABLE when the limit does not bear on it.
 */
export type Evaluator = (limit: CompiledLimit, ctx: CheckContext) => number;

/**
 * An evaluator as the engine calls it: the value is left in `ctx.value`, not returned. The
 * engine's call is megamorphic (one target per kind), so it is never inlined, and a double
 * returned across it is boxed on the heap, one young object per limit evaluated; written into a
 * double field it is stored in place. `undefined`, not `void`: a bare evaluator (which returns
 * its value and leaves the last one in ctx.value) does not type-check in its place.
 */
export type StoringEvaluator = (limit: CompiledLimit, ctx: CheckContext) => undefined;

export const NOT_APPLICABLE = -1;

/** A limit definition made ready for the hot path: sets, numbers and tables, no lookups by name. */
export interface CompiledLimit {
  readonly ordinal: number;
  readonly id: string;
  readonly kind: LimitKind;
  readonly per: Aggregation;
  readonly definition: Readonly<LimitDefinition>;
  readonly isEnabled: boolean;
  readonly evaluate: StoringEvaluator;
  readonly accounts: ReadonlySet<string> | undefined;
  readonly strategies: ReadonlySet<string> | undefined;
  readonly symbols: ReadonlySet<string> | undefined;
  readonly venues: ReadonlySet<string> | undefined;
  /** Upper bounds by severity rank 1..4 (WARNING..CRITICAL); Infinity where not set. */
  readonly warn: number;
  readonly soft: number;
  readonly hard: number;
  readonly critical: number;
  /** The same bounds with a rounding tolerance (see breachBound): what a value is compared with. */
  readonly warnBound: number;
  readonly softBound: number;
  readonly hardBound: number;
  readonly criticalBound: number;
  /** The lowest of the four: a value at most this is clean (rank 0). */
  readonly cleanBound: number;
  /** Action by severity rank 0..4. */
  readonly actions: readonly Action[];
  readonly windowMs: number;
  readonly allowsMissingReference: boolean;
  /** Rate or duplicate windows by local key; carried over when the limit is recompiled unchanged. */
  readonly windows: WindowStore;
  /** This limit's active violations by key (owned by the violation book). */
  readonly active: ShardedMap<string, ActiveViolation>;
}

/**
 * Reads a number from each cache line of each of `limits[0, count)`, and answers their sum (which
 * nobody needs: see CheckContext.touched). A single check over HTTP starts with the engine's data
 * out of the core's caches, which the HTTP work between two checks has filled. The limits' own
 * loop then meets each limit's misses one after another, behind that limit's evaluation; read
 * together in this loop of independent loads, they overlap. compileLimit's object literal lays
 * its fields out in order, 8 bytes each after a 24-byte header, over 224 bytes, which may start
 * anywhere 8-byte aligned and so span five lines: with the map at 0 (read by any access),
 * `ordinal` at 24, `isEnabled` at 64, `hard` at 128, `cleanBound` at 176 and `windowMs` at 216,
 * every line it spans holds one of them (the widest gap between them is 56 bytes). `hard` is read
 * only for its place; it and `cleanBound` bring their doubles' boxes, which V8 allocated just
 * after the object.
 */
export function touchLimits(limits: readonly CompiledLimit[], count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const limit = limits[i]!;
    sum += limit.ordinal + (limit.isEnabled ? 1 : 0) + limit.hard + limit.cleanBound + limit.windowMs;
  }
  return sum;
}

/** Severity rank of a value: the highest band it is strictly above (0 = INFO, clean). */
export function severityRankOf(limit: CompiledLimit, value: number): number {
  if (value > limit.criticalBound) return 4;
  if (value > limit.hardBound) return 3;
  if (value > limit.softBound) return 2;
  if (value > limit.warnBound) return 1;
  return 0;
}

/**
 * Relative rounding a value may carry and still equal its threshold. Binary floating point
 * puts 100 × 1.10 at 110.00000000000001 and 0.1 + 0.2 at 0.30000000000000004, so an order
 * exactly at a limit on paper would breach it by one unit in the last place; the walks add up
 * to a hundred such terms. A trillionth of the threshold covers that and no real excess (a
 * thousandth of a cent on a billion).
 */
const THRESHOLD_TOLERANCE = 1e-12;

/** The largest value that still counts as equal to `threshold`. */
export const breachBound = (threshold: number): number => threshold + Math.abs(threshold) * THRESHOLD_TOLERANCE;

export function thresholdAt(limit: CompiledLimit, rank: number): number {
  switch (rank) {
    case 4:
      return limit.critical;
    case 3:
      return limit.hard;
    case 2:
      return limit.soft;
    default:
      return limit.warn;
  }
}
