import { stringHash } from './string-hash.js';

/**
 * A Map split into parts ("shards") of at most a few thousand keys each, for maps that grow
 * large and churn (closed orders, open orders by id). V8 rebuilds a Map's whole hash table in
 * one synchronous step whenever inserts have used up the room that deletes left, which under
 * steady churn is every (capacity − size) inserts: at half a million keys that stalled the
 * event loop for 34 ms on a quiet host and 70–440 ms on a busy one (bench/map-stall.bench.ts),
 * every few minutes of cancels. A shard's rebuild takes about 2 ms at most.
 *
 * Linear hashing: the map starts as one shard (no hashing at all while it stays small) and
 * grows one shard at a time, each split moving the keys of a single shard, so growing never
 * stalls either. Shards are never merged back; an emptied Map gives its table back on its own.
 */
export class ShardedMap<K extends string | number, V> {
  private readonly shards: Shard<K, V>[];
  /** Shards 0..splitAt−1 of this round are split already: they use one more hash bit. */
  private splitAt = 0;
  /** Shards at the start of this round of splits (a power of two). */
  private roundSize = 1;
  private count = 0;

  constructor(
    private readonly keysPerShard: number = KEYS_PER_SHARD,
    /**
     * Makes a shard: a Map, or a table with a Map's methods that suits the keys better (see
     * OrderIdTable and Shard), given how many keys it is about to take (a split's), so that a
     * table can be made at its size rather than grown to it.
     */
    private readonly newShard: NewShard<K, V> = () => new Map<K, V>(),
    /** Its first shard, with the keys it holds (see grown). */
    first: Shard<K, V> = newShard(0),
  ) {
    this.shards = [first];
    this.count = first.size;
  }

  /**
   * For maps that are nearly always small and sit on the check path: a plain Map or other shard
   * (one load less per lookup) until it outgrows a shard, then a ShardedMap whose first shard it
   * is. Call after each insert; the one-time move is of the keys a split takes out of it.
   */
  static grown<K extends string | number, V>(map: GrowingMap<K, V>, keysPerShard?: number): GrowingMap<K, V>;
  /** Any other shard names the shards it grows into: a Map's would quietly lose what it was chosen for. */
  static grown<K extends string | number, V, S extends Shard<K, V>>(map: S | ShardedMap<K, V>, keysPerShard: number, newShard: (expectedSize: number) => S): S | ShardedMap<K, V>;
  static grown<K extends string | number, V, S extends Shard<K, V>>(
    map: S | ShardedMap<K, V>,
    keysPerShard: number = KEYS_PER_SHARD,
    newShard?: (expectedSize: number) => S,
  ): S | ShardedMap<K, V> {
    if (map instanceof ShardedMap || map.size <= keysPerShard) return map;
    // The map becomes the first shard as it is, and a split moves the keys of the second out of
    // it: putting every key into a new shard (grown by doubling on the way) then moving half of
    // them again took an account's orders ~10 ms on a two-core VM, inside one check.
    const sharded = new ShardedMap<K, V>(keysPerShard, newShard, map);
    while (sharded.count > sharded.shards.length * keysPerShard) sharded.split();
    return sharded;
  }

  get size(): number {
    return this.count;
  }

  /** Shards in use (for tests and metrics: growth is visible). */
  get shardCount(): number {
    return this.shards.length;
  }

  /** The size of the largest shard: what one V8 table rebuild costs at most. */
  get largestShard(): number {
    let largest = 0;
    for (const shard of this.shards) largest = Math.max(largest, shard.size);
    return largest;
  }

  get(key: K): V | undefined {
    return this.shardOf(key).get(key);
  }

  has(key: K): boolean {
    return this.shardOf(key).has(key);
  }

  set(key: K, value: V): this {
    const shard = this.shardOf(key);
    const before = shard.size;
    shard.set(key, value);
    if (shard.size !== before && ++this.count > this.shards.length * this.keysPerShard) this.split();
    return this;
  }

  delete(key: K): boolean {
    const isDeleted = this.shardOf(key).delete(key);
    if (isDeleted) this.count--;
    return isDeleted;
  }

  clear(): void {
    for (const shard of this.shards) shard.clear();
    this.count = 0;
  }

  /**
   * Moves every entry into a new map, in O(1): this one is left empty and keeps its identity
   * (whoever holds it keeps holding it), the other can be walked later at leisure.
   */
  takeAll(): ShardedMap<K, V> {
    const taken = new ShardedMap<K, V>(this.keysPerShard, this.newShard);
    taken.shards.splice(0, 1, ...this.shards.splice(0, this.shards.length, this.newShard(0)));
    taken.splitAt = this.splitAt;
    taken.roundSize = this.roundSize;
    taken.count = this.count;
    this.splitAt = 0;
    this.roundSize = 1;
    this.count = 0;
    return taken;
  }

  *entries(): IterableIterator<[K, V]> {
    for (const shard of this.shards) yield* shard.entries();
  }

  *keys(): IterableIterator<K> {
    for (const shard of this.shards) yield* shard.keys();
  }

  *values(): IterableIterator<V> {
    for (const shard of this.shards) yield* shard.values();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  private shardOf(key: K): Shard<K, V> {
    const shards = this.shards;
    if (shards.length === 1) return shards[0]!;
    const hash = hashOf(key);
    const index = hash & (this.roundSize - 1);
    return shards[index < this.splitAt ? hash & (2 * this.roundSize - 1) : index]!;
  }

  /** Splits the next shard of the round in two, by the next hash bit: its keys alone move. */
  private split(): void {
    const from = this.shards[this.splitAt]!;
    const bit = this.roundSize;
    const to = from.splitOff === undefined ? this.splitByKeys(from, bit) : from.splitOff((keyHash) => (mixedHash(keyHash) & bit) !== 0, this.newShard);
    this.shards.push(to);
    if (++this.splitAt === this.roundSize) {
      this.roundSize *= 2;
      this.splitAt = 0;
    }
  }

  /** A shard's keys that have `bit`, moved to a new shard: listed before any moves, as a shard other than a Map may reorder itself on a delete. */
  private splitByKeys(from: Shard<K, V>, bit: number): Shard<K, V> {
    const moving: [K, V][] = [];
    for (const entry of from.entries()) if ((hashOf(entry[0]) & bit) !== 0) moving.push(entry);
    const to = this.newShard(moving.length);
    for (const [key, value] of moving) {
      to.set(key, value);
      from.delete(key);
    }
    return to;
  }
}

/**
 * What ShardedMap needs of a shard: a Map has it all. A shard may reorder itself on a change
 * (OrderIdTable does), so nothing here changes a shard while iterating it.
 */
export interface Shard<K, V> {
  readonly size: number;
  get(key: K): V | undefined;
  has(key: K): boolean;
  set(key: K, value: V): unknown;
  delete(key: K): boolean;
  clear(): void;
  entries(): IterableIterator<[K, V]>;
  keys(): IterableIterator<K>;
  values(): IterableIterator<V>;
  /**
   * Optional, for a shard of string keys that keeps their hashes (stringHash; a shard of number
   * keys must not have it, as those are hashed otherwise, see hashOf): moves the entries
   * whose key's hash `moves` accepts to a shard `make` makes for them, and returns it, reading
   * no key. A split by keys reads every key's text to hash it again, a cache miss or two per
   * key for keys made long ago.
   */
  splitOff?(moves: (keyHash: number) => boolean, make: NewShard<K, V>): Shard<K, V>;
}

/** Makes an empty shard that is about to take `expectedSize` keys. */
export type NewShard<K, V> = (expectedSize: number) => Shard<K, V>;

/** A map that is a plain Map while small (see ShardedMap.grown). */
export type GrowingMap<K extends string | number, V> = Map<K, V> | ShardedMap<K, V>;

/** Keys per shard on average before the map grows a shard: a table rebuild of this size is well under a millisecond. */
export const KEYS_PER_SHARD = 4_096;

/**
 * A number key (already a hash, or a counter) mixed once; a string's hash (see stringHash) mixed
 * through all its bits, since a shard is picked by the low ones and FNV's low bits follow only
 * the low bits of the characters (a largest shard 1.5× the expected with some seeds). Not the
 * mixer OrderIdTable picks its slots with: the keys of one shard share their low bits here, and
 * must not share their slots there.
 */
function hashOf(key: string | number): number {
  if (typeof key === 'number') return Math.imul(key ^ (key >>> 16), 0x45d9f3b) >>> 0;
  return mixedHash(stringHash(key));
}

/** A string key's stringHash mixed through all its bits. */
function mixedHash(keyHash: number): number {
  let x = keyHash;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}
