/** Which page of a table keyed by text: the keys after `cursor` (the previous page's last), `pageSize` of them. */
export interface KeyPageQuery {
  cursor?: string | undefined;
  pageSize: number;
}

/** Every key, one page: for tests and tools, never a request's answer (that is bounded by its pageSize). */
export const EVERY_KEY: KeyPageQuery = Object.freeze({ pageSize: Number.POSITIVE_INFINITY });

/** A page of a read; `nextCursor` only when more items follow it. */
export interface Page<T, C = number> {
  items: T[];
  nextCursor: C | undefined;
}

/** A page in key order; `nextCursor` is the page's last key. */
export type KeyPage<T> = Page<T, string>;

/**
 * The `pageSize` items with the smallest keys after `cursor` (all keys without one), in key
 * order (`<` on strings: UTF-16 code units), from one pass over `items`: a partial selection,
 * O(n) comparisons expected whatever order the keys come in, then O(pageSize log pageSize) to
 * order the page. Nothing sorts or copies all n items. A cursor need not be a key the table still
 * holds: the next page is the keys strictly after it, so entries added or removed between pages
 * are neither repeated nor skipped (an added key lands on its page if that page is still to
 * come). Keys are taken to be unique, as a map's are.
 *
 * Candidates gather in a buffer of 2 × pageSize; when it fills, a quickselect keeps the
 * pageSize smallest, and the largest kept bounds what may still come in: in random order most
 * keys then cost one comparison, and even keys in descending order (each smaller than all kept,
 * where a bounded heap pays log pageSize swaps a key) cost a few comparisons each.
 */
export function pageByKey<T>(items: Iterable<T>, keyOf: (item: T) => string, query: KeyPageQuery): KeyPage<T> {
  const { cursor, pageSize } = query;
  // The candidates are the first `size` slots; a cut leaves the rest to be written over.
  const keys: string[] = [];
  const kept: T[] = [];
  let size = 0;
  const buffer = 2 * pageSize;
  /** The largest key kept at the last cut: a larger one cannot be on the page. */
  let bound: string | undefined;
  let more = false;
  for (const item of items) {
    const key = keyOf(item);
    if (cursor !== undefined && key <= cursor) continue;
    if (bound !== undefined && key > bound) {
      more = true;
      continue;
    }
    keys[size] = key;
    kept[size] = item;
    if (++size === buffer) {
      select(keys, kept, size, pageSize - 1);
      size = pageSize;
      bound = keys[pageSize - 1];
      more = true;
    }
  }
  if (size > pageSize) {
    select(keys, kept, size, pageSize - 1);
    size = pageSize;
    more = true;
  }
  const order = Array.from({ length: size }, (_, at) => at).sort((a, b) => (keys[a]! < keys[b]! ? -1 : 1));
  return { items: order.map((at) => kept[at]!), nextCursor: more ? keys[order[size - 1]!] : undefined };
}

/**
 * Quickselect over the first `size` slots: moves the keys (and their items) so that `nth` holds
 * the key a sort would put there, smaller keys before it and larger after. The pivot is the
 * median of the first, middle and last, so keys already in order, either way, cost O(n).
 */
function select<T>(keys: string[], kept: T[], size: number, nth: number): void {
  const swap = (a: number, b: number): void => {
    const key = keys[a]!;
    keys[a] = keys[b]!;
    keys[b] = key;
    const item = kept[a]!;
    kept[a] = kept[b]!;
    kept[b] = item;
  };
  let lo = 0;
  let hi = size - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    if (keys[mid]! < keys[lo]!) swap(mid, lo);
    if (keys[hi]! < keys[lo]!) swap(hi, lo);
    // keys[lo] is now the least of the three; the median is the lesser of the other two.
    if (keys[mid]! < keys[hi]!) swap(mid, hi);
    const pivot = keys[hi]!;
    let store = lo;
    for (let at = lo; at < hi; at++) if (keys[at]! < pivot) swap(at, store++);
    swap(store, hi);
    if (store === nth) return;
    if (store < nth) lo = store + 1;
    else hi = store - 1;
  }
}
