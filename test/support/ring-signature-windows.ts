/**
 * duplicate_order's windows as they were kept before SignatureWindows held them in columns: a
 * TimeRing object per signature, reused from swept ones. Kept as the reference a model-based test
 * holds the columns to (test/domain/signature-windows.test.ts): every observable step must agree.
 */
import type { Aggregation, Side } from '../../src/domain/enums.js';
import { IntKeyTable } from '../../src/domain/int-key-table.js';
import { localKey } from '../../src/domain/keys.js';
import type { Order } from '../../src/domain/orders.js';
import { PushOrder } from '../../src/domain/push-order.js';
import { SIGNATURE_SHARDS, shardOf, signatureHash, signatureOfName } from '../../src/domain/signature-windows.js';
import { HASH_SEED } from '../../src/domain/string-hash.js';
import { TimeRing } from '../../src/domain/time-ring.js';
import { sweepInPushOrder } from '../../src/domain/window-store.js';
import type { WindowStore } from '../../src/domain/window-store.js';

/**
 * A duplicate_order window: the key and the signature it counts. Its store reuses it for
 * another signature once swept (see RingSignatureWindows.spare), so the fields are set by `assign`.
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
export class RingSignatureWindows implements WindowStore {
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

  find(order: Order): TimeRing | undefined {
    const key = localKey(this.per, order);
    const hash = this.hashOf(key, order.symbol, order.side, order.quantity, order.price);
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
    const { key, symbol, side, quantity, price } = signatureOfName(name);
    const ring = this.add(key, symbol, side, quantity, price);
    for (const at of times) ring.push(at);
  }

  clear(): void {
    this.shards.fill(undefined);
    this.pushOrder.clear();
    this.count = 0;
    this.spare.length = 0;
  }

  /** As SignatureWindows.hashOf: tests override both alike. */
  protected hashOf(key: string, symbol: string, side: Side, quantity: number, price: number | undefined): number {
    return signatureHash(key, symbol, side, quantity, price, this.seed);
  }

  private add(key: string, symbol: string, side: Side, quantity: number, price: number | undefined): SignatureRing {
    const hash = this.hashOf(key, symbol, side, quantity, price);
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
