import { describe, expect, it } from 'vitest';
import { bearer, testApp } from '../support/app-fixtures.js';

const order = (orderId: string, quantity: number) => ({ orderId, accountId: 'ACC-METRICS-9', strategyId: 'STRAT-Q', symbol: 'SYM-Q', side: 'BUY', quantity, price: 10 });

describe('/metrics', () => {
  it('counts checks by decision and reason, and violations by kind and severity', async () => {
    const app = await testApp();
    await app.server.inject({ method: 'POST', url: '/v1/checks', headers: bearer('gateway'), payload: order('m-1', 10) });
    await app.server.inject({ method: 'POST', url: '/v1/checks', headers: bearer('gateway'), payload: order('m-2', 600) });
    await app.server.inject({ method: 'POST', url: '/v1/checks', headers: bearer('gateway'), payload: order('m-3', 5000) });
    const text = (await app.server.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain('ulc_checks_total{decision="ACCEPT",reason="NONE"} 2');
    expect(text).toContain('ulc_checks_total{decision="REJECT",reason="LIMIT_BREACH"} 1');
    expect(text).toContain('ulc_violations_total{kind="order_quantity",severity="WARNING"} 1');
    expect(text).toContain('ulc_violations_total{kind="order_quantity",severity="HARD_BREACH"} 1');
    expect(text).toContain('ulc_violations_total{kind="position",severity="HARD_BREACH"} 1');
    expect(text).toContain('ulc_active_violations 2');
    expect(text).toContain('ulc_open_orders 2');
    expect(text).toMatch(/ulc_check_duration_seconds_count 3/);
    expect(text).toMatch(/ulc_http_request_duration_seconds_count\{method="POST",route="\/v1\/checks",status_class="2xx"\} 3/);
    await app.server.close();
  });

  it('shows a positions replace half applied as ulc_positions_replacing 1, and 0 once it has ended', async () => {
    const app = await testApp();
    const replacing = async () => /^ulc_positions_replacing (\d)$/m.exec((await app.server.inject({ method: 'GET', url: '/metrics' })).body)?.[1];
    expect(await replacing()).toBe('0');
    app.engine.beginPositionsReplace();
    expect(await replacing()).toBe('1');
    while (app.engine.flattenForReplace(1));
    app.engine.replacePositionsSlice([], true);
    expect(await replacing()).toBe('0');
    await app.server.close();
  });

  it('has finite latency buckets up to 10 s, so histogram_quantile sees a slow request or batch, and few of them', async () => {
    const app = await testApp();
    app.telemetry.recordHttp('POST', '/v1/checks/batch', 200, 7_000);
    app.telemetry.recordBatch({ results: [], summary: { total: 0, accepted: 0, rejected: 0 } }, 3_000);
    const text = (await app.server.inject({ method: 'GET', url: '/metrics' })).body;
    const bounds = (name: string) => [...text.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\d+)$`, 'gm'))]
      .filter((m) => m[0].includes('/v1/checks/batch') || !m[0].includes('route='))
      .map((m) => [m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])] as const);
    for (const [name, seconds] of [['ulc_http_request_duration_seconds', 7], ['ulc_check_duration_seconds', 3]] as const) {
      const buckets = bounds(name);
      const finite = buckets.filter(([le]) => Number.isFinite(le));
      expect(Math.max(...finite.map(([le]) => le))).toBeGreaterThanOrEqual(10);
      expect(finite.length).toBeLessThanOrEqual(24);
      // The observation lands in a finite bucket, not only in +Inf.
      const firstHolding = finite.find(([, count]) => count > 0);
      expect(firstHolding?.[0]).toBeGreaterThanOrEqual(seconds);
      expect(firstHolding?.[0]).toBeLessThanOrEqual(seconds * 2);
    }
    await app.server.close();
  });

  it('counts requests the router refuses (an undecodable URL) and unknown routes under route="unmatched"', async () => {
    const app = await testApp();
    expect((await app.server.inject({ method: 'GET', url: '/v1/limits/%zz', headers: bearer('ops') })).statusCode).toBe(400);
    expect((await app.server.inject({ method: 'GET', url: '/v1/limits/%zz?x=1' })).statusCode).toBe(400);
    expect((await app.server.inject({ method: 'GET', url: '/v2/nothing' })).statusCode).toBe(404);
    const text = (await app.server.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/^ulc_http_request_duration_seconds_count\{method="GET",route="unmatched",status_class="4xx"\} 3$/m);
    expect(text).not.toContain('%zz');
    await app.server.close();
  });

  it('never puts an order, account, strategy or symbol id into a label', async () => {
    const app = await testApp();
    await app.server.inject({ method: 'POST', url: '/v1/checks', headers: bearer('gateway'), payload: order('m-secret-id', 5000) });
    await app.server.inject({ method: 'GET', url: '/v1/accounts/ACC-METRICS-9/exposure', headers: bearer('ops') });
    const text = (await app.server.inject({ method: 'GET', url: '/metrics' })).body;
    for (const id of ['ACC-METRICS-9', 'STRAT-Q', 'SYM-Q', 'm-secret-id']) expect(text).not.toContain(id);
    expect(text).toContain('route="/v1/accounts/:id/exposure"');
    await app.server.close();
  });
});

describe('ulc_dependency_breaker_state', () => {
  it('exports each watched breaker as 0 closed, 1 open, 2 half-open', async () => {
    const app = await testApp();
    let state: 'closed' | 'open' | 'half_open' = 'closed';
    app.telemetry.watchBreaker('journal', () => state);
    const exported = async () => /^ulc_dependency_breaker_state\{dependency="journal"\} (\d)$/m.exec((await app.server.inject({ method: 'GET', url: '/metrics' })).body)?.[1];
    expect(await exported()).toBe('0');
    state = 'open';
    expect(await exported()).toBe('1');
    state = 'half_open';
    expect(await exported()).toBe('2');
    await app.server.close();
  });
});
