import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, call, DEMO_TOKENS, e2eOrder, GATEWAY, startServer } from './server-process.js';
import type { RunningServer } from './server-process.js';


function writeConfig(dir: string, durability: 'fsync' | 'async'): string {
  const path = join(dir, 'config.json');
  writeFileSync(
    path,
    JSON.stringify({
      schemaVersion: 1,
      auth: { tokens: DEMO_TOKENS },
      server: { logLevel: 'info' },
      storage: { dataDir: join(dir, 'data'), durability, snapshotIntervalMs: 600_000 },
      limits: [
        { id: 'pos', kind: 'position', thresholds: { hard: 1000 } },
        { id: 'rate', kind: 'order_rate', per: 'strategy', windowMs: 600_000, thresholds: { hard: 50 } },
      ],
    }),
  );
  return path;
}

const order = e2eOrder;

let running: RunningServer | undefined;
afterEach(async () => {
  if (running?.process.exitCode === null) await running.stop('SIGKILL');
});

describe('durability across kill -9', () => {
  it('brings back every acknowledged change with fsync: positions, reservations, windows, limits and the kill switch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-crash-'));
    const config = writeConfig(dir, 'fsync');
    running = await startServer(config);
    const first = running;
    await call(first, 'PUT', '/v1/positions', GATEWAY, { positions: [{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 300, avgPrice: 90 }] });
    expect((await call(first, 'POST', '/v1/checks', GATEWAY, order('o-1', { quantity: 200 }))).body).toMatchObject({ decision: 'ACCEPT' });
    expect((await call(first, 'POST', '/v1/checks', GATEWAY, order('o-2', { quantity: 100 }))).body).toMatchObject({ decision: 'ACCEPT' });
    await call(first, 'POST', '/v1/executions', GATEWAY, { events: [{ type: 'FILL', accountId: 'ACC-1', orderId: 'o-1', quantity: 150, price: 101 }] });
    await call(first, 'PUT', '/v1/limits/pos', ADMIN, { id: 'pos', kind: 'position', thresholds: { hard: 900 } });
    await call(first, 'PUT', '/v1/trading-state', ADMIN, { scope: { type: 'account', id: 'ACC-2' }, state: 'HALTED', reason: 'before the crash' });
    const before = await call(first, 'GET', '/v1/accounts/ACC-1/exposure', ADMIN);

    await first.stop('SIGKILL');
    running = await startServer(config);
    const second = running;

    expect((await call(second, 'GET', '/v1/accounts/ACC-1/exposure', ADMIN)).body).toEqual(before.body);
    expect((await call(second, 'GET', '/v1/limits', ADMIN)).body).toMatchObject({ version: 2 });
    expect((await call(second, 'POST', '/v1/checks', GATEWAY, order('x-1', { accountId: 'ACC-2' }))).body).toMatchObject({ reasons: ['HALTED'] });
    // o-2 is still open: its id is taken, and open orders still count: 450 held + 50 + 100 open = 600 of 900.
    expect((await call(second, 'POST', '/v1/checks', GATEWAY, order('o-2'))).body).toMatchObject({ reasons: ['DUPLICATE_ORDER_ID'] });
    expect((await call(second, 'POST', '/v1/checks', GATEWAY, order('o-3', { quantity: 301 }))).body).toMatchObject({ reasons: ['LIMIT_BREACH'] });
    expect((await call(second, 'POST', '/v1/checks', GATEWAY, order('o-4', { quantity: 300 }))).body).toMatchObject({ decision: 'ACCEPT' });
    expect(await second.stop('SIGTERM')).toBe(0);
    expect(readdirSync(join(dir, 'data')).some((f) => f.startsWith('snapshot-'))).toBe(true);
  }, 30_000);

  it('keeps the rate window across a restart (SIGTERM writes a snapshot)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-restart-'));
    const config = writeConfig(dir, 'async');
    running = await startServer(config);
    const orders = Array.from({ length: 50 }, (_, i) => order(`r-${i}`, { quantity: 1, symbol: `S${i}` }));
    const batch = await call(running, 'POST', '/v1/checks/batch', GATEWAY, { orders });
    expect(batch.body).toMatchObject({ summary: { accepted: 50 } });
    // The built service takes its snapshots on the worker thread, and says so.
    const metrics = await (await fetch(`${running.url}/metrics`)).text();
    expect(metrics).toMatch(/^ulc_dependency_up\{dependency="snapshot_worker"\} 1$/m);
    expect(await running.stop('SIGTERM')).toBe(0);
    running = await startServer(config);
    // The 51st order of the strategy in the window breaches hard 50.
    expect((await call(running, 'POST', '/v1/checks', GATEWAY, order('r-50', { quantity: 1, symbol: 'Z' }))).body).toMatchObject({ reasons: ['LIMIT_BREACH'] });
  }, 30_000);
});
