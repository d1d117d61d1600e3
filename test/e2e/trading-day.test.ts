import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, call as callServer, DEMO_TOKENS, e2eOrder, GATEWAY, startServer } from './server-process.js';
import type { RunningServer } from './server-process.js';


const config = {
  schemaVersion: 1,
  auth: { enabled: true, tokens: DEMO_TOKENS },
  server: { logLevel: 'info' },
  limits: [
    { id: 'qty', kind: 'order_quantity', thresholds: { warn: 500, hard: 1000 } },
    { id: 'pos', kind: 'position', thresholds: { hard: 1500 } },
    { id: 'collar', kind: 'price_deviation', thresholds: { hard: 500 } },
  ],
};

let server: RunningServer;

const call = (method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) =>
  callServer(server, method, path, token, body, headers);
const order = e2eOrder;

describe('a trading day against the real server process', () => {
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-e2e-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify({ ...config, storage: { dataDir: join(dir, 'data'), durability: 'async' } }));
    server = await startServer(path);
  }, 20_000);

  afterAll(async () => {
    if (server?.process.exitCode === null) await server.stop('SIGKILL');
  });

  it('runs from the start-of-day snapshot to the kill switch and shuts down cleanly', async () => {
    expect((await fetch(server.url + '/readyz')).status).toBe(200);

    expect((await call('PUT', '/v1/positions', GATEWAY, { positions: [{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 1000, avgPrice: 95 }] })).status).toBe(200);
    expect((await call('PUT', '/v1/market-data', GATEWAY, { prices: [{ symbol: 'AAPL', price: 100 }] })).status).toBe(200);

    // 1000 held + 400 bought: within the 1500 hard position limit.
    const first = await call('POST', '/v1/checks', GATEWAY, order('o-1', { quantity: 400 }));
    expect(first.body).toMatchObject({ decision: 'ACCEPT', reasons: [] });
    // + 200 more would be 1600 > 1500 worst case.
    const second = await call('POST', '/v1/checks', GATEWAY, order('o-2', { quantity: 200 }));
    expect(second.body).toMatchObject({ decision: 'REJECT', reasons: ['LIMIT_BREACH'] });

    const batch = await call('POST', '/v1/checks/batch', GATEWAY, {
      orders: [order('o-3', { side: 'SELL', quantity: 50 }), order('o-4', { price: 200 })],
    });
    expect((batch.body.results as { decision: string }[]).map((r) => r.decision)).toEqual(['ACCEPT', 'REJECT']);

    const fill = await call('POST', '/v1/executions', GATEWAY, { events: [{ type: 'FILL', accountId: 'ACC-1', orderId: 'o-1', quantity: 300, price: 100 }] });
    expect(fill.body).toEqual({ results: [{ orderId: 'o-1', outcome: 'applied' }] });
    await call('POST', '/v1/executions', GATEWAY, { events: [{ type: 'CANCEL', accountId: 'ACC-1', orderId: 'o-1' }] });

    const exposure = await call('GET', '/v1/accounts/ACC-1/exposure', ADMIN);
    expect(exposure.body).toMatchObject({ accountId: 'ACC-1', openOrders: 1, positions: [{ symbol: 'AAPL', quantity: 1300, openBuyQuantity: 0, openSellQuantity: 50 }] });

    const limits = await call('GET', '/v1/limits', ADMIN);
    const raised = await call('PUT', '/v1/limits/pos', ADMIN, { id: 'pos', kind: 'position', thresholds: { hard: 5000 } }, { 'if-match': String(limits.body.version) });
    expect(raised.status).toBe(200);
    expect((await call('POST', '/v1/checks', GATEWAY, order('o-5', { quantity: 900 }))).body).toMatchObject({ decision: 'ACCEPT' });

    await call('PUT', '/v1/trading-state', ADMIN, { scope: { type: 'account', id: 'ACC-1' }, state: 'HALTED', reason: 'e2e kill switch' });
    expect((await call('POST', '/v1/checks', GATEWAY, order('o-6'))).body).toMatchObject({ decision: 'REJECT', reasons: ['HALTED'] });
    await call('PUT', '/v1/trading-state', ADMIN, { scope: { type: 'account', id: 'ACC-1' }, state: 'ACTIVE', reason: 'resumed' });
    expect((await call('POST', '/v1/checks', GATEWAY, order('o-7'))).body).toMatchObject({ decision: 'ACCEPT' });

    expect(await server.stop('SIGTERM')).toBe(0);
  });

  it('refuses to start on a bad config, naming the field, with exit code 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-e2e-bad-'));
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'schemaVersion: 1\nlimits:\n  - { id: x, kind: position, thresholds: { soft: 10, hard: 5 } }\n');
    await expect(startServer(path)).rejects.toThrow(/exited with 1[\s\S]*limits\.0\.thresholds\.hard/);
  });
});
