import type { Side } from './enums.js';
import { KEYS_PER_SHARD, ShardedMap } from './sharded-map.js';
import type { GrowingMap } from './sharded-map.js';

/** Who a late fill belongs to after its open order closed (expired, cancelled, rejected, filled up). */
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

/** An account's closed orders: the one entry itself while it has one (most accounts), else a map by order id. */
type AccountEntries = Entry | GrowingMap<string, Entry>;

/**
 * Recently closed orders by account and order id, oldest first, at most `capacity`. A list
 * threaded through the entries keeps the order, so the oldest is reached in O(1): a Map used
 * as a queue is not, as its iteration steps over the holes its deletes leave at the front
 * (with cancels remembered, the check path walked tens of thousands of them per order).
 *
 * Every check asks whether its order id closed lately (LimitEngine.checkAt), so the lookup takes
 * the ids as they come: the account, whose id string holds its hash already from the ledger's
 * lookup, then the order id. One map keyed by a built `account|order` string made and hashed a
 * new string per check, and cost the engine bench 13 % (bench:ab). An account holding a single
 * closed order keeps the entry itself, not a map of one (about 190 bytes more an account, in a
 * book of many accounts each with an order or two).
 */
export class ClosedOrders {
  /**
   * Sharded: up to `capacity` accounts, coming and going at the close rate where each holds an
   * order or two, and a churning Map rebuilds its table in one step (see ShardedMap). Shards of
   * the ledger's size (65,536 accounts) took 16-20 ms steps at 500,000; these, 8-14 ms.
   */
  private readonly byAccount = new ShardedMap<string, AccountEntries>();
  private count = 0;
  private oldest: Entry | undefined;
  private newest: Entry | undefined;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.count;
  }

  /** Accounts with an order remembered (for tests: an account goes with its last entry). */
  get accountCount(): number {
    return this.byAccount.size;
  }

  /** Map shards holding an account's orders: 0 when it holds a single one (for tests: a large account's map is sharded). */
  shardsOf(accountId: string): number {
    const held = this.byAccount.get(accountId);
    return held === undefined || held instanceof Entry ? 0 : held instanceof Map ? 1 : held.shardCount;
  }

  /** The entry itself (no copy: a late fill reads it once); keep the fields, not the entry, which links its neighbours. */
  get(accountId: string, orderId: string): ClosedOrder | undefined {
    return this.entryOf(accountId, orderId);
  }

  /** When the oldest closed, or undefined when none is kept. */
  get oldestClosedAt(): number | undefined {
    return this.oldest?.closedAt;
  }

  /** Keeps `closed` as the newest; an order kept already moves to the newest end, and a full table drops its oldest. */
  remember(accountId: string, orderId: string, closed: ClosedOrder): void {
    const known = this.entryOf(accountId, orderId);
    if (known !== undefined) this.drop(known);
    else if (this.count >= this.capacity && this.oldest !== undefined) this.drop(this.oldest);
    const entry = new Entry(accountId, orderId, closed, this.newest);
    if (this.newest === undefined) this.oldest = entry;
    else this.newest.newer = entry;
    this.newest = entry;
    // Read after the drops, which may have taken the account's last entry.
    const held = this.byAccount.get(accountId);
    if (held === undefined) {
      this.byAccount.set(accountId, entry);
    } else if (held instanceof Entry) {
      this.byAccount.set(accountId, new Map([[held.orderId, held], [orderId, entry]]));
    } else {
      held.set(orderId, entry);
      if (held instanceof Map && held.size > KEYS_PER_SHARD) this.byAccount.set(accountId, ShardedMap.grown(held));
    }
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

  private entryOf(accountId: string, orderId: string): Entry | undefined {
    const held = this.byAccount.get(accountId);
    if (held === undefined || held instanceof Entry) return held?.orderId === orderId ? held : undefined;
    return held.get(orderId);
  }

  private drop(entry: Entry): void {
    if (entry.older === undefined) this.oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) this.newest = entry.older;
    else entry.newer.older = entry.older;
    const held = this.byAccount.get(entry.accountId)!;
    if (held instanceof Entry) {
      this.byAccount.delete(entry.accountId);
    } else {
      held.delete(entry.orderId);
      if (held.size === 0) this.byAccount.delete(entry.accountId);
    }
    this.count--;
  }
}

/** A snapshot's `account|order` key as its two ids (neither holds '|'). */
export function closedOrderIds(key: string): { accountId: string; orderId: string } {
  const at = key.indexOf('|');
  if (at <= 0 || at === key.length - 1 || key.indexOf('|', at + 1) !== -1) throw new RangeError(`snapshot: closed order key ${JSON.stringify(key)} is not account|order`);
  return { accountId: key.slice(0, at), orderId: key.slice(at + 1) };
}
