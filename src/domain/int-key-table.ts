/**
 * A map from integer keys in [0, 2^31 − 1) to values: open addressing, linear probing, and
 * deletion by shifting the entries after it back (no tombstones). A V8 Map under steady churn
 * rebuilds its table whenever inserts use up the room its deletes left, a fresh table each
 * time: for duplicate_order's signature maps (nearly a key per accepted order, each swept a
 * window later) that was a new table every few hundred inserts. This table allocates only
 * when it grows past half full or shrinks below an eighth, so steady churn allocates nothing.
 */
export class IntKeyTable<V> {
  /** Key + 1 per slot; 0 is an empty slot. */
  private keys = new Int32Array(MIN_CAPACITY);
  private values = emptyValues<V>(MIN_CAPACITY);
  private mask = MIN_CAPACITY - 1;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Slots, used and empty (for tests: growth and shrinking are visible). */
  get capacity(): number {
    return this.keys.length;
  }

  get(key: number): V | undefined {
    const at = this.slotOf(key);
    return at < 0 ? undefined : this.values[at];
  }

  set(key: number, value: V): void {
    if (!(Number.isInteger(key) && key >= 0 && key < MAX_KEY)) throw new RangeError(`IntKeyTable: key ${key} is not an integer in [0, ${MAX_KEY})`);
    const at = this.slotOf(key);
    if (at >= 0) {
      this.values[at] = value;
      return;
    }
    if ((this.count + 1) * 2 > this.keys.length) this.resize(this.keys.length * 2);
    this.place(key + 1, value);
    this.count++;
  }

  delete(key: number): boolean {
    let at = this.slotOf(key);
    if (at < 0) return false;
    const { keys, values, mask } = this;
    for (let next = (at + 1) & mask; keys[next] !== 0; next = (next + 1) & mask) {
      if (movesBack(next, home(keys[next]! - 1, mask), at, mask)) {
        keys[at] = keys[next]!;
        values[at] = values[next];
        at = next;
      }
    }
    keys[at] = 0;
    values[at] = undefined;
    this.count--;
    if (this.count * 8 < keys.length && keys.length > MIN_CAPACITY) this.resize(keys.length / 2);
    return true;
  }

  clear(): void {
    this.allocate(MIN_CAPACITY);
    this.count = 0;
  }

  /** The slot holding `key`, or −1 (a negative key would match an empty slot's 0). */
  private slotOf(key: number): number {
    if (!(key >= 0)) return -1;
    const { keys, mask } = this;
    const stored = key + 1;
    for (let slot = home(key, mask); ; slot = (slot + 1) & mask) {
      const found = keys[slot]!;
      if (found === stored) return slot;
      if (found === 0) return -1;
    }
  }

  private allocate(size: number): void {
    this.keys = new Int32Array(size);
    this.values = emptyValues(size);
    this.mask = size - 1;
  }

  private resize(size: number): void {
    const { keys, values } = this;
    this.allocate(size);
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.place(keys[i]!, values[i]);
  }

  /** Puts a key not in the table (stored as key + 1) in the first empty slot of its probe. */
  private place(stored: number, value: V | undefined): void {
    const { keys, mask } = this;
    let slot = home(stored - 1, mask);
    while (keys[slot] !== 0) slot = (slot + 1) & mask;
    keys[slot] = stored;
    this.values[slot] = value;
  }
}

const MIN_CAPACITY = 16;
/** Keys are stored plus one in an Int32Array. */
const MAX_KEY = 2 ** 31 - 1;

const emptyValues = <V>(size: number): (V | undefined)[] => new Array<V | undefined>(size).fill(undefined);

/**
 * Where a key's probe starts: its bits mixed (murmur3's finalizer), since callers' keys may
 * share their high or low bits (SignatureWindows picks a shard by the top bits of a hash).
 * Exported for tests.
 */
export function home(key: number, mask: number): number {
  let h = key;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & mask;
}

/**
 * Deletion by shifting back, shared by the open-addressing tables here: walking on from a
 * hole, the entry in slot `next` whose probe starts at `nextHome` moves back into the hole
 * when its home is not between the hole and it (cyclically); the hole then moves to `next`.
 * Every key so stays reachable from its home slot without crossing an empty one.
 */
export function movesBack(next: number, nextHome: number, hole: number, mask: number): boolean {
  return ((next - nextHome) & mask) >= ((next - hole) & mask);
}
