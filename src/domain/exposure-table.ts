import { home, movesBack } from './int-key-table.js';

/** What the table needs of an exposure: its market, whose `id` is the key. */
export interface Keyed {
  readonly market: { readonly id: number };
}

/**
 * A group's exposures by market: open addressing, linear probing on the market's id, with the
 * exposures themselves in the slots (a probe compares their market), and deletion by shifting
 * the entries after it back (no tombstones). Every check finds its account's and strategy's
 * exposure of the order's symbol, in a group no other recent check touched: a Map by symbol
 * costs a miss on the Map, one on its hash table and one on the exposure; here one on the slot
 * and one on the exposure, which the check reads anyway (200–340 ns a lookup against 480–550
 * at 10,000 groups of 100 on this host). Half full at most, an eighth at least. ExposureGroup
 * extends it, so that its slots are one load from the group (its members are named apart from
 * the group's for that).
 */
export class ExposureTable<E extends Keyed> {
  private table: (E | undefined)[] = emptySlots(MIN_CAPACITY);
  private tableMask = MIN_CAPACITY - 1;
  private tableCount = 0;

  get size(): number {
    return this.tableCount;
  }

  /** Slots, used and empty (for tests: growth and shrinking are visible). */
  get capacity(): number {
    return this.table.length;
  }

  get(market: { readonly id: number }): E | undefined {
    const { table: slots, tableMask: mask } = this;
    for (let slot = home(market.id, mask); ; slot = (slot + 1) & mask) {
      const found = slots[slot];
      if (found === undefined || found.market === market) return found;
    }
  }

  /** Adds an exposure whose market the table does not hold yet. */
  add(exposure: E): void {
    if ((this.tableCount + 1) * 2 > this.table.length) this.resize(this.table.length * 2);
    this.place(exposure);
    this.tableCount++;
  }

  /** Removes `exposure` if it is the one held for its market; returns whether it was. */
  delete(exposure: E): boolean {
    const { table: slots, tableMask: mask } = this;
    let at = home(exposure.market.id, mask);
    while (slots[at] !== exposure) {
      if (slots[at] === undefined) return false;
      at = (at + 1) & mask;
    }
    for (let next = (at + 1) & mask; slots[next] !== undefined; next = (next + 1) & mask) {
      if (movesBack(next, home(slots[next]!.market.id, mask), at, mask)) {
        slots[at] = slots[next];
        at = next;
      }
    }
    slots[at] = undefined;
    this.tableCount--;
    if (this.tableCount * 8 < slots.length && slots.length > MIN_CAPACITY) this.resize(slots.length / 2);
    return true;
  }

  clear(): void {
    this.table = emptySlots(MIN_CAPACITY);
    this.tableMask = MIN_CAPACITY - 1;
    this.tableCount = 0;
  }

  /** Every exposure held, in slot order (for tests and tools: the group keeps its own order). */
  values(): E[] {
    return this.table.filter((e): e is E => e !== undefined);
  }

  private resize(size: number): void {
    const old = this.table;
    this.table = emptySlots(size);
    this.tableMask = size - 1;
    for (const exposure of old) if (exposure !== undefined) this.place(exposure);
  }

  private place(exposure: E): void {
    const { table: slots, tableMask: mask } = this;
    let slot = home(exposure.market.id, mask);
    while (slots[slot] !== undefined) slot = (slot + 1) & mask;
    slots[slot] = exposure;
  }
}

const MIN_CAPACITY = 8;

const emptySlots = <E>(size: number): (E | undefined)[] => new Array<E | undefined>(size).fill(undefined);
