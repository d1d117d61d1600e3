import type { PushOrder } from './push-order.js';

/** Entries of a ring's first buffer (a ring's second entry makes it). */
const FIRST_BUFFER = 8;

/**
 * Timestamps of accepted orders in arrival order, for trailing-window counts. The first entry
 * is held inline: most duplicate-order keys see one order and are swept, and sparing them a
 * buffer halves what every new key allocates. From the second entry on, a circular buffer
 * that starts small and doubles up to `maxEntries`; aged-out entries are dropped from the front
 * at journalled changes only (see trim). Once full, the oldest entry is overwritten: the count
 * then saturates at `maxEntries`, which the limit book keeps above every windowed threshold so
 * a saturated count still lands in the top severity band.
 */
export class TimeRing {
  /** The only entry while `buffer` is undefined. */
  private single = 0;
  private buffer: Float64Array | undefined;
  private head = 0;
  private count = 0;
  /**
   * How many of the newest entries are each at or after the one before: all of them, unless the
   * wall clock stepped back between pushes, and all again once the entries before the step have
   * been trimmed. That tail is counted by a search, the front before it by a scan: a check counts
   * without trimming, so a key whose orders are rejected for a while keeps the entries that
   * aged out meanwhile, up to the whole ring.
   */
  private sortedTail = 0;
  /**
   * How far a count last found the run at the front of the unsorted part, and for which cutoff:
   * a later count with a cutoff as late goes on from there. Without it, a key whose orders are
   * all rejected after a clock step back (nothing trims it) rescans the whole run on every count,
   * ~100 µs at 100,000 entries; with it, each entry is scanned once while the cutoff rises. A
   * cache, made only for a ring out of order, and dropped whenever the front moves.
   */
  private frontRun: FrontRun | undefined;
  /** The store's push order this ring is kept in, and its neighbours there (see PushOrder). */
  order: PushOrder | undefined;
  older: TimeRing | undefined;
  newer: TimeRing | undefined;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.count;
  }

  /** The latest entry pushed and still held, NaN when none is. */
  get newest(): number {
    if (this.count === 0) return Number.NaN;
    const buffer = this.buffer;
    return buffer === undefined ? this.single : buffer[(this.head + this.count - 1) % buffer.length]!;
  }

  /**
   * Entries strictly newer than `cutoff` (the window is (now − windowMs, now]): those after the
   * run at the front at or before it, which `trim` would drop. Changes nothing a count or a
   * snapshot reads (only the frontRun cache): a check counts without trimming, since it may be
   * rejected and nothing it does is then journalled, and a replay must find every ring as the
   * live engine left it (see trim).
   */
  countAfter(cutoff: number): number {
    const buffer = this.buffer;
    if (buffer === undefined) return this.count === 1 && this.single <= cutoff ? 0 : this.count;
    const { head, count } = this;
    const length = buffer.length;
    if (count === 0 || buffer[head]! > cutoff) return count;
    // The entries before the sorted tail, scanned: the run ends at the first one after the cutoff.
    const unsorted = count - this.sortedTail;
    if (unsorted > 1) {
      const known = this.frontRun;
      let i = known !== undefined && cutoff >= known.cutoff ? Math.max(1, Math.min(known.length, unsorted)) : 1;
      for (let at = head + i; i < unsorted; i++, at++) if (buffer[at < length ? at : at - length]! > cutoff) break;
      const run = (this.frontRun ??= new FrontRun());
      run.length = i;
      run.cutoff = cutoff;
      if (i < unsorted) return count - i;
    }
    // Every entry before `start` is at or before the cutoff; from it on they are in order. The
    // first one after the cutoff, by its place from the front: galloping (usually an entry or two
    // have aged out since the last trim, in the front's cache line), then a binary search.
    const start = Math.max(unsorted, 1);
    let low = start;
    let high = start;
    for (let stride = 1; ; stride *= 2) {
      if (high >= count) {
        high = count;
        break;
      }
      const at = head + high;
      if (buffer[at < length ? at : at - length]! > cutoff) break;
      low = high + 1;
      high = start + stride;
    }
    while (low < high) {
      const middle = (low + high) >>> 1;
      const at = head + middle;
      if (buffer[at < length ? at : at - length]! <= cutoff) low = middle + 1;
      else high = middle;
    }
    return count - low;
  }

  /**
   * Drops the run of entries at the front at or before `cutoff` (the window slid on) and answers
   * how many are left. Only at journalled changes, which replay repeats at the same times: an
   * accepted order's push, a batch's take-back. A trim that is not journalled (a rejected check's,
   * a sweep's that drops nothing) would make the ring differ from a replica's once the wall
   * clock steps back, since entries the one dropped the other would count again.
   */
  trim(cutoff: number): number {
    const buffer = this.buffer;
    if (buffer === undefined) {
      if (this.count === 1 && this.single <= cutoff) this.count = 0;
      return this.count;
    }
    const before = this.count;
    while (this.count > 0 && buffer[this.head]! <= cutoff) {
      this.head = (this.head + 1) % buffer.length;
      this.count--;
    }
    if (this.count !== before) this.frontRun = undefined;
    if (this.sortedTail > this.count) this.sortedTail = this.count;
    return this.count;
  }

  push(at: number): void {
    const newest = this.newest;
    const isInOrder = this.count === 0 || at >= newest;
    const order = this.order;
    if (order !== undefined && order.movesFor(newest, at)) order.touch(this);
    let buffer = this.buffer;
    if (buffer === undefined) {
      if (this.count === 0 || this.maxEntries === 1) {
        this.single = at;
        this.count = 1;
        this.sortedTail = 1;
        return;
      }
      buffer = new Float64Array(Math.min(FIRST_BUFFER, this.maxEntries));
      buffer[0] = this.single;
      this.buffer = buffer;
      this.head = 0;
    }
    if (this.count === buffer.length) {
      if (buffer.length < this.maxEntries) {
        buffer = this.grow(buffer);
      } else {
        this.head = (this.head + 1) % buffer.length;
        this.count--;
        this.frontRun = undefined;
      }
    }
    buffer[(this.head + this.count) % buffer.length] = at;
    this.count++;
    // An overwrite above dropped the oldest entry, which may have been the tail's first.
    this.sortedTail = isInOrder ? Math.min(this.sortedTail + 1, this.count) : 1;
  }

  /**
   * Removes the newest entry equal to `at`: undoes a push when an atomic batch rolls back,
   * even if other requests pushed after it while the batch was being processed in slices.
   */
  removeNewest(at: number): void {
    const buffer = this.buffer;
    if (buffer === undefined) {
      if (this.count === 1 && this.single === at) this.count = this.sortedTail = 0;
      return;
    }
    const length = buffer.length;
    for (let i = this.count - 1; i >= 0; i--) {
      if (buffer[(this.head + i) % length] !== at) continue;
      for (let j = i; j < this.count - 1; j++) buffer[(this.head + j) % length] = buffer[(this.head + j + 1) % length]!;
      this.frontRun = undefined;
      // Taking an entry out of the sorted tail leaves it sorted, one shorter.
      if (i >= this.count - this.sortedTail) this.sortedTail--;
      this.count--;
      return;
    }
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
    this.sortedTail = 0;
    this.frontRun = undefined;
  }

  /** Entries it holds before its buffer grows: 1 while the entry is inline (for tests). */
  get capacity(): number {
    return this.buffer?.length ?? 1;
  }

  /**
   * Empty, as a ring made afresh, for a store that reuses its rings: a first buffer is kept (it
   * is what a second entry would allocate), a grown one goes, so a spare ring holds no more
   * memory than a ring of two entries.
   */
  reset(): void {
    this.clear();
    this.single = 0;
    if (this.buffer !== undefined && this.buffer.length > FIRST_BUFFER) this.buffer = undefined;
    this.order = this.older = this.newer = undefined;
  }

  /** Oldest first, for snapshots. */
  toArray(): number[] {
    const buffer = this.buffer;
    if (buffer === undefined) return this.count === 1 ? [this.single] : [];
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) out.push(buffer[(this.head + i) % buffer.length]!);
    return out;
  }

  /** The frontRun cache's length, 0 without one (for tests). */
  get knownFrontRun(): number {
    return this.frontRun?.length ?? 0;
  }

  private grow(buffer: Float64Array): Float64Array {
    const next = new Float64Array(Math.min(buffer.length * 2, this.maxEntries));
    for (let i = 0; i < this.count; i++) next[i] = buffer[(this.head + i) % buffer.length]!;
    this.buffer = next;
    this.head = 0;
    return next;
  }
}

/** See TimeRing.frontRun: entries [0, length) of the ring are each at or before `cutoff`. */
class FrontRun {
  length = 0;
  cutoff = Number.NEGATIVE_INFINITY;
}
