import type { FastifyRateLimitOptions, FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { LinkedQueue } from '../../domain/linked-queue.js';
import { RateWindow } from './rate-windows.js';

/**
 * @fastify/rate-limit's in-memory store (fixed windows per key and route, the least recently
 * used key forgotten past `cache`), timed on the monotonic clock as the check routes' limiter
 * is. The plugin's own store reads the wall clock: stepped back an hour by NTP, it kept every
 * window counting for that hour, and an operator past the per-token limit was refused the kill
 * switch (PUT /v1/trading-state) until the clock caught up, not until the window ended.
 */
export function monotonicRateStore(cache: number, now: () => number): FastifyRateLimitStoreCtor {
  class MonotonicRateStore implements FastifyRateLimitStore {
    private readonly windows = new Map<string, RateWindow>();
    /**
     * Least recently used first. A list, not the Map's insertion order: V8 steps over the holes
     * deletions leave in a Map, so finding its first key cost a flood of new keys 8 µs a request
     * at the default cache of 10,000 (see RateWindows).
     */
    private readonly recency = new LinkedQueue<RateWindow>();

    constructor(_options?: FastifyRateLimitOptions) {}

    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      const at = now();
      let window = this.windows.get(key);
      if (window === undefined) {
        window = new RateWindow(key, 0, at + timeWindow);
        this.windows.set(key, window);
      } else {
        this.recency.unlink(window);
        if (window.hasRunOut(at)) {
          window.count = 0;
          window.endsAt = at + timeWindow;
        }
      }
      window.count++;
      this.recency.append(window);
      if (this.windows.size > cache) {
        const oldest = this.recency.oldest!;
        this.recency.unlink(oldest);
        this.windows.delete(oldest.key);
      }
      callback(null, { current: window.count, ttl: Math.max(0, window.endsAt - at) });
    }

    /** A store per route, as the plugin's own store makes: each route counts apart. */
    child(): FastifyRateLimitStore {
      return new MonotonicRateStore();
    }
  }
  return MonotonicRateStore;
}
