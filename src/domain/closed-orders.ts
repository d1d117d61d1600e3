import type { Side } from './enums.js';
import type { Renewable } from './spare-pool.js';

/** Who a late fill belongs to after its open order closed (expired, cancelled, rejected, filled up), as snapshots keep it. */
export interface ClosedOrderFields {
  readonly strategyId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly closedAt: number;
}

/**
 * A closed order, remembered for the late-fill window: in its account's orders by id, where
 * the open order was (so a check finds an id still held, and a late fill its owner, with the one
 * lookup it makes anyway), and in ClosedOrders' list, oldest first, to be forgotten in time.
 */
export class ClosedOrder implements ClosedOrderFields {
  newer: ClosedOrder | undefined = undefined;
  older: ClosedOrder | undefined = undefined;

  constructor(
    readonly accountId: string,
    readonly orderId: string,
    readonly strategyId: string,
    readonly symbol: string,
    readonly side: Side,
    readonly closedAt: number,
  ) {}

  /** A spare (see SparePool) made again for another closed order; a spare is in no list. */
  renew(accountId: string, orderId: string, strategyId: string, symbol: string, side: Side, closedAt: number): this {
    const self = this as Renewable<ClosedOrder>;
    self.accountId = accountId;
    self.orderId = orderId;
    self.strategyId = strategyId;
    self.symbol = symbol;
    self.side = side;
    self.closedAt = closedAt;
    return this;
  }

  /** Forgotten: keeps no text of its order, so that a spare keeps none alive. */
  detach(): void {
    const self = this as Renewable<ClosedOrder>;
    self.accountId = self.orderId = self.strategyId = self.symbol = '';
  }
}

/**
 * Recently closed orders, oldest first, at most `capacity`: a list threaded through the entries,
 * so the oldest is reached in O(1) (a Map used as a queue is not, as its iteration steps over the
 * holes its deletes leave at the front). Who finds an entry by its ids is the ledger (the
 * account's orders by id); this list says which to forget, and tells `onForget` so the ledger
 * lets go of it too. An id taken again after its window, before its entry was forgotten (forgetting
 * is budgeted), takes the entry out (`remove`), so an id is listed once.
 */
export class ClosedOrders {
  private count = 0;
  private oldest: ClosedOrder | undefined;
  private newest: ClosedOrder | undefined;

  constructor(
    private readonly capacity: number,
    private readonly onForget: (entry: ClosedOrder) => void,
  ) {}

  get size(): number {
    return this.count;
  }

  /** When the oldest closed, or undefined when none is kept. */
  get oldestClosedAt(): number | undefined {
    return this.oldest?.closedAt;
  }

  /** Lists `entry` as the newest; a full list forgets its oldest first. */
  add(entry: ClosedOrder): void {
    if (this.count >= this.capacity && this.oldest !== undefined) this.forget(this.oldest);
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest === undefined) this.oldest = entry;
    else this.newest.newer = entry;
    this.newest = entry;
    this.count++;
  }

  forgetOldest(): void {
    if (this.oldest !== undefined) this.forget(this.oldest);
  }

  /** Oldest first, keyed `account|order` (the snapshot's form; ids hold no '|'). Plain records, without the links. */
  entries(): [string, ClosedOrderFields][] {
    const out: [string, ClosedOrderFields][] = [];
    for (let entry = this.oldest; entry !== undefined; entry = entry.newer) {
      const { strategyId, symbol, side, closedAt } = entry;
      out.push([`${entry.accountId}|${entry.orderId}`, { strategyId, symbol, side, closedAt }]);
    }
    return out;
  }

  /** Drops every entry without telling onForget (a restore replaces the ledger's state whole). */
  clear(): void {
    this.count = 0;
    this.oldest = undefined;
    this.newest = undefined;
  }

  private forget(entry: ClosedOrder): void {
    this.remove(entry);
    this.onForget(entry);
  }

  /** Takes a listed entry out without telling onForget: the caller has put an order that took its id (after its window) in its place. */
  remove(entry: ClosedOrder): void {
    if (entry.older === undefined) this.oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) this.newest = entry.older;
    else entry.newer.older = entry.older;
    entry.older = undefined;
    entry.newer = undefined;
    this.count--;
  }
}

/** A snapshot's `account|order` key as its two ids (neither holds '|'). */
export function closedOrderIds(key: string): { accountId: string; orderId: string } {
  const at = key.indexOf('|');
  if (at <= 0 || at === key.length - 1 || key.indexOf('|', at + 1) !== -1) throw new RangeError(`snapshot: closed order key ${JSON.stringify(key)} is not account|order`);
  return { accountId: key.slice(0, at), orderId: key.slice(at + 1) };
}
