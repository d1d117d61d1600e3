/**
 * Timestamps of accepted orders in arrival order, for trailing-window counts. A circular
 * buffer that starts small and doubles up to `maxEntries`; expired entries are dropped from
 * the front as the window slides. Once full, the oldest entry is overwritten: the count then
 * saturates at `maxEntries`, which the limit book keeps above every windowed threshold so a
 * saturated count still lands in the top severity band.
 */
export class TimeRing {
  private buffer: Float64Array;
  private head = 0;
  private count = 0;

  constructor(private readonly maxEntries: number) {
    this.buffer = new Float64Array(Math.min(8, maxEntries));
  }

  get size(): number {
    return this.count;
  }

  /** Entries strictly newer than `cutoff` (the window is (now − windowMs, now]). */
  countAfter(cutoff: number): number {
    while (this.count > 0 && this.buffer[this.head]! <= cutoff) {
      this.head = (this.head + 1) % this.buffer.length;
      this.count--;
    }
    return this.count;
  }

  push(at: number): void {
    if (this.count === this.buffer.length) {
      if (this.buffer.length < this.maxEntries) {
        this.grow();
      } else {
        this.head = (this.head + 1) % this.buffer.length;
        this.count--;
      }
    }
    this.buffer[(this.head + this.count) % this.buffer.length] = at;
    this.count++;
  }

  /**
   * Removes the newest entry equal to `at`: undoes a push when an atomic batch rolls back,
   * even if other requests pushed after it while the batch was being processed in slices.
   */
  removeNewest(at: number): void {
    const length = this.buffer.length;
    for (let i = this.count - 1; i >= 0; i--) {
      if (this.buffer[(this.head + i) % length] !== at) continue;
      for (let j = i; j < this.count - 1; j++) this.buffer[(this.head + j) % length] = this.buffer[(this.head + j + 1) % length]!;
      this.count--;
      return;
    }
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  /** Oldest first, for snapshots. */
  toArray(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.buffer[(this.head + i) % this.buffer.length]!);
    return out;
  }

  static from(values: readonly number[], maxEntries: number): TimeRing {
    const ring = new TimeRing(maxEntries);
    for (const value of values) ring.push(value);
    return ring;
  }

  private grow(): void {
    const next = new Float64Array(Math.min(this.buffer.length * 2, this.maxEntries));
    for (let i = 0; i < this.count; i++) next[i] = this.buffer[(this.head + i) % this.buffer.length]!;
    this.buffer = next;
    this.head = 0;
  }
}
