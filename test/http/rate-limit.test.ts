import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/domain/engine.js';
import { testApp } from '../support/app-fixtures.js';
import { anOrder, call, check, expectProblem } from './http-helpers.js';

type TestApp = Awaited<ReturnType<typeof testApp>>;
let app: TestApp | undefined;
afterEach(async () => {
  await app?.server.close();
  app = undefined;
});

const TINY = { perStrategy: { max: 2, timeWindowMs: 60_000 }, perToken: { max: 2, timeWindowMs: 60_000 } };

describe('rate limiting (@fastify/rate-limit)', () => {
  it('limits checks per strategy: the third gets 429 with retry-after, another strategy still passes', async () => {
    app = await testApp({ rateLimit: TINY });
    const { server, engine } = app;
    for (let i = 0; i < 2; i++) expect((await check(server, anOrder({ strategyId: 'S-1' }))).json<CheckResult>().decision).toBe('ACCEPT');

    const limited = await check(server, anOrder({ strategyId: 'S-1' }));
    const problem = expectProblem(limited, 429);
    expect(problem.type).toBe('/problems/rate-limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(engine.ledger.openOrderCount).toBe(2);

    expect((await check(server, anOrder({ strategyId: 'S-2' }))).json<CheckResult>().decision).toBe('ACCEPT');
    expect(engine.ledger.openOrderCount).toBe(3);
    expect((await call(server, 'GET', '/metrics', undefined)).body).toMatch(/^ulc_rate_limited_total 1$/m);
  });

  it('times every window on the app\'s monotonic clock: a check, a batch and another route pass again once it has run a window on', async () => {
    app = await testApp({ rateLimit: TINY });
    const { server, clock } = app;
    for (let i = 0; i < 2; i++) expect((await check(server, anOrder({ strategyId: 'S-1' }))).statusCode).toBe(200);
    for (let i = 0; i < 2; i++) expect((await call(server, 'GET', '/v1/limits', 'ops')).statusCode).toBe(200);
    const batch = () => call(server, 'POST', '/v1/checks/batch', 'gateway', { orders: [anOrder({ strategyId: 'S-2' })] });
    for (let i = 0; i < 2; i++) expect((await batch()).statusCode).toBe(200);
    expect([(await check(server, anOrder({ strategyId: 'S-1' }))).statusCode, (await call(server, 'GET', '/v1/limits', 'ops')).statusCode, (await batch()).statusCode]).toEqual([429, 429, 429]);
    // The monotonic clock alone moves on: windows timed on the wall clock would still be counting.
    clock.mono += 60_000;
    expect([(await check(server, anOrder({ strategyId: 'S-1' }))).statusCode, (await call(server, 'GET', '/v1/limits', 'ops')).statusCode, (await batch()).statusCode]).toEqual([200, 200, 200]);
  });

  it('limits other routes per token: a third read by one token gets 429, another token still passes', async () => {
    app = await testApp({ rateLimit: TINY });
    const { server } = app;
    for (let i = 0; i < 2; i++) expect((await call(server, 'GET', '/v1/limits', 'ops')).statusCode).toBe(200);
    const limited = await call(server, 'GET', '/v1/limits', 'ops');
    expectProblem(limited, 429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect((await call(server, 'GET', '/v1/limits', 'admin')).statusCode).toBe(200);
  });

  // Validation is the costly part of a bad request; counting only the ones that pass it would leave a flood of bad bodies free.
  it('counts a request against its token before reading its body: bad bodies are limited too, and the one refused is not read', async () => {
    app = await testApp({ rateLimit: TINY });
    const { server, engine } = app;
    const bad = { prices: [{ symbol: 'AAPL', price: 'x' }] };
    for (let i = 0; i < 2; i++) expectProblem(await call(server, 'PUT', '/v1/market-data', 'gateway', bad), 400);
    const limited = await call(server, 'PUT', '/v1/market-data', 'gateway', { prices: [{ symbol: 'AAPL', price: 100 }] });
    expectProblem(limited, 429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(engine.ledger.markets.get('AAPL')?.refPrice ?? Number.NaN).toBeNaN();
    // Not read: a body that is not even JSON gets the 429, not the 400 its parse would give.
    expectProblem(await call(server, 'PUT', '/v1/market-data', 'gateway', '{"prices": not json', { 'content-type': 'application/json' }), 429);
    // Per route: a token's reads do not use up what its kill switch may send.
    const reads = [];
    for (let i = 0; i < 3; i++) reads.push((await call(server, 'GET', '/v1/limits', 'admin')).statusCode);
    expect(reads).toEqual([200, 200, 429]);
    expect((await call(server, 'PUT', '/v1/trading-state', 'admin', { scope: { type: 'global' }, state: 'HALTED', reason: 'test' })).statusCode).toBe(200);
  });

  it('limits batches per token too, whatever strategies they carry', async () => {
    app = await testApp({ rateLimit: TINY });
    const { server, engine } = app;
    const batch = (strategyId: string) => call(server, 'POST', '/v1/checks/batch', 'gateway', { orders: [anOrder({ strategyId })] });
    expect((await batch('S-1')).statusCode).toBe(200);
    expect((await batch('S-2')).statusCode).toBe(200);
    expectProblem(await batch('S-3'), 429);
    expect(engine.ledger.openOrderCount).toBe(2);
  });

  it('leaves the probes alone', async () => {
    app = await testApp({ rateLimit: TINY });
    for (let i = 0; i < 5; i++) expect((await app.server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('can be switched off', async () => {
    app = await testApp({ rateLimit: { ...TINY, enabled: false } });
    for (let i = 0; i < 4; i++) expect((await check(app.server, anOrder({ strategyId: 'S-1' }))).statusCode).toBe(200);
  });
});

describe('the batch route counts every order against its strategy', () => {
  const PER_STRATEGY = { perStrategy: { max: 3, timeWindowMs: 60_000 }, perToken: { max: 1_000, timeWindowMs: 60_000 } };
  let ids = 0;
  const orders = (...strategies: string[]) => strategies.map((strategyId) => anOrder({ orderId: `o-${ids++}`, strategyId, quantity: 1 }));
  const batch = (server: TestApp['server'], ...strategies: string[]) => call(server, 'POST', '/v1/checks/batch', 'gateway', { orders: orders(...strategies) });
  const single = (server: TestApp['server'], strategyId: string) => check(server, orders(strategyId)[0]!);

  it('refuses a strategy over its budget on /v1/checks/batch as on /v1/checks, with 429 and retry-after', async () => {
    app = await testApp({ rateLimit: PER_STRATEGY });
    const { server, engine } = app;
    for (let i = 0; i < 3; i++) expect((await single(server, 'MM-1')).statusCode).toBe(200);
    expectProblem(await single(server, 'MM-1'), 429);

    const limited = await batch(server, 'MM-1', 'MM-1');
    expect(expectProblem(limited, 429).type).toBe('/problems/rate-limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['x-ratelimit-limit']).toBe('3');
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(engine.ledger.openOrderCount).toBe(3);
    expect((await call(server, 'GET', '/metrics', undefined)).body).toMatch(/^ulc_rate_limited_total 2$/m);
  });

  it('takes one unit per order from each strategy in the batch, which the single route then sees', async () => {
    app = await testApp({ rateLimit: PER_STRATEGY });
    const { server, engine } = app;
    expect((await batch(server, 'A', 'A', 'B')).statusCode).toBe(200);
    expect((await single(server, 'A')).statusCode).toBe(200); // A's third
    expectProblem(await single(server, 'A'), 429);
    expect((await batch(server, 'B', 'B')).statusCode).toBe(200); // B's second and third
    expectProblem(await batch(server, 'B'), 429);
    expect((await batch(server, 'C', 'C', 'C')).statusCode).toBe(200);
    expect(engine.ledger.openOrderCount).toBe(9);
  });

  it('refuses the whole batch when one strategy would go over, before anything is checked, and takes nothing from the others', async () => {
    app = await testApp({ rateLimit: PER_STRATEGY });
    const { server, engine } = app;
    expect((await single(server, 'A')).statusCode).toBe(200);
    expect((await single(server, 'A')).statusCode).toBe(200);
    const limited = await batch(server, 'B', 'B', 'A', 'A'); // A would be at 4
    expect(expectProblem(limited, 429).detail).toMatch(/strategy A/);
    expect(engine.ledger.openOrderCount).toBe(2); // not even B's orders were checked
    expect(engine.violations.historySize).toBe(0);
    // Neither A's units (one left) nor B's (three left) were spent on the refused batch.
    expect((await batch(server, 'A', 'B', 'B', 'B')).statusCode).toBe(200);
    expect(engine.ledger.openOrderCount).toBe(6);
    expectProblem(await batch(server, 'A'), 429);
    expectProblem(await batch(server, 'B'), 429);
  });

  it('refuses a batch holding more orders of one strategy than its limit allows in a window, saying so', async () => {
    app = await testApp({ rateLimit: PER_STRATEGY });
    const { server, engine } = app;
    const limited = await batch(server, 'A', 'A', 'A', 'A');
    expect(expectProblem(limited, 429).detail).toMatch(/4 orders of strategy A.*split/);
    // Sent again as it is, it would be refused again: no retry-after.
    expect(limited.headers['retry-after']).toBeUndefined();
    expect(engine.ledger.openOrderCount).toBe(0);
    expect((await batch(server, 'A', 'A', 'A')).statusCode).toBe(200);
  });

  it('is off with the rest of the rate limits', async () => {
    app = await testApp({ rateLimit: { ...PER_STRATEGY, enabled: false } });
    expect((await batch(app.server, 'A', 'A', 'A', 'A', 'A')).statusCode).toBe(200);
  });
});
