import type { Aggregation } from './enums.js';
import { localKey } from './keys.js';
import type { Order } from './orders.js';
import { PushOrder } from './push-order.js';
import { ShardedMap } from './sharded-map.js';
import type { GrowingMap } from './sharded-map.js';
import { SignatureWindows } from './signature-windows.js';
import { TimeRing } from './time-ring.js';

/**
 * One key's trailing window as the engine counts in it: a TimeRing (order_rate), or a view of a
 * duplicate_order signature's entry (SignatureWindows). The methods are TimeRing's.
 */
export interface WindowRing {
  /** Entries held, aged-out ones included until the next trim. */
  readonly size: number;
  /** The latest entry (NaN: none). */
  readonly newest: number;
  countAfter(cutoff: number): number;
  trim(cutoff: number): number;
  push(at: number): void;
  removeNewest(at: number): void;
  /** Oldest first, for snapshots. */
  toArray(): number[];
}

/**
 * The trailing windows of one order_rate or duplicate_order limit: a ring per key, made on
 * the key's first accepted order and dropped by the sweeper once empty. Keys are named by
 * strings only in snapshots; the hot path finds a ring from the order itself.
 */
export interface WindowStore {
  /** Keys held, empty ones included until the sweeper drops them (what maxWindowKeys bounds). */
  readonly size: number;
  /** The ring the order counts in; undefined while its key has none. */
  find(order: Order): WindowRing | undefined;
  /** Makes the ring of an order whose key has none. */
  create(order: Order): WindowRing;
  /**
   * Drops the order's key if `ring` is still its ring (an atomic batch taking back a key it made).
   * Pass a ring just found for the order: a store may reuse a dropped ring for a later key, even
   * the same one, so a ring kept from earlier could be taken for the key's ring now.
   */
  drop(order: Order, ring: WindowRing): void;
  /**
   * Drops keys with no entry after `cutoff`, oldest push first, at most `budget` of them;
   * returns how many went. It stops at the first key still counting (see PushOrder). Keys it
   * moved (stamped ahead of a clock stepped back) are counted into `moved`, when given.
   */
  sweep(cutoff: number, budget: number, moved?: { count: number }): number;
  /** [key, ring] in push order, oldest first, for snapshots: restoring them in it rebuilds that order. */
  entries(): Iterable<readonly [string, WindowRing]>;
  /** Puts back a key from a snapshot. */
  restore(key: string, times: readonly number[]): void;
  clear(): void;
}

export function windowStoreFor(kind: string, per: Aggregation, maxEntries: number, windowMs: number): WindowStore {
  return kind === 'duplicate_order' ? new SignatureWindows(per, maxEntries, windowMs) : new KeyedWindows(per, maxEntries, windowMs);
}

/**
 * A window map is read on every check, so it stays one plain Map up to this many keys (a
 * rebuild of ~2 ms): a store of one key per account of a 10,000-account firm pays no hashing.
 */
const WINDOW_KEYS_PER_SHARD = 32_768;

/**
 * Drops rings with no entry after `cutoff`, oldest push first, stopping at the first still
 * counting, having looked at `budget` rings at most. A ring stamped later than the sweep's own
 * time (`cutoff + windowMs`: the wall clock has stepped back since) would hold back every ring
 * made after it for as long as the step: it goes to the newest end and the walk goes on. Both
 * read only the rings' entries and the sweep's time, so a replay of the sweep does the same;
 * a ring kept is not trimmed (that would be a change the journal does not hold: see TimeRing.trim).
 * Exported for the ring-per-signature store that tests hold SignatureWindows to (test/support).
 */
export function sweepInPushOrder(pushOrder: PushOrder, cutoff: number, windowMs: number, budget: number, remove: (ring: TimeRing) => void, moved?: { count: number }): number {
  let dropped = 0;
  let firstMoved: TimeRing | undefined;
  for (let looked = 0, ring = pushOrder.oldest; ring !== undefined && looked < budget && ring !== firstMoved; looked++, ring = pushOrder.oldest) {
    if (ring.countAfter(cutoff) === 0) {
      remove(ring);
      dropped++;
      continue;
    }
    if (!(ring.newest > cutoff + windowMs)) break;
    pushOrder.touch(ring);
    if (moved !== undefined) moved.count++;
    firstMoved ??= ring;
  }
  return dropped;
}

/** An order_rate window and the key it counts. */
class KeyedRing extends TimeRing {
  constructor(
    maxEntries: number,
    readonly key: string,
  ) {
    super(maxEntries);
  }
}

/** order_rate: one window per aggregation key (an id, or `id|symbol`). */
export class KeyedWindows implements WindowStore {
  /** Up to maxWindowKeys keys, dropped by the sweeper and made again: see ShardedMap.grown. */
  private rings: GrowingMap<string, KeyedRing> = new Map();
  private readonly pushOrder: PushOrder;

  constructor(
    private readonly per: Aggregation,
    private readonly maxEntries: number,
    private readonly windowMs: number,
  ) {
    this.pushOrder = new PushOrder(windowMs / 2);
  }

  get size(): number {
    return this.rings.size;
  }

  find(order: Order): TimeRing | undefined {
    return this.rings.get(localKey(this.per, order));
  }

  create(order: Order): TimeRing {
    return this.add(localKey(this.per, order));
  }

  drop(order: Order, ring: WindowRing): void {
    const key = localKey(this.per, order);
    if (this.rings.get(key) === ring) this.remove(ring as KeyedRing);
  }

  sweep(cutoff: number, budget: number, moved?: { count: number }): number {
    return sweepInPushOrder(this.pushOrder, cutoff, this.windowMs, budget, (ring) => this.remove(ring as KeyedRing), moved);
  }

  *entries(): Iterable<readonly [string, TimeRing]> {
    for (const ring of this.pushOrder.oldestFirst()) yield [(ring as KeyedRing).key, ring];
  }

  restore(key: string, times: readonly number[]): void {
    const ring = this.add(key);
    for (const at of times) ring.push(at);
  }

  clear(): void {
    this.rings.clear();
    this.pushOrder.clear();
  }

  private add(key: string): KeyedRing {
    const ring = new KeyedRing(this.maxEntries, key);
    this.rings.set(key, ring);
    if (this.rings instanceof Map && this.rings.size > WINDOW_KEYS_PER_SHARD) this.rings = ShardedMap.grown(this.rings, WINDOW_KEYS_PER_SHARD);
    this.pushOrder.add(ring);
    return ring;
  }

  private remove(ring: KeyedRing): void {
    this.rings.delete(ring.key);
    this.pushOrder.remove(ring);
  }
}
