import { describe, expect, it, vi } from 'vitest';
import { CheckRateLimit, longDuration } from '../../src/http/plugins/rate-limit.js';
import { ProblemError } from '../../src/http/problems.js';
import { anOrder, appPerTest, call, check, expectProblem } from './http-helpers.js';
import { admitsSingle, batch as admitBatch, fakeExchange, limitConfig as config } from './limiter-exchange.js';

const TINY = { perStrategy: { max: 2, timeWindowMs: 60_000 }, perToken: { max: 2, timeWindowMs: 60_000 } };
const startApp = appPerTest();

const RATE_HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'] as const;
const rateHeaders = (headers: Record<string, unknown>) => Object.fromEntries(RATE_HEADERS.map((h) => [h, headers[h]]));

describe('the check routes rate limit', () => {
  it('answers with the same headers, status and problem as the plugin does on every other route', async () => {
    const { server } = await startApp({ rateLimit: TINY });
    const prices = () => call(server, 'PUT', '/v1/market-data', 'gateway', { prices: [{ symbol: 'AAPL', price: 100 }] });
    const checks = () => check(server, anOrder({ strategyId: 'S-1', orderId: `o-${Math.random()}` }));
    for (let i = 0; i < 4; i++) {
      const [ours, plugin] = [await checks(), await prices()];
      expect(ours.statusCode).toBe(plugin.statusCode);
      expect(rateHeaders(ours.headers)).toEqual(rateHeaders(plugin.headers));
      if (i >= 2) expect(expectProblem(ours, 429)).toEqual({ ...expectProblem(plugin, 429), instance: '/v1/checks' });
    }
  });

  it('limits a batch per token, as before', async () => {
    const { server } = await startApp({ rateLimit: TINY });
    const batch = () => call(server, 'POST', '/v1/checks/batch', 'gateway', { orders: [anOrder({ orderId: `b-${Math.random()}` })] });
    expect((await batch()).headers['x-ratelimit-remaining']).toBe('1');
    expect((await batch()).headers['x-ratelimit-remaining']).toBe('0');
    const limited = await batch();
    expect(expectProblem(limited, 429).detail).toBe('rate limit of 2 per 1 minute exceeded; retry in 1 minute');
    expect(limited.headers['retry-after']).toBe('60');
  });
});

describe('CheckRateLimit', () => {
  it('times its windows on the monotonic clock: a wall clock stepped an hour forward or back changes nothing', () => {
    let wall = Date.now();
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => wall);
    try {
      const limit = CheckRateLimit.perStrategy(config(2, 60_000, 100), () => undefined, () => performance.now())!;
      expect([admitsSingle(limit, 'A'), admitsSingle(limit, 'A')]).toEqual([true, true]);
      wall += 3_600_000;
      expect(admitsSingle(limit, 'A')).toBe(false);
      wall -= 7_200_000;
      expect(admitsSingle(limit, 'A')).toBe(false);
      expect(admitsSingle(limit, 'B')).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it('counts in a fixed window that starts at the first request of a key, and restarts after it', () => {
    let now = 1_000_000;
    let limited = 0;
    const limit = CheckRateLimit.perStrategy(config(2, 1_000, 100), () => limited++, () => now)!;
    const admit = (strategy: string) => {
      const { request, reply, headers } = fakeExchange(strategy);
      try {
        limit.admit(request, reply);
        return { ok: true, headers };
      } catch (error) {
        expect(error).toBeInstanceOf(ProblemError);
        return { ok: false, headers, detail: (error as Error).message };
      }
    };
    expect(admit('A')).toEqual({ ok: true, headers: { 'x-ratelimit-limit': 2, 'x-ratelimit-remaining': 1, 'x-ratelimit-reset': 1 } });
    now += 400;
    expect(admit('A').headers['x-ratelimit-remaining']).toBe(0);
    now += 100;
    expect(admit('A')).toEqual({
      ok: false,
      headers: { 'x-ratelimit-limit': 2, 'x-ratelimit-remaining': 0, 'x-ratelimit-reset': 1, 'retry-after': 1 },
      detail: 'rate limit of 2 per 1 second exceeded; retry in 1 second',
    });
    expect(limited).toBe(1);
    expect(admit('B').ok).toBe(true);
    now += 500; // 1,000 ms after A's first request: a new window
    expect(admit('A')).toEqual({ ok: true, headers: { 'x-ratelimit-limit': 2, 'x-ratelimit-remaining': 1, 'x-ratelimit-reset': 1 } });
  });

  it('keeps at most its capacity of keys, forgetting only windows that ran out, the first to run out first', () => {
    let now = 0;
    const limit = CheckRateLimit.perStrategy(config(1, 60_000, 2), () => undefined, () => now)!;
    const admits = (strategy: string) => admitsSingle(limit, strategy);
    expect(admits('A')).toBe(true);
    now += 30_000;
    expect(admits('B')).toBe(true);
    // Full, and both windows still count: forgetting one would reset its limit, so C is refused.
    expect(admits('C')).toBe(false);
    expect(admits('A')).toBe(false);
    now += 30_000; // A's window has run out, B's has not
    expect(admits('C')).toBe(true); // takes A's place, though A was counted (refused) after B
    expect(admits('B')).toBe(false); // B's window was kept
    expect(admits('D')).toBe(false); // B and C both still count
    now += 30_000; // B's has run out
    expect(admits('D')).toBe(true);
  });

  it('keys by token when the body names no strategy, and is absent when rate limits are off', () => {
    const limit = CheckRateLimit.perStrategy(config(1, 60_000, 10), () => undefined, () => 0)!;
    limit.admit(fakeExchange(undefined, 'gw').request, fakeExchange(undefined, 'gw').reply);
    expect(() => limit.admit(fakeExchange(undefined, 'gw').request, fakeExchange(undefined, 'gw').reply)).toThrow(ProblemError);
    expect(() => limit.admit(fakeExchange('gw').request, fakeExchange('gw').reply)).not.toThrow();
    expect(CheckRateLimit.perStrategy({ ...config(1, 1, 1), enabled: false }, () => undefined, () => 0)).toBeUndefined();
    expect(CheckRateLimit.perToken({ ...config(1, 1, 1), enabled: false }, () => undefined, () => 0)).toBeUndefined();
  });

  it('admits a batch one unit per order against the same windows, all or none, and says when the refusing window restarts', () => {
    let now = 1_000_000;
    let limited = 0;
    const limit = CheckRateLimit.perStrategy(config(3, 10_000, 100), () => limited++, () => now)!;
    const batch = (...strategies: string[]) => {
      const { reply, headers } = fakeExchange(undefined);
      try {
        limit.admitOrders(reply, strategies.map((strategyId) => ({ strategyId })));
        return { ok: true, headers };
      } catch (error) {
        expect(error).toBeInstanceOf(ProblemError);
        return { ok: false, headers, detail: (error as Error).message };
      }
    };
    const single = (strategy: string) => admitsSingle(limit, strategy);
    expect(batch('A', 'A')).toEqual({ ok: true, headers: {} }); // an admitted batch leaves the headers to the token's limit
    now += 4_000;
    expect(batch('B', 'B', 'B').ok).toBe(true); // B's window starts 4 s after A's
    now += 1_000;
    expect(batch('A', 'A', 'B')).toEqual({
      ok: false,
      // Both A and B are over; B's window restarts last (in 9 s), so that is when to retry.
      headers: { 'x-ratelimit-limit': 3, 'x-ratelimit-remaining': 0, 'x-ratelimit-reset': 9, 'retry-after': 9 },
      detail: 'rate limit of 3 per 10 seconds exceeded for strategy B: the batch holds 1 of its orders, 0 can pass now; retry in 9 seconds',
    });
    expect(limited).toBe(1);
    expect(single('A')).toBe(true); // the refused batch took nothing: A still had one unit
    expect(single('A')).toBe(false);
    now += 5_000; // A's window has run out: a batch starts a new one
    expect(batch('A', 'A', 'A').ok).toBe(true);
    expect(single('A')).toBe(false);
    // More of C's orders than its limit allows at all: refused, with nothing to wait for.
    const tooMany = batch('C', 'C', 'C', 'C');
    expect(tooMany).toMatchObject({ ok: false, headers: { 'x-ratelimit-remaining': 3 } });
    expect(tooMany.headers).not.toHaveProperty('retry-after');
    expect(limited).toBe(4);
  });

  it("cannot be made to forget other strategies' windows by a batch naming new ones while every kept window still counts", () => {
    let now = 0;
    const limit = CheckRateLimit.perStrategy(config(1, 60_000, 2), () => undefined, () => now)!;
    expect(admitsSingle(limit, 'MM-1')).toBe(true);
    expect(admitsSingle(limit, 'A')).toBe(true);
    expect(admitsSingle(limit, 'MM-1')).toBe(false);
    const { reply, headers } = fakeExchange(undefined);
    expect(() => limit.admitOrders(reply, [{ strategyId: 'X' }, { strategyId: 'Y' }])).toThrow(/rateLimit\.cacheSize/);
    expect(headers['retry-after']).toBe(60);
    expect(admitsSingle(limit, 'MM-1')).toBe(false); // still over its limit
    now += 60_000; // the kept windows have run out: they make room
    expect(() => limit.admitOrders(fakeExchange(undefined).reply, [{ strategyId: 'X' }])).not.toThrow();
  });

  it('words durations as the plugin does', () => {
    expect([500, 1_000, 1_400, 1_500, 45_000, 60_000, 90_000, 3_600_000, 86_400_000 * 2].map(longDuration)).toEqual([
      '500 ms',
      '1 second',
      '1 second',
      '2 seconds',
      '45 seconds',
      '1 minute',
      '2 minutes',
      '1 hour',
      '2 days',
    ]);
  });
});

describe('what a batch names against the per-strategy table', () => {
  it('refuses a batch that can never pass without retry-after, even when another of its strategies would pass later', () => {
    let now = 1_000_000;
    const limit = CheckRateLimit.perStrategy(config(3, 10_000, 100), () => undefined, () => now)!;
    expect(admitBatch(limit, 'S1').ok).toBe(true);
    now += 4_000;
    expect(admitBatch(limit, 'S2', 'S2', 'S2').ok).toBe(true);
    now += 1_000;
    // 4 orders of S1 (limit 3): no wait makes it pass; S2 (full, restarting later) does not decide.
    const refused = admitBatch(limit, 'S1', 'S1', 'S1', 'S1', 'S2');
    expect({ ok: refused.ok, retryAfter: refused.headers['retry-after'], saysSplit: /split the batch/.test(refused.detail ?? '') }).toEqual({ ok: false, retryAfter: undefined, saysSplit: true });
  });

  it('refuses a batch naming more strategies than the table keeps, without retry-after', () => {
    const limit = CheckRateLimit.perStrategy(config(10, 60_000, 2), () => undefined, () => 0)!;
    const refused = admitBatch(limit, 'X', 'Y', 'Z');
    expect({ ok: refused.ok, retryAfter: refused.headers['retry-after'] }).toEqual({ ok: false, retryAfter: undefined });
    expect(refused.detail).toMatch(/names 3 strategies.*split the batch/);
  });

  it("restarts the batch's own run-out window in one row, so the table stays within its capacity", () => {
    let now = 0;
    const limit = CheckRateLimit.perStrategy(config(10, 1_000, 2), () => undefined, () => now)!;
    expect(admitBatch(limit, 'A').ok).toBe(true);
    expect(admitBatch(limit, 'B').ok).toBe(true);
    now += 1_000; // both windows have run out
    expect(admitBatch(limit, 'A', 'C').ok).toBe(true); // B makes room for C; A restarts in place
    expect((limit as unknown as { windows: Map<string, unknown> }).windows.size).toBe(2);
  });
});
