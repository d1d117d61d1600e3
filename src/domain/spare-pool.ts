/**
 * Objects let go of, kept to be made again for the next ones instead of allocated: what the
 * hot path makes per order and keeps for seconds (open orders) is promoted before
 * it dies, so a fresh object costs its allocation, a copy into the old generation, and a
 * write-barrier call for every link to it from older objects; a spare is old already. One is
 * kept only while the spares are fewer than the objects in use, so the spares are at most half
 * the most ever in use, which that structure's own capacity bounds; and the sweeper lets go of
 * those past the number in use (trimTo), so that after a burst they go as their objects did.
 */
export class SparePool<T> {
  private readonly spares: T[] = [];

  get size(): number {
    return this.spares.length;
  }

  /** A spare to make again, or undefined when none is kept. */
  take(): T | undefined {
    return this.spares.pop();
  }

  /** Keeps `item` (already let go of: nothing else holds it) if the spares are fewer than `inUse`. */
  keep(item: T, inUse: number): void {
    if (this.spares.length < inUse) this.spares.push(item);
  }

  /** Lets go of the spares past `inUse` (a sweep's: so that after a burst they go as their objects do). */
  trimTo(inUse: number): void {
    if (this.spares.length > inUse) this.spares.length = inUse;
  }

  clear(): void {
    this.spares.length = 0;
  }
}

/** An object's public fields writable, for the `renew` of a spare: readonly everywhere else. */
export type Renewable<T> = { -readonly [K in keyof T]: T[K] };
