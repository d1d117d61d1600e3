import type { Side } from './enums.js';

/** Who a late fill belongs to after its open order closed (expired, cancelled, rejected, filled up), as snapshots keep it. */
export interface ClosedOrderFields {
  readonly strategyId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly closedAt: number;
}

/**
 * A closed order's handle: a small integer, kept among its account's orders by id where its open
 * order was (so a check finds an id still held, and a late fill its owner, with the one lookup it
 * makes anyway). Valid from `add` until the order is forgotten or removed.
 */
export type ClosedHandle = number;

/** Entries a chunk holds (a power of two): about 170 KB of columns. */
const CHUNK_BITS = 12;
const CHUNK_SIZE = 1 << CHUNK_BITS;
const OFFSET_MASK = CHUNK_SIZE - 1;
/** Handles wrap within the small integers V8 keeps unboxed; the entries held span far fewer (see add). */
const HANDLE_BITS = 30;
/** `sides` of a slot: taken out (forgotten or removed), or the order's side. */
const GONE = 0;
const BUY = 1;
const SELL = 2;

/** One chunk of the columns: the ids are the strings the orders already had, so an entry is no object of its own. */
class ClosedChunk {
  readonly accountIds: string[] = new Array<string>(CHUNK_SIZE).fill('');
  readonly orderIds: string[] = new Array<string>(CHUNK_SIZE).fill('');
  readonly strategyIds: string[] = new Array<string>(CHUNK_SIZE).fill('');
  readonly symbols: string[] = new Array<string>(CHUNK_SIZE).fill('');
  readonly closedAt = new Float64Array(CHUNK_SIZE);
  readonly sides = new Uint8Array(CHUNK_SIZE);
}

/**
 * Recently closed orders, oldest first, at most `capacity`, in columns: an order closing is no
 * new object. Every closed order is kept for the late-fill window (minutes), so a busy book holds
 * hundreds of thousands: as objects (with the list's links) they were most of what a full
 * collection marked at that state, where a column entry is four pointers to strings the heap
 * holds anyway and two numbers (1,000,000 of them: 137 against 63 MiB of heap, a full collection
 * 75–100 against 20–30 ms). The entries are in the order they were added, in chunks that are made
 * as the newest end needs them and let go of as the oldest end passes them, so memory follows the
 * orders kept. Who finds an entry by its ids is the ledger (the account's orders by id, holding the
 * handle); this says which to forget, and tells `onForget` so the ledger lets go of it too. An id
 * taken again after its window, before its entry was forgotten (forgetting is budgeted), takes
 * the entry out (`remove`), so an id is listed once.
 */
export class ClosedOrders {
  private readonly chunks: ClosedChunk[] = [];
  /** The chunk number (a handle's top bits) of chunks[0]. */
  private firstChunk = 0;
  /** The oldest entry's handle, GONE ones skipped, or `tail` when none is held. */
  private head = 0;
  /** The handle the next entry takes. */
  private tail = 0;
  private count = 0;
  /** The chunk the oldest end let go of last, made again for the newest end's next. */
  private spareChunk: ClosedChunk | undefined;
  private readonly handleMask: number;
  private readonly chunkNumberMask: number;

  constructor(
    private readonly capacity: number,
    private readonly onForget: (handle: ClosedHandle) => void,
    /** Bits of a handle: fewer only for tests, so that handles wrap within a test's reach. */
    handleBits = HANDLE_BITS,
  ) {
    if (!(handleBits >= CHUNK_BITS + 2 && handleBits <= HANDLE_BITS && 2 ** handleBits > 2 * capacity + CHUNK_SIZE)) {
      throw new RangeError(`ClosedOrders: ${handleBits} bits of handle cannot hold twice a capacity of ${capacity}`);
    }
    this.handleMask = 2 ** handleBits - 1;
    this.chunkNumberMask = 2 ** (handleBits - CHUNK_BITS) - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Chunks held (for tests: memory follows the orders kept). */
  get chunkCount(): number {
    return this.chunks.length;
  }

  /** When the oldest closed, or undefined when none is kept. */
  get oldestClosedAt(): number | undefined {
    return this.count === 0 ? undefined : this.closedAtOf(this.head);
  }

  /**
   * Lists an order as the newest and returns its handle; a full list forgets its oldest first.
   * The handles held span at most twice the capacity (entries removed out of turn wait for the
   * oldest end to pass them), far below where handles wrap (the config keeps capacity ≤ 10⁸):
   * a list whose removals out of turn leave it spanning that forgets its oldest too, though not
   * full. Only an id taken again after its window removes out of turn, and the ledger forgets
   * entries past their window as it goes, so that takes a capacity's worth of such ids with
   * forgetting held back (a restore, which packs the gaps, would then keep the entry).
   */
  add(accountId: string, orderId: string, strategyId: string, symbol: string, side: Side, closedAt: number): ClosedHandle {
    while (this.count > 0 && (this.count >= this.capacity || this.span() >= 2 * this.capacity)) {
      const held = this.count;
      this.forgetOldest();
      if (this.count === held) throw new Error('ClosedOrders: forgetting the oldest freed nothing');
    }
    const handle = this.tail;
    // The newest end is on a chunk's edge whenever it has no chunk (see clear and passGone).
    if ((handle & OFFSET_MASK) === 0) this.addChunk(handle);
    const chunk = this.chunkOf(handle);
    const at = handle & OFFSET_MASK;
    chunk.accountIds[at] = accountId;
    chunk.orderIds[at] = orderId;
    chunk.strategyIds[at] = strategyId;
    chunk.symbols[at] = symbol;
    chunk.closedAt[at] = closedAt;
    chunk.sides[at] = side === 'BUY' ? BUY : SELL;
    this.tail = (handle + 1) & this.handleMask;
    this.count++;
    return handle;
  }

  forgetOldest(): void {
    if (this.count === 0) return;
    const handle = this.head;
    this.onForget(handle);
    this.remove(handle);
  }

  /**
   * Takes a listed entry out without telling onForget: the caller has put an order that took its
   * id (after its window) in its place first, since a table finds a handle by the id read through it.
   */
  remove(handle: ClosedHandle): void {
    const chunk = this.chunkOf(handle);
    const at = handle & OFFSET_MASK;
    if (chunk.sides[at] === GONE) return;
    // Keeps no text of the order: a chunk kept for reuse would keep it alive.
    chunk.accountIds[at] = chunk.orderIds[at] = chunk.strategyIds[at] = chunk.symbols[at] = '';
    chunk.sides[at] = GONE;
    this.count--;
    if (handle === this.head) this.passGone();
  }

  accountIdOf(handle: ClosedHandle): string {
    return this.chunkOf(handle).accountIds[handle & OFFSET_MASK]!;
  }

  orderIdOf(handle: ClosedHandle): string {
    return this.chunkOf(handle).orderIds[handle & OFFSET_MASK]!;
  }

  strategyIdOf(handle: ClosedHandle): string {
    return this.chunkOf(handle).strategyIds[handle & OFFSET_MASK]!;
  }

  symbolOf(handle: ClosedHandle): string {
    return this.chunkOf(handle).symbols[handle & OFFSET_MASK]!;
  }

  sideOf(handle: ClosedHandle): Side {
    return sideFrom(this.chunkOf(handle).sides[handle & OFFSET_MASK]!);
  }

  closedAtOf(handle: ClosedHandle): number {
    return this.chunkOf(handle).closedAt[handle & OFFSET_MASK]!;
  }

  /** Oldest first, keyed `account|order` (the snapshot's form; ids hold no '|'). */
  entries(): [string, ClosedOrderFields][] {
    const out: [string, ClosedOrderFields][] = [];
    for (let handle = this.head; handle !== this.tail; handle = (handle + 1) & this.handleMask) {
      const chunk = this.chunkOf(handle);
      const at = handle & OFFSET_MASK;
      if (chunk.sides[at] === GONE) continue;
      out.push([`${chunk.accountIds[at]!}|${chunk.orderIds[at]!}`, { strategyId: chunk.strategyIds[at]!, symbol: chunk.symbols[at]!, side: sideFrom(chunk.sides[at]!), closedAt: chunk.closedAt[at]! }]);
    }
    return out;
  }

  /** Drops every entry without telling onForget (a restore replaces the ledger's state whole, its handles with it). */
  clear(): void {
    this.chunks.length = 0;
    this.spareChunk = undefined;
    this.firstChunk = this.head = this.tail = this.count = 0;
  }

  /** Handles from the oldest held to the newest: entries, and those removed that the oldest end has not passed. */
  private span(): number {
    return (this.tail - this.head) & this.handleMask;
  }

  private chunkOf(handle: ClosedHandle): ClosedChunk {
    return this.chunks[((handle >>> CHUNK_BITS) - this.firstChunk) & this.chunkNumberMask]!;
  }

  private addChunk(handle: ClosedHandle): void {
    if (this.chunks.length === 0) this.firstChunk = handle >>> CHUNK_BITS;
    const spare = this.spareChunk;
    this.spareChunk = undefined;
    this.chunks.push(spare ?? new ClosedChunk());
  }

  /** Moves the oldest end past entries taken out, letting go of each chunk it leaves. */
  private passGone(): void {
    while (this.head !== this.tail && this.chunkOf(this.head).sides[this.head & OFFSET_MASK] === GONE) {
      this.head = (this.head + 1) & this.handleMask;
      if ((this.head & OFFSET_MASK) === 0) this.dropFirstChunk();
    }
    // Nothing held: the next entry starts a chunk of its own, and this one goes too.
    if (this.head === this.tail && this.chunks.length > 0 && (this.head & OFFSET_MASK) !== 0) {
      this.head = this.tail = ((this.tail | OFFSET_MASK) + 1) & this.handleMask;
      this.dropFirstChunk();
    }
  }

  private dropFirstChunk(): void {
    // Every entry of it is GONE: its strings were cleared as each went.
    const chunk = this.chunks.shift();
    this.spareChunk ??= chunk;
    this.firstChunk = (this.firstChunk + 1) & this.chunkNumberMask;
  }
}

const sideFrom = (code: number): Side => (code === BUY ? 'BUY' : 'SELL');

/** A snapshot's `account|order` key as its two ids (neither holds '|'). */
export function closedOrderIds(key: string): { accountId: string; orderId: string } {
  const at = key.indexOf('|');
  if (at <= 0 || at === key.length - 1 || key.indexOf('|', at + 1) !== -1) throw new RangeError(`snapshot: closed order key ${JSON.stringify(key)} is not account|order`);
  return { accountId: key.slice(0, at), orderId: key.slice(at + 1) };
}
