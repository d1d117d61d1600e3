import { z } from 'zod';
import type { Action, LimitKind } from '../domain/enums.js';
import { CURRENT_SCHEMA_VERSION } from './schema.js';

/**
 * schemaVersion 0 is the configuration of the Python-era limit checker: snake_case keys,
 * `severity_action_map` with the old action names, per-type defaults in `limit_type_configs`
 * and `scope_filter` dictionaries (callables there were never serialisable, so only id lists
 * and single ids arrive). It is read strictly and rewritten into the current shape: nothing
 * the file says is dropped on the way, since a dropped typo changes decisions (an unknown
 * severity or limit type, a key given twice, a window on a kind without one are all errors).
 * A limit's own `severity_action_map` overrides its type's severity by severity.
 */
const ACTIONS_V0: Readonly<Record<string, Action>> = {
  LOG_ONLY: 'LOG',
  LOG: 'LOG',
  ALERT: 'ALERT',
  WARN: 'ALERT',
  BLOCK_TRADE: 'BLOCK',
  BLOCK: 'BLOCK',
  REJECT: 'BLOCK',
  REDUCE_POSITION: 'REDUCE_ONLY',
  REDUCE_ONLY: 'REDUCE_ONLY',
  HALT_TRADING: 'HALT',
  HALT: 'HALT',
};

const KINDS_V0: Readonly<Record<string, LimitKind>> = {
  ORDER_SIZE: 'order_quantity',
  ORDER_QUANTITY: 'order_quantity',
  ORDER_VALUE: 'order_notional',
  ORDER_NOTIONAL: 'order_notional',
  PRICE_COLLAR: 'price_deviation',
  PRICE_DEVIATION: 'price_deviation',
  POSITION_SIZE: 'position',
  POSITION: 'position',
  NOTIONAL_EXPOSURE: 'gross_notional',
  GROSS_EXPOSURE: 'gross_notional',
  OPEN_ORDERS: 'open_orders',
  ORDER_RATE: 'order_rate',
  RATE_LIMIT: 'order_rate',
  DUPLICATE_ORDER: 'duplicate_order',
  DAILY_LOSS: 'daily_loss',
  DRAWDOWN: 'daily_loss',
  RESTRICTED_LIST: 'restricted',
  RESTRICTED: 'restricted',
  SELF_TRADE: 'self_trade',
  WASH_TRADE: 'self_trade',
  CUSTOM: 'value',
  VALUE: 'value',
  CONCENTRATION: 'value',
  LEVERAGE: 'value',
};

const upper = (s: string) => s.trim().toUpperCase();
const ActionV0 = z.string().transform((s, ctx) => {
  const action = ACTIONS_V0[upper(s)];
  if (action === undefined) ctx.addIssue({ code: 'custom', message: `unknown action ${s}; one of ${Object.keys(ACTIONS_V0).join(', ')}` });
  return action ?? 'BLOCK';
});
const KindV0 = z.string().transform((s, ctx) => {
  const kind = KINDS_V0[upper(s)];
  if (kind === undefined) ctx.addIssue({ code: 'custom', message: `unknown limit type ${s}; one of ${Object.keys(KINDS_V0).join(', ')}` });
  return kind ?? 'value';
});
const IdsV0 = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

/** The bands version 1 has. INFO is a severity of the old module too, but no band raises it: accepted, not carried over. */
const SEVERITY_NAMES = ['WARNING', 'SOFT_BREACH', 'HARD_BREACH', 'CRITICAL'] as const;
type SeverityName = (typeof SEVERITY_NAMES)[number];
type SeverityActions = Partial<Record<SeverityName, Action>>;
const SEVERITIES_V0: ReadonlySet<string> = new Set(['INFO', ...SEVERITY_NAMES]);

/**
 * `{ HARD_BREACH: HALT_TRADING, ... }` → `{ HARD_BREACH: 'HALT' }`. A name that is no severity
 * (`HARD_BRECH`) or one written twice (`HARD_BREACH` and `hard_breach`) is an error: dropping it
 * would quietly put the default action in place of the one intended.
 */
const SeverityMapV0 = z.record(z.string(), ActionV0).transform((map, ctx): SeverityActions => {
  const out: SeverityActions = {};
  const written = new Map<string, string>();
  for (const [severity, action] of Object.entries(map)) {
    const name = upper(severity);
    if (!SEVERITIES_V0.has(name)) {
      ctx.addIssue({ code: 'custom', path: [severity], message: `unknown severity ${severity}; one of ${[...SEVERITIES_V0].join(', ')}` });
      continue;
    }
    const first = written.get(name);
    if (first !== undefined) {
      ctx.addIssue({ code: 'custom', path: [severity], message: `severity ${name} is already given as ${first}` });
      continue;
    }
    written.set(name, severity);
    if (name !== 'INFO') out[name as SeverityName] = action;
  }
  return out;
});

const WINDOWED_KINDS_V0: ReadonlySet<LimitKind> = new Set(['order_rate', 'duplicate_order']);
const WINDOWLESS = 'window_seconds applies only to order_rate and duplicate_order (RATE_LIMIT, ORDER_RATE, DUPLICATE_ORDER)';

const TypeConfigV0 = z.strictObject({
  enabled: z.boolean().optional(),
  aggregation: z.string().optional(),
  window_seconds: z.number().positive().optional(),
  severity_action_map: SeverityMapV0.optional(),
});
type TypeConfig = z.infer<typeof TypeConfigV0>;

/**
 * Per-type defaults, keyed by the kind they apply to. A key that names no limit type
 * (`POSITON_SIZE`), two keys for one kind (`POSITION_SIZE` and `POSITION`) and a
 * `window_seconds` for a kind without a window are errors, as they would otherwise be ignored.
 */
const TypeConfigsV0 = z.record(z.string(), TypeConfigV0).transform((configs, ctx) => {
  const byKind = new Map<LimitKind, TypeConfig>();
  const written = new Map<LimitKind, string>();
  for (const [type, config] of Object.entries(configs)) {
    const kind = KINDS_V0[upper(type)];
    if (kind === undefined) {
      ctx.addIssue({ code: 'custom', path: [type], message: `unknown limit type ${type}; one of ${Object.keys(KINDS_V0).join(', ')}` });
      continue;
    }
    const first = written.get(kind);
    if (first !== undefined) {
      ctx.addIssue({ code: 'custom', path: [type], message: `limit type ${type} is ${kind}, already configured as ${first}` });
      continue;
    }
    if (config.window_seconds !== undefined && !WINDOWED_KINDS_V0.has(kind)) {
      ctx.addIssue({ code: 'custom', path: [type, 'window_seconds'], message: WINDOWLESS });
    }
    written.set(kind, type);
    byKind.set(kind, config);
  }
  return byKind;
});

const LimitV0 = z
  .strictObject({
    limit_id: z.string(),
    name: z.string().optional(),
    limit_type: KindV0,
    threshold_value: z.number(),
    warning_threshold: z.number().optional(),
    soft_threshold: z.number().optional(),
    critical_threshold: z.number().optional(),
    scope_filter: z
      .strictObject({ account_id: IdsV0.optional(), strategy_id: IdsV0.optional(), symbol: IdsV0.optional(), venue: IdsV0.optional() })
      .optional(),
    aggregation: z.string().optional(),
    window_seconds: z.number().positive().optional(),
    missing_reference: z.enum(['reject', 'allow']).optional(),
    severity_action_map: SeverityMapV0.optional(),
    enabled: z.boolean().optional(),
  })
  .check((ctx) => {
    if (ctx.value.window_seconds !== undefined && !WINDOWED_KINDS_V0.has(ctx.value.limit_type)) {
      ctx.issues.push({ code: 'custom', input: ctx.value.window_seconds, path: ['window_seconds'], message: WINDOWLESS });
    }
  });

export const ConfigV0Schema = z.strictObject({
  schema_version: z.literal(0).optional(),
  /** The version key as written by tools that already speak version 1 (`schemaVersion: 0`). */
  schemaVersion: z.literal(0).optional(),
  server: z
    .strictObject({
      host: z.string().optional(),
      port: z.number().optional(),
      body_limit_bytes: z.number().optional(),
      default_deadline_ms: z.number().optional(),
      max_batch_size: z.number().optional(),
      open_order_ttl_ms: z.number().optional(),
      max_reference_age_ms: z.number().optional(),
    })
    .optional(),
  auth: z
    .strictObject({
      enabled: z.boolean().optional(),
      tokens: z.array(z.strictObject({ name: z.string(), sha256: z.string(), roles: z.array(z.string()) })).optional(),
    })
    .optional(),
  severity_action_map: SeverityMapV0.optional(),
  limit_type_configs: TypeConfigsV0.optional(),
  violation_history: z.strictObject({ max_size: z.number().optional(), retention_hours: z.number().optional() }).optional(),
  limits: z.array(LimitV0).optional(),
});
type ConfigV0 = z.infer<typeof ConfigV0Schema>;

/** A limit's own map overrides its type's severity by severity; what neither gives falls to `severityActions`. */
function mergeActions(type: SeverityActions | undefined, own: SeverityActions | undefined): SeverityActions | undefined {
  if (type === undefined || own === undefined) return own ?? type;
  return { ...type, ...own };
}

const drop = <T extends Record<string, unknown>>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** Rewrites a parsed version-0 document into a version-1 document (validated afterwards as usual). */
export function migrateV0(v0: ConfigV0): Record<string, unknown> {
  const typeConfigs = v0.limit_type_configs ?? new Map<LimitKind, TypeConfig>();
  const limits = (v0.limits ?? []).map((limit) => {
    const defaults = typeConfigs.get(limit.limit_type);
    const windowSeconds = limit.window_seconds ?? defaults?.window_seconds;
    const scope = limit.scope_filter;
    return drop({
      id: limit.limit_id,
      name: limit.name,
      kind: limit.limit_type,
      scope:
        scope === undefined
          ? undefined
          : drop({ accounts: scope.account_id, strategies: scope.strategy_id, symbols: scope.symbol, venues: scope.venue }),
      per: limit.aggregation ?? defaults?.aggregation,
      thresholds: drop({
        warn: limit.warning_threshold,
        soft: limit.soft_threshold,
        hard: limit.threshold_value,
        critical: limit.critical_threshold,
      }),
      windowMs: windowSeconds !== undefined ? Math.round(windowSeconds * 1000) : undefined,
      missingReference: limit.missing_reference,
      actions: mergeActions(defaults?.severity_action_map, limit.severity_action_map),
      enabled: limit.enabled ?? defaults?.enabled,
    });
  });
  const server = v0.server ?? {};
  const history = v0.violation_history;
  return drop({
    schemaVersion: CURRENT_SCHEMA_VERSION,
    server: drop({
      host: server.host,
      port: server.port,
      bodyLimitBytes: server.body_limit_bytes,
      defaultDeadlineMs: server.default_deadline_ms,
      maxBatchSize: server.max_batch_size,
      openOrderTtlMs: server.open_order_ttl_ms,
      maxReferenceAgeMs: server.max_reference_age_ms,
    }),
    auth: v0.auth === undefined ? undefined : drop({ enabled: v0.auth.enabled, tokens: v0.auth.tokens }),
    severityActions: v0.severity_action_map,
    history:
      history === undefined
        ? undefined
        : drop({
            capacity: history.max_size,
            retentionMs: history.retention_hours === undefined ? undefined : Math.round(history.retention_hours * 3_600_000),
          }),
    limits,
  });
}
