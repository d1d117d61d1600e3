import type { FastifyRateLimitOptions, FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';

interface Window {
  count: number;
  startedAt: number;
}

/**
 * @fastify/rate-limit's in-memory store (fixed windows per key and route, the least recently
 * used key forgotten past `cache`), timed on the monotonic clock as the check routes' limiter
 * is. The plugin's own store reads the wall clock: stepped back an hour by NTP, it kept every
 * window counting for that hour, and an operator past the per-token limit was refused the kill
 * switch (PUT /v1/trading-state) until the clock caught up, not until the window ended.
 */
export function monotonicRateStore(cache: number, now: () => number): FastifyRateLimitStoreCtor {
  class MonotonicRateStore implements FastifyRateLimitStore {
    /** Least recently used first (Map order: a key used again is moved to the end). */
    private readonly windows = new Map<string, Window>();

    constructor(_options?: FastifyRateLimitOptions) {}

    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      const at = now();
      let window = this.windows.get(key);
      if (window !== undefined) this.windows.delete(key);
      if (window === undefined || window.startedAt + timeWindow <= at) window = { count: 0, startedAt: at };
      window.count++;
      this.windows.set(key, window);
      if (this.windows.size > cache) this.windows.delete(this.windows.keys().next().value!);
      callback(null, { current: window.count, ttl: Math.max(0, window.startedAt + timeWindow - at) });
    }

    /** A store per route, as the plugin's own store makes: each route counts apart. */
    child(): FastifyRateLimitStore {
      return new MonotonicRateStore();
    }
  }
  return MonotonicRateStore;
}
