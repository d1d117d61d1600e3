/** Which page of a table keyed by text: the keys after `cursor` (the previous page's last), `pageSize` of them. */
export interface KeyPageQuery {
  cursor?: string | undefined;
  pageSize: number;
}

/** Every key, one page: for tests and tools, never a request's answer (that is bounded by its pageSize). */
export const EVERY_KEY: KeyPageQuery = Object.freeze({ pageSize: Number.POSITIVE_INFINITY });

/** A page in key order; `nextCursor` (the page's last key) only when more keys follow it. */
export interface KeyPage<T> {
  items: T[];
  nextCursor: string | undefined;
}

/**
 * The `pageSize` items with the smallest keys after `cursor` (all keys without one), in key
 * order (`<` on strings: UTF-16 code units), from one pass over `items` with a max-heap of at
 * most `pageSize`: O(n log pageSize) comparisons, then O(pageSize log pageSize) to order the
 * page. Nothing sorts or copies all n items. A cursor need not be a key the table still holds:
 * the next page is the keys strictly after it, so entries added or removed between pages are
 * neither repeated nor skipped (an added key lands on its page if that page is still to come).
 * Keys are taken to be unique, as a map's are.
 */
export function pageByKey<T>(items: Iterable<T>, keyOf: (item: T) => string, query: KeyPageQuery): KeyPage<T> {
  const { cursor, pageSize } = query;
  // A max-heap on the keys: keys[0] is the largest kept, the first to go for a smaller one.
  const keys: string[] = [];
  const kept: T[] = [];
  let more = false;
  for (const item of items) {
    const key = keyOf(item);
    if (cursor !== undefined && key <= cursor) continue;
    if (keys.length < pageSize) {
      siftUp(keys, kept, key, item);
      continue;
    }
    more = true;
    if (key < keys[0]!) siftDown(keys, kept, 0, key, item, keys.length);
  }
  // Heap sort in place: the largest kept goes last, and so on down.
  for (let end = keys.length - 1; end > 0; end--) {
    const key = keys[end]!;
    const item = kept[end]!;
    keys[end] = keys[0]!;
    kept[end] = kept[0]!;
    siftDown(keys, kept, 0, key, item, end);
  }
  return { items: kept, nextCursor: more ? keys[keys.length - 1] : undefined };
}

/** Adds (key, item) at the end of the heap and moves it up past every smaller parent. */
function siftUp<T>(keys: string[], kept: T[], key: string, item: T): void {
  let at = keys.length;
  while (at > 0) {
    const parent = (at - 1) >> 1;
    if (keys[parent]! >= key) break;
    keys[at] = keys[parent]!;
    kept[at] = kept[parent]!;
    at = parent;
  }
  keys[at] = key;
  kept[at] = item;
}

/** Puts (key, item) at `at` in the heap of the first `size` slots, moving it down past every larger child. */
function siftDown<T>(keys: string[], kept: T[], at: number, key: string, item: T, size: number): void {
  for (;;) {
    let child = 2 * at + 1;
    if (child >= size) break;
    if (child + 1 < size && keys[child + 1]! > keys[child]!) child++;
    if (keys[child]! <= key) break;
    keys[at] = keys[child]!;
    kept[at] = kept[child]!;
    at = child;
  }
  keys[at] = key;
  kept[at] = item;
}
