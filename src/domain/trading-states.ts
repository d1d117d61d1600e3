import { AggregationSchema, TRADING_STATE_RANK } from './enums.js';
import type { Aggregation, TradingState } from './enums.js';
import { CapacityError } from './exposure-ledger.js';
import { localKey, scopeOfKey } from './keys.js';
import type { KeyParts } from './keys.js';
import { pageByKey } from './key-page.js';
import type { KeyPage, KeyPageQuery } from './key-page.js';

export interface TradingStateEntry {
  readonly scope: string;
  readonly state: TradingState;
  readonly reason: string;
  readonly setAt: number;
  /** `api` for an operator, `limit:<id>` for a HALT or REDUCE_ONLY action. */
  readonly source: string;
}

const scopeOf = (entry: TradingStateEntry): string => entry.scope;

/** Scopes an order is checked against: every aggregation, in the schema's order (broadest to narrowest). */
const ORDER_SCOPES: readonly Aggregation[] = AggregationSchema.options;

/**
 * Kill switches and reduce-only flags by scope key. Only non-ACTIVE states are stored, so
 * the common case (nothing set) costs one size test per order. They are also indexed by scope
 * type and local key, so with one account halted an order looks up its account id as it
 * is, instead of building six scope keys.
 */
export class TradingStates {
  private readonly entries = new Map<string, TradingStateEntry>();
  private readonly byType = new Map<string, Map<string, TradingStateEntry>>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The most restrictive state over the order's scopes, or undefined when all are ACTIVE. */
  stateFor(parts: KeyParts): TradingStateEntry | undefined {
    if (this.entries.size === 0) return undefined;
    let worst: TradingStateEntry | undefined;
    for (const per of ORDER_SCOPES) {
      const entry = this.byType.get(per)?.get(localKey(per, parts));
      if (entry !== undefined && (worst === undefined || TRADING_STATE_RANK[entry.state] > TRADING_STATE_RANK[worst.state])) {
        worst = entry;
      }
    }
    return worst;
  }

  get(scope: string): TradingStateEntry | undefined {
    return this.entries.get(scope);
  }

  list(): TradingStateEntry[] {
    return [...this.entries.values()];
  }

  /**
   * The entries in scope-key order, a page at a time: the next page is the keys after the
   * cursor (the previous page's last), so one set or lifted between pages is not skipped or
   * repeated. One pass over the table per page (at most maxTradingStates), no sort of it all.
   */
  page(query: KeyPageQuery): KeyPage<TradingStateEntry> {
    return pageByKey(this.entries.values(), scopeOf, query);
  }

  /**
   * Sets a state as an operator would: it may loosen as well as tighten. A new scope in a full
   * table is refused (CapacityError) and nothing changes: the operator asked for that scope,
   * not for the whole firm.
   */
  set(scope: string, state: TradingState, reason: string, setAt: number, source: string): TradingStateEntry {
    if (state !== 'ACTIVE' && this.isFullFor(scope)) {
      throw new CapacityError(`trading states: ${scope} would exceed maxTradingStates ${this.maxEntries}`);
    }
    return this.apply({ scope, state, reason, setAt, source });
  }

  /**
   * A limit's action only ever tightens: it never lifts a HALT to REDUCE_ONLY. With the table
   * full it fails closed: the state goes on the global scope instead (see escalate).
   */
  tighten(scope: string, state: TradingState, reason: string, setAt: number, source: string): TradingStateEntry | undefined {
    const current = this.entries.get(scope);
    if (current !== undefined && TRADING_STATE_RANK[current.state] >= TRADING_STATE_RANK[state]) return undefined;
    const entry: TradingStateEntry = { scope, state, reason, setAt, source };
    return this.isFullFor(scope) ? this.escalate(entry) : this.apply(entry);
  }

  clear(): void {
    this.entries.clear();
    this.byType.clear();
  }

  /** Puts back an entry exactly as it was recorded (recovery); ACTIVE removes the scope. */
  restore(entry: TradingStateEntry): void {
    if (entry.state === 'ACTIVE') this.remove(entry.scope);
    else this.put(entry);
  }

  private isFullFor(scope: string): boolean {
    return !this.entries.has(scope) && this.entries.size >= this.maxEntries;
  }

  private apply(entry: TradingStateEntry): TradingStateEntry {
    this.restore(entry);
    return entry;
  }

  private put(entry: TradingStateEntry): void {
    this.entries.set(entry.scope, entry);
    const { type, id = '' } = scopeOfKey(entry.scope);
    let ofType = this.byType.get(type);
    if (ofType === undefined) {
      ofType = new Map();
      this.byType.set(type, ofType);
    }
    ofType.set(id, entry);
  }

  private remove(scope: string): void {
    if (!this.entries.delete(scope)) return;
    const { type, id = '' } = scopeOfKey(scope);
    const ofType = this.byType.get(type);
    if (ofType?.delete(id) === true && ofType.size === 0) this.byType.delete(type);
  }

  /**
   * The table is full and a limit's action must restrict a new scope: failing open is not an
   * option, so the state goes on the global scope instead (loud, and an operator lifts it).
   */
  private escalate(entry: TradingStateEntry): TradingStateEntry {
    const current = this.entries.get('global');
    if (current !== undefined && TRADING_STATE_RANK[current.state] >= TRADING_STATE_RANK[entry.state]) return current;
    const global: TradingStateEntry = {
      ...entry,
      scope: 'global',
      reason: `trading-state table full (${this.maxEntries}); escalated from ${entry.scope}: ${entry.reason}`,
    };
    this.put(global);
    return global;
  }
}
