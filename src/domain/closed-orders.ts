import type { Side } from './enums.js';
import { KEYS_PER_SHARD, ShardedMap } from './sharded-map.js';
import type { GrowingMap } from './sharded-map.js';

/** Who a late fill belongs to after its open order closed (expired, cancelled, rejected). */
export interface ClosedOrder {
  readonly strategyId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly closedAt: number;
}

/** The closed order itself, with its ids and links: one object per order remembered, not two. */
class Entry implements ClosedOrder {
  readonly strategyId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly closedAt: number;
  newer: Entry | undefined = undefined;

  constructor(
    readonly accountId: string,
    readonly orderId: string,
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
 * Recently closed orders by account and order id, oldest first, at most `capacity`. A list
 * threaded through the entries keeps the order, so the oldest is reached in O(1): a Map used
 * as a queue is not, as its iteration steps over the holes its deletes leave at the front
 * (with cancels remembered, the check path walked tens of thousands of them per order).
 *
 * Every check asks whether its order id closed lately (LimitEngine.checkAt), so the lookup takes
 * the ids as they come: the account's own map, found by the account id (whose hash the string
 * already holds from the ledger's lookup), then the order id. One map keyed by `account|order`
 * built and hashed a new string per check, and made the engine bench 13 % slower (bench:ab).
 */
export class ClosedOrders {
  /** Per account; each sharded once it outgrows a shard: up to maxOpenOrders keys churning at the cancel rate (see ShardedMap). */
  private readonly byAccount = new Map<string, GrowingMap<string, Entry>>();
  private count = 0;
  private oldest: Entry | undefined;
  private newest: Entry | undefined;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.count;
  }

  /** Accounts with an order remembered (for tests: an account's map goes with its last entry). */
  get accountCount(): number {
    return this.byAccount.size;
  }

  /** The entry itself (no copy: a late fill reads it once); keep the fields, not the entry, which links its neighbours. */
  get(accountId: string, orderId: string): ClosedOrder | undefined {
    return this.byAccount.get(accountId)?.get(orderId);
  }

  /** When the oldest closed, or undefined when none is kept. */
  get oldestClosedAt(): number | undefined {
    return this.oldest?.closedAt;
  }

  /** Keeps `closed` as the newest; an order kept already moves to the newest end, and a full table drops its oldest. */
  remember(accountId: string, orderId: string, closed: ClosedOrder): void {
    let orders = this.byAccount.get(accountId);
    const known = orders?.get(orderId);
    if (known !== undefined) this.drop(known);
    else if (this.count >= this.capacity && this.oldest !== undefined) this.drop(this.oldest);
    const entry = new Entry(accountId, orderId, closed, this.newest);
    if (this.newest === undefined) this.oldest = entry;
    else this.newest.newer = entry;
    this.newest = entry;
    // Looked up again: dropping may have emptied the account's map, which then went.
    orders = this.byAccount.get(accountId);
    if (orders === undefined) {
      orders = new Map<string, Entry>();
      this.byAccount.set(accountId, orders);
    }
    orders.set(orderId, entry);
    if (orders instanceof Map && orders.size > KEYS_PER_SHARD) this.byAccount.set(accountId, ShardedMap.grown(orders));
    this.count++;
  }

  forgetOldest(): void {
    if (this.oldest !== undefined) this.drop(this.oldest);
  }

  /** Oldest first, keyed `account|order` (the snapshot's form; ids hold no '|'). Plain records, without the entries' links. */
  entries(): [string, ClosedOrder][] {
    const out: [string, ClosedOrder][] = [];
    for (let entry = this.oldest; entry !== undefined; entry = entry.newer) {
      const { strategyId, symbol, side, closedAt } = entry;
      out.push([`${entry.accountId}|${entry.orderId}`, { strategyId, symbol, side, closedAt }]);
    }
    return out;
  }

  clear(): void {
    this.byAccount.clear();
    this.count = 0;
    this.oldest = undefined;
    this.newest = undefined;
  }

  private drop(entry: Entry): void {
    if (entry.older === undefined) this.oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) this.newest = entry.older;
    else entry.newer.older = entry.older;
    const orders = this.byAccount.get(entry.accountId)!;
    orders.delete(entry.orderId);
    if (orders.size === 0) this.byAccount.delete(entry.accountId);
    this.count--;
  }
}

/** A snapshot's `account|order` key as its two ids (neither holds '|'). */
export function closedOrderIds(key: string): { accountId: string; orderId: string } {
  const at = key.indexOf('|');
  if (at <= 0 || at === key.length - 1 || key.indexOf('|', at + 1) !== -1) throw new RangeError(`snapshot: closed order key ${JSON.stringify(key)} is not account|order`);
  return { accountId: key.slice(0, at), orderId: key.slice(at + 1) };
}
