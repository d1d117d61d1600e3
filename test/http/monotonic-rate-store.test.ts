import Fastify from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { monotonicRateStore } from '../../src/http/plugins/monotonic-rate-store.js';
import { perToken, registerRateLimit } from '../../src/http/plugins/rate-limit.js';

function counter(cache: number) {
  let at = 1_000;
  const Store = monotonicRateStore(cache, () => at);
  // The plugin passes its options and a route's; this store needs neither.
  const store = new Store({}).child({} as never);
  const incr = (key: string, timeWindow = 1_000): { current: number; ttl: number } => {
    let result: { current: number; ttl: number } | undefined;
    store.incr(key, (error, answer) => {
      expect(error).toBeNull();
      result = answer;
    }, timeWindow, 10);
    return result!;
  };
  return { incr, advance: (ms: number) => (at += ms) };
}

describe('the monotonic store of the per-token rate limit', () => {
  it('counts a key in a fixed window that starts at its first request and restarts once the window has passed', () => {
    const { incr, advance } = counter(10);
    expect(incr('a')).toEqual({ current: 1, ttl: 1_000 });
    advance(999);
    expect(incr('a')).toEqual({ current: 2, ttl: 1 });
    advance(1);
    expect(incr('a')).toEqual({ current: 1, ttl: 1_000 });
  });

  it('keeps at most `cache` keys, forgetting the least recently used', () => {
    const { incr } = counter(2);
    incr('a');
    incr('b');
    incr('a');
    incr('c'); // b is the least recently used: it goes
    expect(incr('a').current).toBe(3);
    expect(incr('b').current).toBe(1);
  });

  it('gives each route its own windows', () => {
    const Store = monotonicRateStore(10, () => 0);
    const parent = new Store({});
    const [one, two] = [parent.child({} as never), parent.child({} as never)];
    const current = (store: typeof one): number => {
      let value = 0;
      store.incr('k', (_error, result) => (value = result!.current), 1_000, 10);
      return value;
    };
    expect([current(one), current(one), current(two)]).toEqual([1, 2, 1]);
  });
});

describe('per-token rate limits over HTTP, with the wall clock stepped back', () => {
  afterEach(() => vi.restoreAllMocks());

  it('refuses a token past its limit only until its window has run on the monotonic clock', async () => {
    let monotonic = 0;
    const config = { enabled: true, cacheSize: 100, perToken: { max: 1, timeWindowMs: 60_000 }, perStrategy: { max: 1, timeWindowMs: 60_000 } };
    const app = Fastify();
    await registerRateLimit(app, config, () => undefined, () => monotonic);
    app.put('/v1/trading-state', { config: { rateLimit: perToken(config) } }, () => ({ ok: true }));
    try {
      expect((await app.inject({ method: 'PUT', url: '/v1/trading-state' })).statusCode).toBe(200);
      // NTP steps the wall clock back an hour; the window must still end a minute after it began.
      const wall = Date.now();
      vi.spyOn(Date, 'now').mockReturnValue(wall - 3_600_000);
      expect((await app.inject({ method: 'PUT', url: '/v1/trading-state' })).statusCode).toBe(429);
      monotonic += 60_000;
      expect((await app.inject({ method: 'PUT', url: '/v1/trading-state' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
