import { SEVERITIES } from './enums.js';
import type { Action, Severity } from './enums.js';
import type { CompiledLimit } from './compiled-limit.js';
import { breachBound } from './compiled-limit.js';
import { DEFAULT_PER, LimitDefinitionSchema } from './limit-definition.js';
import type { LimitDefinition } from './limit-definition.js';
import { EVALUATORS, evaluateNothing } from './limits/index.js';
import type { ViolationBook } from './violation-book.js';
import { windowStoreFor } from './window-store.js';

export type SeverityActions = Readonly<Record<Exclude<Severity, 'INFO'>, Action>>;

export class LimitBookError extends Error {
  constructor(
    message: string,
    /** Where the problem is: limit index or id, then the field path. */
    readonly path: readonly (string | number)[],
  ) {
    super(message);
    this.name = 'LimitBookError';
  }
}

/** What compiling any one limit depends on besides its definition. */
export interface LimitSettings {
  readonly severityActions: SeverityActions;
  /** Entries a rate or duplicate window holds; windowed thresholds must stay below it. */
  readonly maxWindowEntries: number;
  readonly violations: ViolationBook;
}

/**
 * Where a limit stands in the book, which errors lead with. Asked for on errors only: finding
 * it may walk the book, which a change of one limit must not do when it succeeds.
 */
export type Position = () => number;

/** The `id` a definition not yet checked claims, if it has one. */
export const idOf = (definition: unknown): unknown => (typeof definition === 'object' && definition !== null && 'id' in definition ? definition.id : undefined);

/** A definition checked against the schema. */
export function parseDefinition(definition: unknown, position: Position): LimitDefinition {
  const result = LimitDefinitionSchema.safeParse(definition);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const claimed = idOf(definition);
  const id = claimed === undefined ? `#${position()}` : typeof claimed === 'string' ? claimed : JSON.stringify(claimed);
  const field = issue.path.map(String).join('.');
  throw new LimitBookError(`limit ${id}: ${field === '' ? '' : field + ': '}${issue.message}`, [position(), ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))]);
}

/**
 * A parsed definition made ready for the hot path. `previous` is the limit it replaces, if
 * any: its windows carry over while they still count the same thing, and its active
 * violations (kept by id in the violation book) always do.
 */
export function compileLimit(
  definition: LimitDefinition,
  ordinal: number,
  position: Position,
  previous: CompiledLimit | undefined,
  settings: LimitSettings,
): CompiledLimit {
  const t = definition.thresholds;
  const highest = t.critical ?? t.hard;
  const isWindowed = definition.kind === 'order_rate' || definition.kind === 'duplicate_order';
  if (isWindowed && highest + 1 >= settings.maxWindowEntries) {
    throw new LimitBookError(
      `limit ${definition.id}: thresholds: ${highest} must stay below maxWindowEntries (${settings.maxWindowEntries}) - 1`,
      [position(), 'thresholds'],
    );
  }
  const per = definition.per ?? DEFAULT_PER[definition.kind];
  const keepsWindows =
    previous !== undefined && previous.kind === definition.kind && previous.per === per && previous.windowMs === definition.windowMs;
  const actions: Action[] = SEVERITIES.map((severity) =>
    severity === 'INFO' ? 'LOG' : (definition.actions?.[severity] ?? settings.severityActions[severity]),
  );
  return Object.freeze({
    ordinal,
    id: definition.id,
    kind: definition.kind,
    per,
    definition: deepFreeze(structuredClone(definition)),
    isEnabled: definition.enabled !== false,
    evaluate: definition.kind === 'value' ? evaluateNothing : EVALUATORS[definition.kind],
    accounts: toSet(definition.scope?.accounts),
    strategies: toSet(definition.scope?.strategies),
    symbols: toSet(definition.scope?.symbols),
    venues: toSet(definition.scope?.venues),
    warn: t.warn ?? Number.POSITIVE_INFINITY,
    soft: t.soft ?? Number.POSITIVE_INFINITY,
    hard: t.hard,
    critical: t.critical ?? Number.POSITIVE_INFINITY,
    warnBound: breachBound(t.warn ?? Number.POSITIVE_INFINITY),
    softBound: breachBound(t.soft ?? Number.POSITIVE_INFINITY),
    hardBound: breachBound(t.hard),
    criticalBound: breachBound(t.critical ?? Number.POSITIVE_INFINITY),
    cleanBound: breachBound(Math.min(t.warn ?? Number.POSITIVE_INFINITY, t.soft ?? Number.POSITIVE_INFINITY, t.hard, t.critical ?? Number.POSITIVE_INFINITY)),
    actions: Object.freeze(actions),
    allowsMissingReference: definition.missingReference === 'allow',
    windows: keepsWindows ? previous.windows : windowStoreFor(definition.kind, per, settings.maxWindowEntries, definition.windowMs ?? 0),
    active: settings.violations.activeFor(definition.id),
    // Last, for touchLimits: a number in the object's last 8 bytes.
    windowMs: definition.windowMs ?? 0,
  });
}

function toSet(list: readonly string[] | undefined): ReadonlySet<string> | undefined {
  return list === undefined ? undefined : new Set(list);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
