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

  it('limits other routes per token: a third read by one token gets 429, another token still passes', async () => {
    app = await testApp({ rateLimit: TINY });
    const { server } = app;
    for (let i = 0; i < 2; i++) expect((await call(server, 'GET', '/v1/limits', 'ops')).statusCode).toBe(200);
    const limited = await call(server, 'GET', '/v1/limits', 'ops');
    expectProblem(limited, 429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect((await call(server, 'GET', '/v1/limits', 'admin')).statusCode).toBe(200);
  });

  it('limits batches per token, whatever strategies they carry', async () => {
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
