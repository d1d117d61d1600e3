import type { Side } from './enums.js';
import { ShardedMap } from './sharded-map.js';

/** Who a late fill belongs to after its open order closed (expired, cancelled, rejected). */
export interface ClosedOrder {
  readonly strategyId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly closedAt: number;
}

/** The closed order itself, with its key and links: one object per order remembered, not two. */
class Entry implements ClosedOrder {
  readonly strategyId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly closedAt: number;
  newer: Entry | undefined = undefined;

  constructor(
    readonly key: string,
    closed: ClosedOrder,
    public older: Entry | undefined,
  ) {
    this.strategyId = closed.strategyId;
    this.symbol = closed.symbol;
    this.side = closed.side;
    this.closedAt = closed.closedAt;
  }
}

/**
 * Recently closed orders by `account|order` key, oldest first, at most `capacity`. A list
 * threaded through the entries keeps the order, so the oldest is reached in O(1): a Map used
 * as a queue is not, as its iteration steps over the holes its deletes leave at the front
 * (with cancels remembered, the check path walked tens of thousands of them per order).
 */
export class ClosedOrders {
  /** Sharded: up to maxOpenOrders keys churning at the cancel rate (see ShardedMap). */
  private readonly byKey = new ShardedMap<string, Entry>();
  private oldest: Entry | undefined;
  private newest: Entry | undefined;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.byKey.size;
  }

  /** The entry itself (no copy: a late fill reads it once); keep the fields, not the entry, which links its neighbours. */
  get(key: string): ClosedOrder | undefined {
    return this.byKey.get(key);
  }

  /** When the oldest closed, or undefined when none is kept. */
  get oldestClosedAt(): number | undefined {
    return this.oldest?.closedAt;
  }

  /** Keeps `closed` as the newest; a key kept already moves to the newest end, and a full table drops its oldest. */
  remember(key: string, closed: ClosedOrder): void {
    const known = this.byKey.get(key);
    if (known !== undefined) this.drop(known);
    else if (this.byKey.size >= this.capacity && this.oldest !== undefined) this.drop(this.oldest);
    const entry = new Entry(key, closed, this.newest);
    if (this.newest === undefined) this.oldest = entry;
    else this.newest.newer = entry;
    this.newest = entry;
    this.byKey.set(key, entry);
  }

  forgetOldest(): void {
    if (this.oldest !== undefined) this.drop(this.oldest);
  }

  /** Oldest first: the order a snapshot keeps them in. Plain records, without the entries' links. */
  entries(): [string, ClosedOrder][] {
    const out: [string, ClosedOrder][] = [];
    for (let entry = this.oldest; entry !== undefined; entry = entry.newer) {
      const { strategyId, symbol, side, closedAt } = entry;
      out.push([entry.key, { strategyId, symbol, side, closedAt }]);
    }
    return out;
  }

  clear(): void {
    this.byKey.clear();
    this.oldest = undefined;
    this.newest = undefined;
  }

  private drop(entry: Entry): void {
    if (entry.older === undefined) this.oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) this.newest = entry.older;
    else entry.newer.older = entry.older;
    this.byKey.delete(entry.key);
  }
}
