import { LinkedQueue } from '../../domain/linked-queue.js';

/** One key's fixed window: the requests counted in it, and when it runs out. */
export class RateWindow {
  /** The neighbours in the one list that keeps it (RateWindows', or the per-token store's). */
  older: RateWindow | undefined = undefined;
  newer: RateWindow | undefined = undefined;

  constructor(
    readonly key: string,
    public count: number,
    public endsAt: number,
  ) {}

  hasRunOut(now: number): boolean {
    return this.endsAt <= now;
  }
}

/**
 * Fixed rate windows per key (a window starts at a key's first request and lasts
 * `timeWindowMs`; the count restarts after it), at most `capacity` keys, kept in the order they
 * run out.
 *
 * Making room must cost the same however many windows are kept: while every kept window still
 * counts, each request naming a new key is refused, and a walk over the table per refusal would
 * make a flood of new keys a cheap way to burn the CPU. All windows last as long, so a window
 * moved to the newest end whenever it (re)starts keeps the list in the order windows run out
 * (given a clock that does not go back), and only the oldest ever needs looking at. The order is
 * a linked list rather than a Map's insertion order: V8 steps over the holes that deletions leave
 * in a Map, so even finding a Map's first entry can cost as much as the walk.
 */
export class RateWindows {
  private readonly byKey = new Map<string, RateWindow>();
  private readonly order = new LinkedQueue<RateWindow>();

  constructor(
    private readonly timeWindowMs: number,
    readonly capacity: number,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  /** The key's window, whether it still counts or has run out. */
  get(key: string): RateWindow | undefined {
    return this.byKey.get(key);
  }

  /**
   * Counts `units` against `key`'s window, starting a new one if it has none or it has run out.
   * A key the table lacks needs room first (makeRoom).
   */
  take(key: string, units: number, now: number): RateWindow {
    const window = this.byKey.get(key);
    if (window === undefined) {
      const started = new RateWindow(key, units, now + this.timeWindowMs);
      this.byKey.set(key, started);
      this.order.append(started);
      return started;
    }
    if (window.hasRunOut(now)) {
      window.count = units;
      window.endsAt = now + this.timeWindowMs;
      this.order.unlink(window);
      this.order.append(window);
    } else {
      window.count += units;
    }
    return window;
  }

  /**
   * Makes room for `newKeys` (at most `capacity`) more keys by forgetting windows that have run
   * out, oldest first; a run-out window would restart its count anyway. A window that still
   * counts is never forgotten, as that would reset its limit. Answers undefined when there is
   * room, else when the oldest kept window runs out (the earliest there can be room).
   */
  makeRoom(newKeys: number, now: number): number | undefined {
    let toForget = this.byKey.size + newKeys - this.capacity;
    for (; toForget > 0; toForget--) {
      const oldest = this.order.oldest;
      if (oldest === undefined) return Number.POSITIVE_INFINITY;
      if (!oldest.hasRunOut(now)) return oldest.endsAt;
      this.order.unlink(oldest);
      this.byKey.delete(oldest.key);
    }
    return undefined;
  }
}
