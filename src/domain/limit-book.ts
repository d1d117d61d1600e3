import { SEVERITIES } from './enums.js';
import type { Action, Severity } from './enums.js';
import type { CompiledLimit } from './compiled-limit.js';
import { breachBound } from './compiled-limit.js';
import { DEFAULT_PER, LimitDefinitionSchema } from './limit-definition.js';
import type { LimitDefinition } from './limit-definition.js';
import { EVALUATORS } from './limits/index.js';
import type { Order } from './orders.js';
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

export interface CompileOptions {
  readonly version: number;
  readonly severityActions: SeverityActions;
  /** Entries a rate or duplicate window holds; windowed thresholds must stay below it. */
  readonly maxWindowEntries: number;
  readonly violations: ViolationBook;
  /** The book being replaced: unchanged windowed limits keep their windows. */
  readonly previous?: LimitBook | undefined;
}

/**
 * An immutable, compiled snapshot of the limits. Each limit is indexed under one scope
 * dimension (account, else strategy, else symbol, else venue, else unscoped), so an order
 * visits the limits that can apply to it and never the rest of the book.
 */
export class LimitBook {
  readonly byId: ReadonlyMap<string, CompiledLimit>;
  private readonly unscoped: readonly CompiledLimit[];
  private readonly byAccount: ReadonlyMap<string, readonly CompiledLimit[]>;
  private readonly byStrategy: ReadonlyMap<string, readonly CompiledLimit[]>;
  private readonly bySymbol: ReadonlyMap<string, readonly CompiledLimit[]>;
  private readonly byVenue: ReadonlyMap<string, readonly CompiledLimit[]>;

  private constructor(
    readonly version: number,
    readonly limits: readonly CompiledLimit[],
  ) {
    this.byId = new Map(limits.map((l) => [l.id, l]));
    const unscoped: CompiledLimit[] = [];
    const byAccount = new Map<string, CompiledLimit[]>();
    const byStrategy = new Map<string, CompiledLimit[]>();
    const bySymbol = new Map<string, CompiledLimit[]>();
    const byVenue = new Map<string, CompiledLimit[]>();
    for (const limit of limits) {
      if (!limit.isEnabled || limit.kind === 'value') continue;
      if (limit.accounts !== undefined) addTo(byAccount, limit.accounts, limit);
      else if (limit.strategies !== undefined) addTo(byStrategy, limit.strategies, limit);
      else if (limit.symbols !== undefined) addTo(bySymbol, limit.symbols, limit);
      else if (limit.venues !== undefined) addTo(byVenue, limit.venues, limit);
      else unscoped.push(limit);
    }
    this.unscoped = unscoped;
    this.byAccount = byAccount;
    this.byStrategy = byStrategy;
    this.bySymbol = bySymbol;
    this.byVenue = byVenue;
  }

  static compile(definitions: readonly unknown[], options: CompileOptions): LimitBook {
    const parsed = definitions.map((definition, index) => parseDefinition(definition, index));
    const seen = new Set<string>();
    parsed.forEach((definition, index) => {
      if (seen.has(definition.id)) throw new LimitBookError(`limits[${index}].id: duplicate limit id ${definition.id}`, [index, 'id']);
      seen.add(definition.id);
    });
    const compiled = parsed.map((definition, ordinal) => compileLimit(definition, ordinal, options));
    return new LimitBook(options.version, compiled);
  }

  get definitions(): LimitDefinition[] {
    return this.limits.map((l) => l.definition);
  }

  /**
   * Writes the limits that apply to an order to the front of `out` and returns how many; what
   * lies past them is left over from earlier orders. `out` is reused and never truncated:
   * `length = 0` drops an array's backing store, and refilling it was half of what a check
   * allocated.
   */
  collectApplicable(order: Order, out: CompiledLimit[]): number {
    let count = 0;
    for (const limit of this.unscoped) out[count++] = limit;
    count = pushMatching(this.byAccount.get(order.accountId), order, out, count, BY_ACCOUNT);
    count = pushMatching(this.byStrategy.get(order.strategyId), order, out, count, BY_STRATEGY);
    count = pushMatching(this.bySymbol.get(order.symbol), order, out, count, BY_SYMBOL);
    if (order.venue !== undefined) count = pushMatching(this.byVenue.get(order.venue), order, out, count, BY_VENUE);
    return count;
  }
}

function addTo(index: Map<string, CompiledLimit[]>, keys: ReadonlySet<string>, limit: CompiledLimit): void {
  for (const key of keys) {
    const list = index.get(key);
    if (list === undefined) index.set(key, [limit]);
    else list.push(limit);
  }
}

/** Which scope dimension an index list was found by: that one matches already. */
const BY_ACCOUNT = 0;
const BY_STRATEGY = 1;
const BY_SYMBOL = 2;
const BY_VENUE = 3;

function pushMatching(candidates: readonly CompiledLimit[] | undefined, order: Order, out: CompiledLimit[], count: number, indexedBy: number): number {
  if (candidates === undefined) return count;
  for (const limit of candidates) {
    if (indexedBy !== BY_ACCOUNT && limit.accounts !== undefined && !limit.accounts.has(order.accountId)) continue;
    if (indexedBy !== BY_STRATEGY && limit.strategies !== undefined && !limit.strategies.has(order.strategyId)) continue;
    if (indexedBy !== BY_SYMBOL && limit.symbols !== undefined && !limit.symbols.has(order.symbol)) continue;
    if (indexedBy !== BY_VENUE && limit.venues !== undefined && (order.venue === undefined || !limit.venues.has(order.venue))) continue;
    out[count++] = limit;
  }
  return count;
}

function parseDefinition(definition: unknown, index: number): LimitDefinition {
  const result = LimitDefinitionSchema.safeParse(definition);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const id = typeof definition === 'object' && definition !== null && 'id' in definition ? String(definition.id) : `#${index}`;
  const field = issue.path.map(String).join('.');
  throw new LimitBookError(`limit ${id}: ${field === '' ? '' : field + ': '}${issue.message}`, [index, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))]);
}

function compileLimit(definition: LimitDefinition, ordinal: number, options: CompileOptions): CompiledLimit {
  const t = definition.thresholds;
  const highest = t.critical ?? t.hard;
  const isWindowed = definition.kind === 'order_rate' || definition.kind === 'duplicate_order';
  if (isWindowed && highest + 1 >= options.maxWindowEntries) {
    throw new LimitBookError(
      `limit ${definition.id}: thresholds: ${highest} must stay below maxWindowEntries (${options.maxWindowEntries}) - 1`,
      [ordinal, 'thresholds'],
    );
  }
  const per = definition.per ?? DEFAULT_PER[definition.kind];
  const previous = options.previous?.byId.get(definition.id);
  const keepsWindows =
    previous !== undefined && previous.kind === definition.kind && previous.per === per && previous.windowMs === definition.windowMs;
  const actions: Action[] = SEVERITIES.map((severity) =>
    severity === 'INFO' ? 'LOG' : (definition.actions?.[severity] ?? options.severityActions[severity]),
  );
  return Object.freeze({
    ordinal,
    id: definition.id,
    kind: definition.kind,
    per,
    definition: deepFreeze(structuredClone(definition)),
    isEnabled: definition.enabled !== false,
    evaluate: definition.kind === 'value' ? () => Number.NaN : EVALUATORS[definition.kind],
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
    actions: Object.freeze(actions),
    windowMs: definition.windowMs ?? 0,
    allowsMissingReference: definition.missingReference === 'allow',
    windows: keepsWindows ? previous.windows : windowStoreFor(definition.kind, per, options.maxWindowEntries, definition.windowMs ?? 0),
    active: options.violations.activeFor(definition.id),
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
