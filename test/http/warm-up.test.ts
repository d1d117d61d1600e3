import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { authPlugin } from '../../src/http/plugins/auth.js';
import type { Principal, TransientPass } from '../../src/http/plugins/auth.js';
import { bearer, TOKENS, testApp } from '../support/app-fixtures.js';
import { anOrder } from './http-helpers.js';

describe('HTTP warm-up before readiness', () => {
  it('has sent checks and batches through the whole HTTP path by the time /readyz is ready, leaving no trace', async () => {
    const app = await testApp();
    expect((await app.server.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    // It happened, through auth, validation, the handler and the hooks, on the scratch side.
    expect(app.httpWarmUp.isActive).toBe(false);
    expect(app.httpWarmUp.outcome).toEqual({ requests: 204, failures: 0 });
    expect(app.httpWarmUp.target.engine.ledger.openOrderCount).toBe(200 + 4 * 50);
    const scratch = await app.httpWarmUp.target.telemetry.registry.metrics();
    expect(scratch).toMatch(/^ulc_http_request_duration_seconds_count\{method="POST",route="\/v1\/checks",status_class="2xx"\} 200$/m);
    expect(scratch).toMatch(/^ulc_checks_total\{decision="ACCEPT",reason="NONE"\} 400$/m);

    // Nothing in the live engine, the live registry or the log.
    expect(app.engine.ledger.openOrderCount).toBe(0);
    expect(app.engine.violations.historySize).toBe(0);
    const metrics = (await app.server.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).not.toMatch(/^ulc_checks_total\{/m);
    expect(metrics).not.toMatch(/^ulc_check_duration_seconds_count \d*[1-9]/m);
    expect(metrics).not.toMatch(/^ulc_http_request_duration_seconds_count\{method="POST"/m);
    expect(metrics).not.toMatch(/^ulc_batch_size_count \d*[1-9]/m);
    expect(app.logs.lines.filter((line) => /warm-up|order rejected/.test(line))).toEqual([]);

    // The warm-up orders' ids were never seen by the live engine: the same id is a fresh order.
    const response = await app.server.inject({ method: 'POST', url: '/v1/checks', headers: bearer('gateway'), payload: anOrder({ orderId: 'warm-http-0' }) });
    expect(response.json()).toMatchObject({ decision: 'ACCEPT' });
    await app.server.close();
  });
});

describe('HTTP warm-up under tight rate limits', () => {
  it('takes no row of the per-strategy table and counts no 429: a live strategy is admitted right after, in a table of one', async () => {
    const app = await testApp({ rateLimit: { perStrategy: { max: 2, timeWindowMs: 60_000 }, perToken: { max: 1_000, timeWindowMs: 60_000 }, cacheSize: 1 } });
    try {
      expect(app.httpWarmUp.outcome).toEqual({ requests: 204, failures: 0 });
      expect((await app.server.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^ulc_rate_limited_total 0$/m);
      const live = await app.server.inject({ method: 'POST', url: '/v1/checks', headers: bearer('gateway'), payload: anOrder({ orderId: 'first-live', strategyId: 'MM-1' }) });
      expect(live.statusCode).toBe(200);
      // Nor of the per-token batch table: the first live batch gets the table's one row.
      const batch = await app.server.inject({ method: 'POST', url: '/v1/checks/batch', headers: bearer('gateway'), payload: { orders: [anOrder({ orderId: 'first-batch', strategyId: 'MM-1' })] } });
      expect(batch.statusCode).toBe(200);
    } finally {
      await app.server.close();
    }
  });
});

describe('transient pass (the warm-up token)', () => {
  const token = 'warm-up-secret';
  const principal: Principal = { name: 'http-warm-up', roles: new Set(['gateway']) };

  async function appWith(pass: TransientPass, enabled = true) {
    const app = Fastify();
    await app.register(authPlugin, { enabled, tokens: [], transient: pass });
    app.post('/guarded', { config: { role: 'gateway' } }, (request) => ({ who: request.principal?.name ?? 'anonymous' }));
    await app.ready();
    return app;
  }

  it('authenticates only while it is active', async () => {
    const pass = { digest: createHash('sha256').update(token).digest(), principal, isActive: true };
    const app = await appWith(pass);
    const send = () => app.inject({ method: 'POST', url: '/guarded', headers: { authorization: `Bearer ${token}` } });
    expect((await send()).json()).toEqual({ who: 'http-warm-up' });
    pass.isActive = false;
    expect((await send()).statusCode).toBe(401);
    await app.close();
  });

  it('is told apart even when auth is disabled, and only while active', async () => {
    const pass = { digest: createHash('sha256').update(token).digest(), principal, isActive: true };
    const app = await appWith(pass, false);
    const send = () => app.inject({ method: 'POST', url: '/guarded', headers: { authorization: `Bearer ${token}` } });
    expect((await send()).json()).toEqual({ who: 'http-warm-up' });
    pass.isActive = false;
    expect((await send()).json()).toEqual({ who: 'anonymous' });
    await app.close();
  });
});

describe('auth on a keep-alive connection', () => {
  it('checks every request: a wrong token after a right one on the same connection is refused', async () => {
    const app = await testApp();
    const url = await app.server.listen({ host: '127.0.0.1', port: 0 });
    const post = (authorization: string) =>
      fetch(`${url}/v1/checks`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(anOrder()) });
    const statuses: number[] = [];
    for (const authorization of [`Bearer ${TOKENS.gateway}`, `Bearer ${TOKENS.gateway}x`, `Bearer ${TOKENS.ops}`, `Bearer ${TOKENS.gateway}`, 'Bearer ']) {
      const response = await post(authorization);
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 401, 403, 200, 401]);
    await app.server.close();
  });
});
