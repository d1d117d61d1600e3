import { z } from 'zod';
import { ActionSchema, AggregationSchema, LimitKindSchema } from './enums.js';
import type { Aggregation, LimitKind } from './enums.js';
import { IdentifierSchema } from './orders.js';

const ThresholdSchema = z.number().min(0).max(1e15);
const ScopeListSchema = z.array(IdentifierSchema).min(1).max(10_000);

export const LimitDefinitionSchema = z
  .strictObject({
    id: IdentifierSchema,
    name: z.string().max(200).optional(),
    kind: LimitKindSchema,
    scope: z
      .strictObject({
        accounts: ScopeListSchema.optional(),
        strategies: ScopeListSchema.optional(),
        symbols: ScopeListSchema.optional(),
        venues: ScopeListSchema.optional(),
      })
      .optional(),
    per: AggregationSchema.optional(),
    thresholds: z.strictObject({
      warn: ThresholdSchema.optional(),
      soft: ThresholdSchema.optional(),
      hard: ThresholdSchema,
      critical: ThresholdSchema.optional(),
    }),
    windowMs: z.number().int().min(1).max(86_400_000).optional(),
    missingReference: z.enum(['reject', 'allow']).optional(),
    actions: z
      .strictObject({
        WARNING: ActionSchema.optional(),
        SOFT_BREACH: ActionSchema.optional(),
        HARD_BREACH: ActionSchema.optional(),
        CRITICAL: ActionSchema.optional(),
      })
      .optional(),
    enabled: z.boolean().optional(),
  })
  .superRefine((limit, ctx) => {
    for (const issue of limitDefinitionProblems(limit)) ctx.addIssue({ code: 'custom', ...issue });
  });
export type LimitDefinition = z.infer<typeof LimitDefinitionSchema>;

/** Kinds whose metric is about one symbol, so only symbol-level aggregation makes sense. */
const SYMBOL_LEVEL_KINDS: ReadonlySet<LimitKind> = new Set(['position', 'self_trade']);
const SYMBOL_LEVEL_KEYS: ReadonlySet<Aggregation> = new Set(['symbol', 'account+symbol', 'strategy+symbol']);
const WINDOWED_KINDS: ReadonlySet<LimitKind> = new Set(['order_rate', 'duplicate_order']);

export const DEFAULT_PER: Readonly<Record<LimitKind, Aggregation>> = Object.freeze({
  order_quantity: 'account',
  order_notional: 'account',
  price_deviation: 'account',
  position: 'account+symbol',
  gross_notional: 'account',
  open_orders: 'account',
  order_rate: 'strategy',
  duplicate_order: 'account',
  daily_loss: 'account',
  restricted: 'account',
  self_trade: 'account+symbol',
  value: 'global',
});

interface Problem {
  path: (string | number)[];
  message: string;
}

/** Cross-field rules that a JSON Schema cannot say; each problem names its field. */
export function limitDefinitionProblems(limit: {
  kind: LimitKind;
  per?: Aggregation | undefined;
  thresholds: { warn?: number | undefined; soft?: number | undefined; hard: number; critical?: number | undefined };
  windowMs?: number | undefined;
  missingReference?: string | undefined;
}): Problem[] {
  const problems: Problem[] = [];
  const t = limit.thresholds;
  const ordered: [string, number | undefined][] = [
    ['warn', t.warn],
    ['soft', t.soft],
    ['hard', t.hard],
    ['critical', t.critical],
  ];
  let previous: [string, number] | undefined;
  for (const [name, value] of ordered) {
    if (value === undefined) continue;
    if (previous !== undefined && value < previous[1]) {
      problems.push({
        path: ['thresholds', name],
        message: `${name} (${value}) must be >= ${previous[0]} (${previous[1]}): warn <= soft <= hard <= critical`,
      });
    }
    previous = [name, value];
  }
  if (WINDOWED_KINDS.has(limit.kind) && limit.windowMs === undefined) {
    problems.push({ path: ['windowMs'], message: `windowMs is required for kind ${limit.kind}` });
  }
  if (!WINDOWED_KINDS.has(limit.kind) && limit.windowMs !== undefined) {
    problems.push({ path: ['windowMs'], message: `windowMs applies only to order_rate and duplicate_order` });
  }
  if (limit.missingReference !== undefined && limit.kind !== 'price_deviation') {
    problems.push({ path: ['missingReference'], message: 'missingReference applies only to price_deviation' });
  }
  if (SYMBOL_LEVEL_KINDS.has(limit.kind) && limit.per !== undefined && !SYMBOL_LEVEL_KEYS.has(limit.per)) {
    problems.push({
      path: ['per'],
      message: `${limit.kind} adds up per symbol: per must be symbol, account+symbol or strategy+symbol`,
    });
  }
  return problems;
}
