/** An item that a LinkedQueue threads through its own two links (no allocation per move). */
export interface Linked<T> {
  older: T | undefined;
  newer: T | undefined;
}

/**
 * A queue threaded through its items, oldest first: append at the newest end, take out anywhere,
 * in O(1). An open order is in several lists at once, so the lists it is in (PushOrder, the
 * ledger's ActivityQueue) keep their own links, named for each list.
 */
export class LinkedQueue<T extends Linked<T>> {
  oldest: T | undefined;
  newest: T | undefined;

  /** Whether `item` is in this queue (an item is in one queue at most). */
  has(item: T): boolean {
    return item.older !== undefined || this.oldest === item;
  }

  append(item: T): void {
    item.older = this.newest;
    item.newer = undefined;
    if (this.newest === undefined) this.oldest = item;
    else this.newest.newer = item;
    this.newest = item;
  }

  /** Takes out an item that is in the queue. */
  unlink(item: T): void {
    const { older, newer } = item;
    if (older === undefined) this.oldest = newer;
    else older.newer = newer;
    if (newer === undefined) this.newest = older;
    else newer.older = older;
    item.older = undefined;
    item.newer = undefined;
  }

  /** Forgets every item; their links are left for the garbage collector with them. */
  clear(): void {
    this.oldest = undefined;
    this.newest = undefined;
  }
}
