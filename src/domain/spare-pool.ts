/**
 * Objects let go of, kept to be made again for the next ones instead of allocated: what the
 * hot path makes per order and keeps for seconds (open orders, closed ones) is promoted before
 * it dies, so a fresh object costs its allocation, a copy into the old generation, and a
 * write-barrier call for every link to it from older objects; a spare is old already. One is
 * kept only while the spares are fewer than the objects in use, so the spares are at most half
 * the most ever in use, which that structure's own capacity bounds.
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

  clear(): void {
    this.spares.length = 0;
  }
}
