import type { Aggregation, Side } from './enums.js';
import { IntKeyTable } from './int-key-table.js';
import { localKey } from './keys.js';
import type { Order } from './orders.js';
import { PushOrder } from './push-order.js';
import { ShardedMap } from './sharded-map.js';
import type { GrowingMap } from './sharded-map.js';
import { FNV_PRIME, HASH_SEED, fnvOffset, fnvText } from './string-hash.js';
import { TimeRing } from './time-ring.js';

/**
 * The trailing windows of one order_rate or duplicate_order limit: a TimeRing per key, made on
 * the key's first accepted order and dropped by the sweeper once empty. Keys are named by
 * strings only in snapshots; the hot path finds a ring from the order itself.
 */
export interface WindowStore {
  /** Keys held, empty ones included until the sweeper drops them (what maxWindowKeys bounds). */
  readonly size: number;
  /** The ring the order counts in; undefined while its key has none. */
  find(order: Order): TimeRing | undefined;
  /** Makes the ring of an order whose key has none. */
  create(order: Order): TimeRing;
  /**
   * Drops the order's key if `ring` is still its ring (an atomic batch taking back a key it made).
   * Pass a ring just found for the order: a store may reuse a dropped ring for a later key, even
   * the same one, so a ring kept from earlier could be taken for the key's ring now.
   */
  drop(order: Order, ring: TimeRing): void;
  /**
   * Drops keys with no entry after `cutoff`, oldest push first, at most `budget` of them;
   * returns how many went. It stops at the first key still counting (see PushOrder). Keys it
   * moved (stamped ahead of a clock stepped back) are counted into `moved`, when given.
   */
  sweep(cutoff: number, budget: number, moved?: { count: number }): number;
  /** [key, ring] in push order, oldest first, for snapshots: restoring them in it rebuilds that order. */
  entries(): Iterable<readonly [string, TimeRing]>;
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
 */
function sweepInPushOrder(pushOrder: PushOrder, cutoff: number, windowMs: number, budget: number, remove: (ring: TimeRing) => void, moved?: { count: number }): number {
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

  drop(order: Order, ring: TimeRing): void {
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

/**
 * A duplicate_order window: the key and the signature it counts. Its store reuses it for
 * another signature once swept (see SignatureWindows.spare), so the fields are set by `assign`.
 */
class SignatureRing extends TimeRing {
  /** The next ring whose signature hashes the same. */
  next: SignatureRing | undefined = undefined;
  hash = 0;
  key = '';
  symbol = '';
  side: Side = 'BUY';
  quantity = 0;
  /** NaN for an order without a price: a number always, so a reused ring's writes allocate nothing. */
  price = Number.NaN;

  assign(hash: number, key: string, symbol: string, side: Side, quantity: number, price: number | undefined): this {
    this.hash = hash;
    this.key = key;
    this.symbol = symbol;
    this.side = side;
    this.quantity = quantity;
    this.price = price ?? Number.NaN;
    return this;
  }

  /** As made afresh, holding no text of the signature it counted (a spare would keep it alive). */
  override reset(): void {
    super.reset();
    this.next = undefined;
    this.key = this.symbol = '';
  }

  matches(key: string, order: Order): boolean {
    const price = order.price;
    const isPriceAlike = price === undefined ? this.price !== this.price : this.price === price;
    return this.key === key && this.symbol === order.symbol && this.side === order.side && this.quantity === order.quantity && isPriceAlike;
  }

  get name(): string {
    return `${this.key}|${this.symbol}|${this.side}|${this.quantity}|${this.price === this.price ? this.price : 'MKT'}`;
  }
}

/**
 * duplicate_order: one window per (key, symbol, side, quantity, price). Nearly every order
 * brings a new signature, so a string key per order (built, flattened and hashed, then kept for
 * the window's length) was the costliest part of a check; a numeric hash of the fields finds
 * the ring instead, with the fields compared to settle collisions.
 */
export class SignatureWindows implements WindowStore {
  /**
   * By signature hash, split on its bits into SIGNATURE_SHARDS tables made when first needed:
   * nearly a key per order in the window, the map that churns most. A table of 100k keys is
   * rebuilt in one step when it doubles (a plain Map's took 10-30 ms, see ShardedMap), so it is
   * split. The hash is one already, so picking a shard costs a multiply, where a ShardedMap's
   * general lookup cost a check 3 % in bench:ab. IntKeyTable, not Map: under this churn a Map
   * made a new table every few hundred inserts.
   */
  private readonly shards: (IntKeyTable<SignatureRing> | undefined)[] = new Array<IntKeyTable<SignatureRing> | undefined>(SIGNATURE_SHARDS).fill(undefined);
  private readonly pushOrder: PushOrder;
  private count = 0;
  /**
   * Swept rings, reset, for the next signatures: nearly every accepted order makes a ring that
   * lives a window, and a new object each time was a quarter of what a check allocated, all of
   * it promoted before it died. A sweep drops a window's worth of rings at once, which a steady
   * flow makes again over the next window; a dropped ring is kept only while the spares are
   * fewer than the rings left in use, so they are at most half the most rings the store has
   * held, which maxWindowKeys bounds.
   */
  private readonly spare: SignatureRing[] = [];

  constructor(
    private readonly per: Aggregation,
    private readonly maxEntries: number,
    private readonly windowMs: number,
    /** What the signatures' hash starts from: the thread's seed, or a fixed one for tests that need known collisions. */
    private readonly seed: number = HASH_SEED,
  ) {
    this.pushOrder = new PushOrder(windowMs / 2);
  }

  get size(): number {
    return this.count;
  }

  /** Rings kept for reuse (for tests: see `spare`). */
  get spareCount(): number {
    return this.spare.length;
  }

  /** Distinct hashes held (for tests: signatures that hash alike share one). */
  get hashCount(): number {
    let count = 0;
    for (const shard of this.shards) count += shard?.size ?? 0;
    return count;
  }

  /** Keys in its largest shard: what one V8 table rebuild costs at most (for tests). */
  get largestShard(): number {
    return Math.max(0, ...this.shards.map((shard) => shard?.size ?? 0));
  }

  find(order: Order): TimeRing | undefined {
    const key = localKey(this.per, order);
    const hash = signatureHash(key, order.symbol, order.side, order.quantity, order.price, this.seed);
    let ring = this.shards[shardOf(hash)]?.get(hash);
    while (ring !== undefined && !ring.matches(key, order)) ring = ring.next;
    return ring;
  }

  create(order: Order): TimeRing {
    return this.add(localKey(this.per, order), order.symbol, order.side, order.quantity, order.price);
  }

  drop(order: Order, ring: TimeRing): void {
    if (this.find(order) === ring) this.remove(ring as SignatureRing);
  }

  sweep(cutoff: number, budget: number, moved?: { count: number }): number {
    return sweepInPushOrder(this.pushOrder, cutoff, this.windowMs, budget, (ring) => this.remove(ring as SignatureRing), moved);
  }

  *entries(): Iterable<readonly [string, TimeRing]> {
    for (const ring of this.pushOrder.oldestFirst()) yield [(ring as SignatureRing).name, ring];
  }

  /** Reads a key as `name` wrote it: `<key>|<symbol>|<side>|<quantity>|<price or MKT>`, the key itself may hold `|`. */
  restore(name: string, times: readonly number[]): void {
    const parts = name.split('|');
    const [symbol, side, quantity, price] = parts.slice(-4);
    const key = parts.slice(0, -4).join('|');
    if (parts.length < 5 || (side !== 'BUY' && side !== 'SELL') || !isNumeral(quantity!) || (price !== 'MKT' && !isNumeral(price!))) {
      throw new RangeError(`snapshot: duplicate_order window key ${JSON.stringify(name)} is malformed`);
    }
    const ring = this.add(key, symbol!, side, Number(quantity), price === 'MKT' ? undefined : Number(price));
    for (const at of times) ring.push(at);
  }

  clear(): void {
    this.shards.fill(undefined);
    this.pushOrder.clear();
    this.count = 0;
    this.spare.length = 0;
  }

  private add(key: string, symbol: string, side: Side, quantity: number, price: number | undefined): SignatureRing {
    const hash = signatureHash(key, symbol, side, quantity, price, this.seed);
    const ring = (this.spare.pop() ?? new SignatureRing(this.maxEntries)).assign(hash, key, symbol, side, quantity, price);
    const shard = (this.shards[shardOf(hash)] ??= new IntKeyTable<SignatureRing>());
    const head = shard.get(hash);
    if (head === undefined) {
      shard.set(hash, ring);
    } else {
      let tail = head;
      while (tail.next !== undefined) tail = tail.next;
      tail.next = ring;
    }
    this.pushOrder.add(ring);
    this.count++;
    return ring;
  }

  private remove(ring: SignatureRing): void {
    const shard = this.shards[shardOf(ring.hash)];
    const head = shard?.get(ring.hash);
    if (head === ring) {
      if (ring.next === undefined) shard!.delete(ring.hash);
      else shard!.set(ring.hash, ring.next);
    } else {
      let before = head;
      while (before !== undefined && before.next !== ring) before = before.next;
      if (before === undefined) return;
      before.next = ring.next;
    }
    this.pushOrder.remove(ring);
    this.count--;
    // Nothing holds a ring past the call that found it (a check reserves in the same call; a
    // batch's take-back finds its rings again), so a removed one is free to reuse: reset (its
    // chain link too) when kept, else garbage.
    if (this.spare.length < this.count) {
      ring.reset();
      this.spare.push(ring);
    }
  }
}

/**
 * A shard's table doubles in one step, and the time of that step is mostly the first touch of
 * its new memory: 10-13 ms for a shard of 65,536 keys on a 2-core VM. 64 shards keep that under
 * a millisecond at the default maxWindowKeys (100,000) and near 3 ms at a million.
 */
export const SIGNATURE_SHARDS = 64;
/** The top six bits of a multiplicative mix: FNV's low bits follow sequential quantities too closely. */
const shardOf = (hash: number): number => Math.imul(hash, 0x9e3779b1) >>> 26;

const isNumeral = (text: string): boolean => text !== '' && String(Number(text)) === text;

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/**
 * FNV-1a over the fields from an offset mixed with `seed`, as a small integer (a Map keeps those
 * unboxed). Gateways choose every field of a signature: with a hash known to everyone, orders
 * chosen to hash alike would chain their rings and make each check walk them all (up to
 * maxWindowKeys). Seeded per thread, as the ids' hash is (see HASH_SEED). Exported for tests.
 */
export function signatureHash(key: string, symbol: string, side: Side, quantity: number, price: number | undefined, seed: number = HASH_SEED): number {
  let h = fnvText(fnvOffset(seed), key);
  h = fnvText(Math.imul(h ^ 0x7c, FNV_PRIME), symbol);
  h = Math.imul(h ^ (side === 'BUY' ? 1 : 2), FNV_PRIME);
  h = hashNumber(h, quantity);
  h = price === undefined ? Math.imul(h ^ 3, FNV_PRIME) : hashNumber(h, price);
  return h & 0x3fffffff;
}

/**
 * A double's two words, each as two 16-bit halves: a product's low bits depend only on the low
 * bits of what it multiplies, so a whole word in one step would leave the kept 30 bits blind to
 * its top two, and 64 quantities and prices (low mantissa bits, the sign, the exponent's top bit)
 * would hash alike whatever the seed.
 */
function hashNumber(h: number, value: number): number {
  bits[0] = value === 0 ? 0 : value;
  const low = words[0]!;
  const high = words[1]!;
  h = Math.imul(h ^ (low & 0xffff), FNV_PRIME);
  h = Math.imul(h ^ (low >>> 16), FNV_PRIME);
  h = Math.imul(h ^ (high & 0xffff), FNV_PRIME);
  return Math.imul(h ^ (high >>> 16), FNV_PRIME);
}
