import type { TimeRing } from './time-ring.js';

/**
 * A window store's rings in the order of their latest push, oldest first, threaded through the
 * rings themselves (no allocation per push). The sweeper walks it from the oldest and stops at
 * the first ring still counting: what it visits is what it drops, not every key it holds.
 *
 * Moving a ring touches its two neighbours, random rings of a large store (two cache misses,
 * 7 % of a check in bench/ when every push moved one), so a push moves its ring only into a
 * later period of `settleMs` (half the window) than its previous newest entry: the order is by
 * period, and a ring can shadow the ones behind it for one period at most. The rule reads only
 * the ring's own entries, so a replay, or a restore of the list in order, moves rings alike.
 * A ring an atomic batch took an entry back from, or one pushed while the wall clock stood
 * behind, can be out of place too: it goes once the rings before it have.
 */
export class PushOrder {
  oldest: TimeRing | undefined;
  private newest: TimeRing | undefined;

  constructor(readonly settleMs: number) {}

  /** Whether a push at `at` onto a ring whose newest entry is `newest` (NaN: none) moves it. */
  movesFor(newest: number, at: number): boolean {
    return movesOn(this.settleMs, newest, at);
  }

  /** Puts a new ring at the newest end; its pushes keep it there (TimeRing.push). */
  add(ring: TimeRing): void {
    ring.order = this;
    this.link(ring);
  }

  touch(ring: TimeRing): void {
    if (ring === this.newest) return;
    this.unlink(ring);
    this.link(ring);
  }

  remove(ring: TimeRing): void {
    if (ring.order !== this) return;
    this.unlink(ring);
    ring.order = undefined;
  }

  clear(): void {
    for (let ring = this.oldest; ring !== undefined; ) {
      const next: TimeRing | undefined = ring.newer;
      ring.order = ring.older = ring.newer = undefined;
      ring = next;
    }
    this.oldest = this.newest = undefined;
  }

  *oldestFirst(): IterableIterator<TimeRing> {
    for (let ring = this.oldest; ring !== undefined; ring = ring.newer) yield ring;
  }

  private link(ring: TimeRing): void {
    ring.older = this.newest;
    ring.newer = undefined;
    if (this.newest === undefined) this.oldest = ring;
    else this.newest.newer = ring;
    this.newest = ring;
  }

  private unlink(ring: TimeRing): void {
    if (ring.older === undefined) this.oldest = ring.newer;
    else ring.older.newer = ring.newer;
    if (ring.newer === undefined) this.newest = ring.older;
    else ring.newer.older = ring.older;
    ring.older = ring.newer = undefined;
  }
}

/** Whether a push at `at` onto a window whose newest entry is `newest` (NaN: none) moves it to the newest end, in steps of `settleMs`. */
export const movesOn = (settleMs: number, newest: number, at: number): boolean => !(Math.floor(at / settleMs) <= Math.floor(newest / settleMs));
