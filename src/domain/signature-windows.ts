import type { Aggregation, Side } from './enums.js';
import { IntKeyTable } from './int-key-table.js';
import { localKey } from './keys.js';
import type { Order } from './orders.js';
import { movesOn } from './push-order.js';
import { FNV_PRIME, HASH_SEED, fnvOffset, fnvText } from './string-hash.js';
import { TimeRing } from './time-ring.js';
import type { WindowRing, WindowStore } from './window-store.js';

/** Entries a chunk of columns holds: chunks are made as the store grows, so no growth copies more than one. */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
const SLOT_MASK = CHUNK - 1;
/**
 * The first chunk's size when made: it doubles up to CHUNK before a second is made, so a limit
 * whose window holds a few signatures (a book may have thousands of duplicate_order limits,
 * one per account) holds about a kilobyte, not a whole chunk (about 280 KB).
 */
const FIRST_CHUNK = 16;
/** No entry: an empty link, the end of a chain or of the free list. */
const NONE = -1;

/** An entry's numbers, side by side in one row: the time of its one push, and the signature's quantity and price. */
const TIME = 0;
const QUANTITY = 1;
const PRICE = 2;
const NUMBERS = 3;
/** An entry's integers: its hash, the next entry of its hash's chain (or of the free list), its push-order links, its state. */
const HASH = 0;
const NEXT = 1;
const OLDER = 2;
const NEWER = 3;
const STATE = 4;
const INTS = 5;
/** State bits: the entry holds one push in TIME (while it has no ring); its side is SELL; it is in the store (not free). */
const HOLDS_ONE = 1;
const SELLS = 2;
const LIVE = 4;

/** One chunk of the columns: each entry's numbers and integers in rows, its strings and its ring (if it has more than one push) in arrays. */
class SignatureChunk {
  readonly numbers: Float64Array;
  readonly ints: Int32Array;
  // Made by Array.from, packed: a preallocated array stays holey, and every read checks for holes.
  readonly keys: string[];
  readonly symbols: string[];
  readonly rings: (TimeRing | undefined)[];

  constructor(readonly size: number) {
    this.numbers = new Float64Array(size * NUMBERS);
    this.ints = new Int32Array(size * INTS);
    this.keys = Array.from({ length: size }, () => '');
    this.symbols = Array.from({ length: size }, () => '');
    this.rings = Array.from({ length: size }, (): TimeRing | undefined => undefined);
  }

  /** This chunk at twice its size, its entries where they were. */
  doubled(): SignatureChunk {
    const next = new SignatureChunk(this.size * 2);
    next.numbers.set(this.numbers);
    next.ints.set(this.ints);
    for (let i = 0; i < this.size; i++) {
      next.keys[i] = this.keys[i]!;
      next.symbols[i] = this.symbols[i]!;
      next.rings[i] = this.rings[i];
    }
    return next;
  }
}

/**
 * duplicate_order: one window per (key, symbol, side, quantity, price). Nearly every accepted
 * order brings a new signature that lives one window and then is swept, so the store holds about
 * a window's worth of orders (100,000 at 100,000 orders/s and a 1 s window). Each signature is an
 * entry in columns of numbers, integers and strings, made in chunks of 4,096, not an object: as
 * TimeRing objects (about 150 B each, reused from swept ones) every new signature wrote to a ring
 * no recent check had touched, and a full collection marked them all. An entry with one push
 * keeps its time in a column; the second push gives it a TimeRing of its own (rare: a genuine
 * duplicate), which from then on holds its times. Entries go on a free list when removed and are
 * reused from it, so the store holds as many chunks as its most entries at once took (bounded by
 * maxWindowKeys): what it held at its peak stays until clear().
 *
 * A numeric hash of the fields finds the entry (a string key per order was the costliest part of
 * a check), through SIGNATURE_SHARDS tables made when first needed, the fields compared to settle
 * collisions. Entries keep the push order of TimeRings in a PushOrder (see there), in links of
 * their own, so sweeps and snapshots walk them exactly as they walk KeyedWindows' rings. The
 * store hands out views of its entries (SignatureEntry) as the WindowRing the engine counts in.
 */
export class SignatureWindows implements WindowStore {
  /**
   * By signature hash, split on its bits into SIGNATURE_SHARDS tables made when first needed:
   * a table of 100k keys is rebuilt in one step when it doubles (a plain Map's took 10-30 ms,
   * see ShardedMap), so it is split. The hash is one already, so picking a shard costs a
   * multiply. Each holds the first entry of its hash's chain.
   */
  private readonly shards: (IntKeyTable<number> | undefined)[] = new Array<IntKeyTable<number> | undefined>(SIGNATURE_SHARDS).fill(undefined);
  private chunks: SignatureChunk[] = [];
  /** Entries never used yet start here: the next chunk is made when it reaches the chunks' end. */
  private fresh = 0;
  private freeHead = NONE;
  private oldest = NONE;
  private newest = NONE;
  private count = 0;
  /** See PushOrder.settleMs. */
  private readonly settleMs: number;
  /**
   * The order the last find looked up, with its key and hash: the reservation that follows a
   * check creates the window find did not find, for the same order in the same call, and would
   * otherwise make its key and hash again. Used once, then let go of.
   */
  private foundFor: Order | undefined;
  private foundKey = '';
  private foundHash = 0;

  constructor(
    private readonly per: Aggregation,
    private readonly maxEntries: number,
    private readonly windowMs: number,
    /** What the signatures' hash starts from: the thread's seed, or a fixed one for tests that need known collisions. */
    private readonly seed: number = HASH_SEED,
  ) {
    this.settleMs = windowMs / 2;
  }

  get size(): number {
    return this.count;
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

  /** Chunks of columns held (for tests: the memory bound). */
  get chunkCount(): number {
    return this.chunks.length;
  }

  /** Entries the columns have room for: the first chunk grows to CHUNK before a second is made. */
  get capacity(): number {
    const last = this.chunks[this.chunks.length - 1];
    return last === undefined ? 0 : (this.chunks.length - 1) * CHUNK + last.size;
  }

  /** Entries whose symbol the columns hold: those in the store, for a free entry keeps no text (for tests). */
  get textsHeld(): number {
    let held = 0;
    for (const chunk of this.chunks) for (const symbol of chunk.symbols) if (symbol !== '') held++;
    return held;
  }

  find(order: Order): WindowRing | undefined {
    const entry = this.entryOf(order);
    return entry === NONE ? undefined : new SignatureEntry(this, entry);
  }

  create(order: Order): WindowRing {
    const isFound = order === this.foundFor;
    this.foundFor = undefined;
    const key = isFound ? this.foundKey : localKey(this.per, order);
    const hash = isFound ? this.foundHash : this.hashOf(key, order.symbol, order.side, order.quantity, order.price);
    return new SignatureEntry(this, this.add(key, hash, order.symbol, order.side, order.quantity, order.price));
  }

  drop(order: Order, ring: WindowRing): void {
    if (ring instanceof SignatureEntry && ring.store === this && this.entryOf(order) === ring.entry) this.remove(ring.entry);
  }

  /**
   * Drops entries with no push after `cutoff`, oldest push first, as sweepInPushOrder does for
   * rings (see there): it stops at the first still counting, and moves one stamped ahead of a
   * clock stepped back to the newest end.
   */
  sweep(cutoff: number, budget: number, moved?: { count: number }): number {
    let dropped = 0;
    let firstMoved = NONE;
    for (let looked = 0, entry = this.oldest; entry !== NONE && looked < budget && entry !== firstMoved; looked++, entry = this.oldest) {
      if (this.countAfter(entry, cutoff) === 0) {
        this.remove(entry);
        dropped++;
        continue;
      }
      if (!(this.newestOf(entry) > cutoff + this.windowMs)) break;
      this.touch(entry);
      if (moved !== undefined) moved.count++;
      if (firstMoved === NONE) firstMoved = entry;
    }
    return dropped;
  }

  *entries(): Iterable<readonly [string, WindowRing]> {
    for (let entry = this.oldest; entry !== NONE; entry = this.intOf(entry, NEWER)) yield [this.nameOf(entry), new SignatureEntry(this, entry)];
  }

  restore(name: string, times: readonly number[]): void {
    const { key, symbol, side, quantity, price } = signatureOfName(name);
    const entry = this.add(key, this.hashOf(key, symbol, side, quantity, price), symbol, side, quantity, price);
    for (const at of times) this.push(entry, at);
  }

  clear(): void {
    this.foundFor = undefined;
    this.shards.fill(undefined);
    this.chunks = [];
    this.fresh = 0;
    this.freeHead = this.oldest = this.newest = NONE;
    this.count = 0;
  }

  // ---- an entry's window, for its views (SignatureEntry): as TimeRing's methods of the same names

  sizeOf(entry: number): number {
    const ring = this.ringOf(entry);
    return ring !== undefined ? ring.size : this.intOf(entry, STATE) & HOLDS_ONE;
  }

  newestOf(entry: number): number {
    const ring = this.ringOf(entry);
    if (ring !== undefined) return ring.newest;
    return (this.intOf(entry, STATE) & HOLDS_ONE) === 0 ? Number.NaN : this.numberOf(entry, TIME);
  }

  countAfter(entry: number, cutoff: number): number {
    const ring = this.ringOf(entry);
    if (ring !== undefined) return ring.countAfter(cutoff);
    const held = this.intOf(entry, STATE) & HOLDS_ONE;
    return held === 1 && this.numberOf(entry, TIME) <= cutoff ? 0 : held;
  }

  trim(entry: number, cutoff: number): number {
    const ring = this.ringOf(entry);
    if (ring !== undefined) return ring.trim(cutoff);
    if ((this.intOf(entry, STATE) & HOLDS_ONE) === 0) return 0;
    if (this.numberOf(entry, TIME) > cutoff) return 1;
    this.setHeld(entry, false);
    return 0;
  }

  /** As TimeRing.push with its PushOrder: a push in a later settle step than the entry's newest moves it to the newest end. */
  push(entry: number, at: number): void {
    // A view kept past its entry's removal (see SignatureEntry) writes nothing: the entry is in no push order to move in.
    if ((this.intOf(entry, STATE) & LIVE) === 0) return;
    if (movesOn(this.settleMs, this.newestOf(entry), at)) this.touch(entry);
    const chunk = this.chunks[entry >>> CHUNK_BITS]!;
    const slot = entry & SLOT_MASK;
    const ring = chunk.rings[slot];
    if (ring !== undefined) return ring.push(at);
    if ((chunk.ints[slot * INTS + STATE]! & HOLDS_ONE) === 0) {
      chunk.numbers[slot * NUMBERS + TIME] = at;
      this.setHeld(entry, true);
      return;
    }
    // A second push: from now on a ring holds the entry's times, in the very state a ring that
    // held the first would be in (TimeRing's first push is what the column held; a ring of one
    // entry at most overwrites it).
    const made = new TimeRing(this.maxEntries);
    made.push(chunk.numbers[slot * NUMBERS + TIME]!);
    made.push(at);
    chunk.rings[slot] = made;
    this.setHeld(entry, false);
  }

  removeNewest(entry: number, at: number): void {
    const ring = this.ringOf(entry);
    if (ring !== undefined) return ring.removeNewest(at);
    if ((this.intOf(entry, STATE) & HOLDS_ONE) !== 0 && this.numberOf(entry, TIME) === at) this.setHeld(entry, false);
  }

  /** Entries its times take before growing: 1 while held in the column (for tests, as TimeRing.capacity). */
  capacityOf(entry: number): number {
    return this.ringOf(entry)?.capacity ?? 1;
  }

  timesOf(entry: number): number[] {
    const ring = this.ringOf(entry);
    if (ring !== undefined) return ring.toArray();
    return (this.intOf(entry, STATE) & HOLDS_ONE) === 0 ? [] : [this.numberOf(entry, TIME)];
  }

  // ---- the columns

  /** The signature's hash (tests override it to make signatures that differ in any field collide). */
  protected hashOf(key: string, symbol: string, side: Side, quantity: number, price: number | undefined): number {
    return signatureHash(key, symbol, side, quantity, price, this.seed);
  }

  /** The entry of the order's signature, or NONE. */
  private entryOf(order: Order): number {
    const key = localKey(this.per, order);
    const hash = this.hashOf(key, order.symbol, order.side, order.quantity, order.price);
    this.foundFor = order;
    this.foundKey = key;
    this.foundHash = hash;
    let entry = this.shards[shardOf(hash)]?.get(hash) ?? NONE;
    while (entry !== NONE && !this.matches(entry, key, order)) entry = this.intOf(entry, NEXT);
    return entry;
  }

  private matches(entry: number, key: string, order: Order): boolean {
    const chunk = this.chunks[entry >>> CHUNK_BITS]!;
    const slot = entry & SLOT_MASK;
    const price = order.price;
    const held = chunk.numbers[slot * NUMBERS + PRICE]!;
    const isPriceAlike = price === undefined ? held !== held : held === price;
    return (
      chunk.keys[slot] === key &&
      chunk.symbols[slot] === order.symbol &&
      this.sideOf(entry) === order.side &&
      chunk.numbers[slot * NUMBERS + QUANTITY] === order.quantity &&
      isPriceAlike
    );
  }

  private add(key: string, hash: number, symbol: string, side: Side, quantity: number, price: number | undefined): number {
    const entry = this.allocate();
    const chunk = this.chunks[entry >>> CHUNK_BITS]!;
    const slot = entry & SLOT_MASK;
    const row = slot * NUMBERS;
    chunk.numbers[row + TIME] = 0;
    chunk.numbers[row + QUANTITY] = quantity;
    // NaN for an order without a price: MARKET signatures match MARKET orders only.
    chunk.numbers[row + PRICE] = price ?? Number.NaN;
    const ints = slot * INTS;
    chunk.ints[ints + HASH] = hash;
    chunk.ints[ints + NEXT] = NONE;
    chunk.ints[ints + STATE] = LIVE | (side === 'SELL' ? SELLS : 0);
    chunk.keys[slot] = key;
    chunk.symbols[slot] = symbol;
    const shard = (this.shards[shardOf(hash)] ??= new IntKeyTable<number>());
    const head = shard.get(hash);
    if (head === undefined) {
      shard.set(hash, entry);
    } else {
      let tail = head;
      while (this.intOf(tail, NEXT) !== NONE) tail = this.intOf(tail, NEXT);
      this.setInt(tail, NEXT, entry);
    }
    this.link(entry);
    this.count++;
    return entry;
  }

  private remove(entry: number): void {
    const hash = this.intOf(entry, HASH);
    const shard = this.shards[shardOf(hash)];
    const head = shard?.get(hash);
    const next = this.intOf(entry, NEXT);
    if (head === entry) {
      if (next === NONE) shard!.delete(hash);
      else shard!.set(hash, next);
    } else {
      let before = head ?? NONE;
      while (before !== NONE && this.intOf(before, NEXT) !== entry) before = this.intOf(before, NEXT);
      if (before === NONE) return;
      this.setInt(before, NEXT, next);
    }
    this.unlink(entry);
    this.count--;
    this.release(entry);
  }

  /** A free entry, or a fresh one (making a chunk when the chunks are used up). */
  private allocate(): number {
    const free = this.freeHead;
    if (free !== NONE) {
      this.freeHead = this.intOf(free, NEXT);
      return free;
    }
    if (this.fresh === this.capacity) {
      // Only the first chunk is ever smaller than CHUNK: a second is made once it is whole.
      const chunks = this.chunks;
      const last = chunks.pop();
      if (last === undefined) chunks.push(new SignatureChunk(FIRST_CHUNK));
      else if (last.size < CHUNK) chunks.push(last.doubled());
      else chunks.push(last, new SignatureChunk(CHUNK));
    }
    return this.fresh++;
  }

  /** Onto the free list, holding no text of the signature it counted and no ring. */
  private release(entry: number): void {
    const chunk = this.chunks[entry >>> CHUNK_BITS]!;
    const slot = entry & SLOT_MASK;
    chunk.keys[slot] = chunk.symbols[slot] = '';
    chunk.rings[slot] = undefined;
    chunk.ints[slot * INTS + STATE] = 0;
    chunk.ints[slot * INTS + NEXT] = this.freeHead;
    this.freeHead = entry;
  }

  private nameOf(entry: number): string {
    const chunk = this.chunks[entry >>> CHUNK_BITS]!;
    const slot = entry & SLOT_MASK;
    const price = chunk.numbers[slot * NUMBERS + PRICE]!;
    return `${chunk.keys[slot]!}|${chunk.symbols[slot]!}|${this.sideOf(entry)}|${chunk.numbers[slot * NUMBERS + QUANTITY]!}|${price === price ? price : 'MKT'}`;
  }

  private sideOf(entry: number): Side {
    return (this.intOf(entry, STATE) & SELLS) === 0 ? 'BUY' : 'SELL';
  }

  private ringOf(entry: number): TimeRing | undefined {
    return this.chunks[entry >>> CHUNK_BITS]!.rings[entry & SLOT_MASK];
  }

  private setHeld(entry: number, holds: boolean): void {
    const at = (entry & SLOT_MASK) * INTS + STATE;
    const ints = this.chunks[entry >>> CHUNK_BITS]!.ints;
    ints[at] = holds ? ints[at]! | HOLDS_ONE : ints[at]! & ~HOLDS_ONE;
  }

  private intOf(entry: number, field: number): number {
    return this.chunks[entry >>> CHUNK_BITS]!.ints[(entry & SLOT_MASK) * INTS + field]!;
  }

  private setInt(entry: number, field: number, value: number): void {
    this.chunks[entry >>> CHUNK_BITS]!.ints[(entry & SLOT_MASK) * INTS + field] = value;
  }

  private numberOf(entry: number, field: number): number {
    return this.chunks[entry >>> CHUNK_BITS]!.numbers[(entry & SLOT_MASK) * NUMBERS + field]!;
  }

  // ---- push order (PushOrder's, in the entries' own links)

  /** Moves an entry to the newest end. */
  private touch(entry: number): void {
    if (entry === this.newest) return;
    this.unlink(entry);
    this.link(entry);
  }

  private link(entry: number): void {
    this.setInt(entry, OLDER, this.newest);
    this.setInt(entry, NEWER, NONE);
    if (this.newest === NONE) this.oldest = entry;
    else this.setInt(this.newest, NEWER, entry);
    this.newest = entry;
  }

  private unlink(entry: number): void {
    const older = this.intOf(entry, OLDER);
    const newer = this.intOf(entry, NEWER);
    if (older === NONE) this.oldest = newer;
    else this.setInt(older, NEWER, newer);
    if (newer === NONE) this.newest = older;
    else this.setInt(newer, OLDER, older);
  }
}

/**
 * A view of one entry of a SignatureWindows as the WindowRing the engine counts in: made by find,
 * create and entries, kept no longer than the call that found it (a check reserves in the same
 * call; a batch's take-back finds the entry again), since a removed entry is reused.
 */
class SignatureEntry implements WindowRing {
  constructor(
    readonly store: SignatureWindows,
    readonly entry: number,
  ) {}

  get size(): number {
    return this.store.sizeOf(this.entry);
  }

  get newest(): number {
    return this.store.newestOf(this.entry);
  }

  countAfter(cutoff: number): number {
    return this.store.countAfter(this.entry, cutoff);
  }

  trim(cutoff: number): number {
    return this.store.trim(this.entry, cutoff);
  }

  push(at: number): void {
    this.store.push(this.entry, at);
  }

  removeNewest(at: number): void {
    this.store.removeNewest(this.entry, at);
  }

  toArray(): number[] {
    return this.store.timesOf(this.entry);
  }

  /** For tests, as TimeRing.capacity. */
  get capacity(): number {
    return this.store.capacityOf(this.entry);
  }
}

/**
 * A shard's table doubles in one step, and the time of that step is mostly the first touch of
 * its new memory: 10-13 ms for a shard of 65,536 keys on a 2-core VM. 64 shards keep that under
 * a millisecond at the default maxWindowKeys (100,000) and near 3 ms at a million.
 */
export const SIGNATURE_SHARDS = 64;
/**
 * The top six bits of a multiplicative mix: FNV's low bits follow sequential quantities too
 * closely. Exported for the ring-per-signature store tests hold this one to.
 */
export const shardOf = (hash: number): number => Math.imul(hash, 0x9e3779b1) >>> 26;

const isNumeral = (text: string): boolean => text !== '' && String(Number(text)) === text;

/**
 * A window's signature from its name in snapshots, `<key>|<symbol>|<side>|<quantity>|<price or
 * MKT>` (the key itself may hold `|`), as SignatureWindows.entries() writes it.
 */
export function signatureOfName(name: string): { key: string; symbol: string; side: Side; quantity: number; price: number | undefined } {
  const parts = name.split('|');
  const [symbol, side, quantity, price] = parts.slice(-4);
  if (parts.length < 5 || (side !== 'BUY' && side !== 'SELL') || !isNumeral(quantity!) || (price !== 'MKT' && !isNumeral(price!))) {
    throw new RangeError(`snapshot: duplicate_order window key ${JSON.stringify(name)} is malformed`);
  }
  return { key: parts.slice(0, -4).join('|'), symbol: symbol!, side, quantity: Number(quantity), price: price === 'MKT' ? undefined : Number(price) };
}

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/**
 * FNV-1a over the fields from an offset mixed with `seed`, as a small integer (a table keeps
 * those unboxed). Gateways choose every field of a signature: with a hash known to everyone,
 * orders chosen to hash alike would chain their entries and make each check walk them all (up to
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
