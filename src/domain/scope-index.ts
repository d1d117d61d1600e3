import type { CompiledLimit } from './compiled-limit.js';
import type { Order } from './orders.js';

/**
 * The limits an order can meet, by the one scope dimension each is filed under (account, else
 * strategy, else symbol, else venue, else unscoped), so an order visits the limits that can
 * apply to it and never the rest of the book. Every list is in ordinal order, which is book
 * order, so an index changed one limit at a time lists exactly what one built from the whole
 * book would, in the same order: checks then resolve and count in the same order either way.
 */
export class ScopeIndex {
  private readonly unscoped: CompiledLimit[] = [];
  private readonly byAccount = new Map<string, CompiledLimit[]>();
  private readonly byStrategy = new Map<string, CompiledLimit[]>();
  private readonly bySymbol = new Map<string, CompiledLimit[]>();
  private readonly byVenue = new Map<string, CompiledLimit[]>();

  /** `limits` in book order: each goes to the end of its lists. */
  static of(limits: Iterable<CompiledLimit>): ScopeIndex {
    const index = new ScopeIndex();
    for (const limit of limits) index.add(limit);
    return index;
  }

  /** Costs the lengths of the lists the limit goes into (one per key of its filing dimension). */
  add(limit: CompiledLimit): void {
    if (!isIndexed(limit)) return;
    const filing = this.filingOf(limit);
    if (filing === undefined) return insertInOrder(this.unscoped, limit);
    const [index, keys] = filing;
    for (const key of keys) {
      const list = index.get(key);
      if (list === undefined) index.set(key, [limit]);
      else insertInOrder(list, limit);
    }
  }

  /** The exact instance `add` was given; a list left empty goes, as its key would be absent from a fresh index. */
  remove(limit: CompiledLimit): void {
    if (!isIndexed(limit)) return;
    const filing = this.filingOf(limit);
    if (filing === undefined) return removeFrom(this.unscoped, limit);
    const [index, keys] = filing;
    for (const key of keys) {
      const list = index.get(key);
      if (list === undefined) continue;
      removeFrom(list, limit);
      if (list.length === 0) index.delete(key);
    }
  }

  /** See LimitBook.collectApplicable. */
  collectApplicable(order: Order, out: CompiledLimit[]): number {
    let count = 0;
    for (const limit of this.unscoped) out[count++] = limit;
    // The four lookups first, side by side: their cache misses overlap (see touchLimits).
    const byAccount = this.byAccount.get(order.accountId);
    const byStrategy = this.byStrategy.get(order.strategyId);
    const bySymbol = this.bySymbol.get(order.symbol);
    const byVenue = order.venue === undefined ? undefined : this.byVenue.get(order.venue);
    count = pushMatching(byAccount, order, out, count, BY_ACCOUNT);
    count = pushMatching(byStrategy, order, out, count, BY_STRATEGY);
    count = pushMatching(bySymbol, order, out, count, BY_SYMBOL);
    return pushMatching(byVenue, order, out, count, BY_VENUE);
  }

  /** The dimension a limit is filed under and its keys there; undefined when it is unscoped. */
  private filingOf(limit: CompiledLimit): [Map<string, CompiledLimit[]>, ReadonlySet<string>] | undefined {
    if (limit.accounts !== undefined) return [this.byAccount, limit.accounts];
    if (limit.strategies !== undefined) return [this.byStrategy, limit.strategies];
    if (limit.symbols !== undefined) return [this.bySymbol, limit.symbols];
    if (limit.venues !== undefined) return [this.byVenue, limit.venues];
    return undefined;
  }
}

/** Disabled limits never apply; value limits are fed values, never orders. */
const isIndexed = (limit: CompiledLimit): boolean => limit.isEnabled && limit.kind !== 'value';

/** A new limit has the highest ordinal and is appended; a replaced one keeps its ordinal, and its place. */
function insertInOrder(list: CompiledLimit[], limit: CompiledLimit): void {
  const last = list.at(-1);
  if (last === undefined || last.ordinal < limit.ordinal) {
    list.push(limit);
    return;
  }
  list.splice(firstAfter(list, limit.ordinal), 0, limit);
}

function removeFrom(list: CompiledLimit[], limit: CompiledLimit): void {
  const at = list.indexOf(limit);
  if (at !== -1) list.splice(at, 1);
}

/** The index of the first limit with an ordinal above `ordinal` (lists are sorted by ordinal). */
function firstAfter(list: readonly CompiledLimit[], ordinal: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (list[middle]!.ordinal <= ordinal) low = middle + 1;
    else high = middle;
  }
  return low;
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
