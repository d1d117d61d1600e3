import { home, movesBack } from './int-key-table.js';
import type { Shard } from './sharded-map.js';
import { stringHash } from './string-hash.js';

/** What the table needs of an order: its id, which is the key. */
export interface HasOrderId {
  readonly orderId: string;
}

/**
 * The id of an entry held as a number: the ledger keeps a closed order as a handle into its
 * columns (see ClosedOrders), not as an object. A table given none holds objects only.
 */
export type IdOfHandle = (handle: number) => string;

const NO_HANDLES: IdOfHandle = (handle) => {
  throw new TypeError(`OrderIdTable: entry ${handle} is a handle, and this table reads none`);
};

/**
 * An account's orders by id: open addressing, linear probing, each slot the id's hash and the
 * order (or a closed order's handle, whose id `idOfHandle` reads: it must stay readable while
 * the table holds it) side by side in one array, and deletion by shifting the entries after it back (no
 * tombstones). Every check asks whether its account holds the order's id (nearly always not),
 * then puts the order in: in a V8 Map that was a miss on the Map, its bucket, its entries and
 * their key strings, and another on the entry the insert appends, about 2.4 µs of an empty
 * book's 6.9 µs check at 10,000 accounts. Here an absent id costs the miss on its slot, whose
 * stored hash answers without reading any key, and the insert lands in the slot just read.
 * Under churn a Map also made a new table whenever its deletes had used up its room; this one
 * allocates only when it grows past half full or shrinks below an eighth. Meant for the few
 * thousand orders of one account: past that, the ledger moves them to a ShardedMap of these
 * tables, so that no single resize stalls a check.
 *
 * Unlike a Map's, its iteration does not survive changes: a delete shifts later entries back
 * into slots already passed, and a resize moves every entry. List what to change first (as
 * ShardedMap's split does), then change it.
 */
export class OrderIdTable<V extends HasOrderId, H extends number = never> implements Shard<string, V | H> {
  /** Slot k is entries 2k (the key's hash, or EMPTY) and 2k + 1 (the order, or a handle whose id idOfHandle reads). */
  private slots: (number | V | undefined)[];
  private mask: number;
  private count = 0;

  /**
   * Made at the size that holds `expectedSize` orders and a quarter more without growing: a
   * shard about to take a split's orders goes on taking new ones, and a table made just full
   * would double on the next.
   */
  constructor(
    expectedSize = 0,
    private readonly idOfHandle: IdOfHandle = NO_HANDLES,
  ) {
    const capacity = capacityFor(expectedSize + (expectedSize >> 2));
    this.slots = emptySlots(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Slots, used and empty (for tests: growth and shrinking are visible). */
  get capacity(): number {
    return this.mask + 1;
  }

  get(orderId: string): V | H | undefined {
    const at = this.slotOf(orderId, stringHash(orderId));
    return at < 0 ? undefined : (this.slots[2 * at + 1] as V | H);
  }

  set(orderId: string, value: V | H): this {
    const id = this.idOf(value);
    if (id !== orderId) throw new RangeError(`OrderIdTable: order ${id} put under id ${orderId}`);
    const hash = stringHash(orderId);
    const at = this.slotOf(orderId, hash);
    if (at >= 0) {
      this.slots[2 * at + 1] = value;
      return this;
    }
    if ((this.count + 1) * 2 > this.capacity) this.resize(this.capacity * 2);
    this.place(hash, value);
    this.count++;
    return this;
  }

  has(orderId: string): boolean {
    return this.get(orderId) !== undefined;
  }

  delete(orderId: string): boolean {
    let at = this.slotOf(orderId, stringHash(orderId));
    if (at < 0) return false;
    const { slots, mask } = this;
    for (let next = (at + 1) & mask; slots[2 * next] !== EMPTY; next = (next + 1) & mask) {
      if (movesBack(next, home(slots[2 * next] as number, mask), at, mask)) {
        slots[2 * at] = slots[2 * next];
        slots[2 * at + 1] = slots[2 * next + 1];
        at = next;
      }
    }
    slots[2 * at] = EMPTY;
    slots[2 * at + 1] = undefined;
    this.count--;
    if (this.count * 8 < this.capacity && this.capacity > MIN_CAPACITY) this.resize(this.capacity / 2);
    return true;
  }

  clear(): void {
    this.slots = emptySlots(MIN_CAPACITY);
    this.mask = MIN_CAPACITY - 1;
    this.count = 0;
  }

  /** Every order held, in slot order; see the class comment before changing the table meanwhile. */
  *values(): IterableIterator<V | H> {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i += 2) if (slots[i] !== EMPTY) yield slots[i + 1] as V | H;
  }

  *keys(): IterableIterator<string> {
    for (const value of this.values()) yield this.idOf(value);
  }

  *entries(): IterableIterator<[string, V | H]> {
    for (const value of this.values()) yield [this.idOf(value), value];
  }

  [Symbol.iterator](): IterableIterator<[string, V | H]> {
    return this.entries();
  }

  /**
   * Moves the orders whose id's hash (stringHash) `moves` accepts to a table `make` makes at
   * their number, reading no id: the hashes are in the slots (see Shard.splitOff). Those that
   * stay are put back in this table's own slots: no new table is made for them.
   */
  splitOff(moves: (keyHash: number) => boolean, make: (expectedSize: number) => Shard<string, V | H>): Shard<string, V | H> {
    const slots = this.slots;
    const staying: (number | V)[] = [];
    const moving: (number | V)[] = [];
    for (let i = 0; i < slots.length; i += 2) {
      const hash = slots[i] as number;
      if (hash === EMPTY) continue;
      (moves(hash) ? moving : staying).push(hash, slots[i + 1] as V);
      slots[i] = EMPTY;
      slots[i + 1] = undefined;
    }
    this.count = 0;
    this.placeAll(staying);
    const to = make(moving.length / 2);
    if (to instanceof OrderIdTable) (to as OrderIdTable<V>).placeAll(moving);
    else for (let i = 1; i < moving.length; i += 2) to.set(this.idOf(moving[i] as V | H), moving[i] as V | H);
    return to;
  }

  /** Puts [hash, order] pairs whose ids the table does not hold (growing first if a table was made smaller than asked). */
  private placeAll(pairs: readonly (number | V)[]): void {
    const capacity = capacityFor(this.count + pairs.length / 2);
    if (capacity > this.capacity) this.resize(capacity);
    for (let i = 0; i < pairs.length; i += 2) this.place(pairs[i] as number, pairs[i + 1] as V | H);
    this.count += pairs.length / 2;
  }

  private idOf(value: V | H): string {
    return typeof value === 'number' ? this.idOfHandle(value) : value.orderId;
  }

  /** The slot holding `orderId`, or −1; keys are read only where a stored hash matches. */
  private slotOf(orderId: string, hash: number): number {
    const { slots, mask } = this;
    for (let slot = home(hash, mask); ; slot = (slot + 1) & mask) {
      const stored = slots[2 * slot];
      if (stored === EMPTY) return -1;
      if (stored === hash && this.idOf(slots[2 * slot + 1] as V | H) === orderId) return slot;
    }
  }

  private resize(capacity: number): void {
    const old = this.slots;
    this.slots = emptySlots(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== EMPTY) this.place(old[i] as number, old[i + 1] as V | H);
  }

  /** Puts an order whose id the table does not hold in the first empty slot of its probe. */
  private place(hash: number, value: V | H): void {
    const { slots, mask } = this;
    let slot = home(hash, mask);
    while (slots[2 * slot] !== EMPTY) slot = (slot + 1) & mask;
    slots[2 * slot] = hash;
    slots[2 * slot + 1] = value;
  }
}

/** Room for two orders: no larger than a V8 Map while it holds up to four (about 185 B either way). */
export const MIN_CAPACITY = 4;
const EMPTY = -1;

/** The fewest slots (a power of two, at least MIN_CAPACITY) that hold `entries` at most half full. */
function capacityFor(entries: number): number {
  let capacity = MIN_CAPACITY;
  while (capacity < 2 * entries) capacity *= 2;
  return capacity;
}

/**
 * Empty slots, copied from a template grown by pushes: a copy is a packed array (whose reads
 * skip the hole check) made at its size, where pushing kept room for 17 entries however few
 * it needed, and preallocating made a holey one (1.5 % slower checks in bench:ab). The template
 * is as long as the largest table made, and never shrinks: a shard of an account's orders,
 * about a shard's worth (100,000 ids made a largest shard of 6,272 orders, 16,384 slots: 256 KB)
 * while ids cannot be chosen to fall in one shard, which the seeded hash sees to (stringHash).
 */
const EMPTY_TEMPLATE: unknown[] = [];

function emptySlots<V>(capacity: number): (number | V | undefined)[] {
  while (EMPTY_TEMPLATE.length < 2 * capacity) EMPTY_TEMPLATE.push(EMPTY, undefined);
  return EMPTY_TEMPLATE.slice(0, 2 * capacity) as (number | V | undefined)[];
}
