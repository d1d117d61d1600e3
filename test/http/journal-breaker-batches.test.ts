import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BatchResult } from '../../src/domain/engine.js';
import { testApp } from '../support/app-fixtures.js';
import { fillDiskAfter } from '../support/disk-faults.js';
import { anOrder, call } from './http-helpers.js';
import type { TestApp } from './http-helpers.js';

/** An app journalling with fsync durability to `dataDir`, whose breaker retries every 100 ms; big batches allowed. */
const fsyncAppOn = (dataDir: string) =>
  testApp({
    server: { logLevel: 'info', defaultDeadlineMs: 60_000, maxBatchSize: 2_000 },
    storage: { durability: 'fsync', dataDir, snapshotsIn: 'main', recoveryIntervalMs: 100 },
  });

const openIds = (app: TestApp) => [...app.engine.ledger.allOpenOrders()].map((o) => o.orderId).sort();
const batchOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => anOrder({ orderId: `${prefix}-${i}`, quantity: 1 }));

const apps: TestApp[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const app of apps.splice(0)) await app.server.close().catch(() => undefined);
});

describe('fsync: a batch in slices across a journal failure', () => {
  it('answers a non-atomic batch whose later slices the journal lost with those orders DEPENDENCY_UNAVAILABLE, and only its answered ACCEPTs stand, now and after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ulc-breaker-'));
    const app = await fsyncAppOn(dataDir);
    apps.push(app);
    // The first journal write from here on (the first slice's records) succeeds, every later one fails.
    const restoreDisk = await fillDiskAfter(1);
    const response = await call(app.server, 'POST', '/v1/checks/batch', 'gateway', { orders: batchOf('s', 600) });
    restoreDisk();
    expect(response.statusCode).toBe(200);
    const results = response.json<BatchResult>().results;
    const accepted = results.filter((r) => r.decision === 'ACCEPT').map((r) => r.orderId).sort();
    // The first slice (256 orders) was on disk before the journal failed; the rest never will be.
    expect(accepted).toHaveLength(256);
    expect(results.slice(256).every((r) => r.reasons.join() === 'DEPENDENCY_UNAVAILABLE')).toBe(true);
    await vi.waitFor(() => expect(app.store?.breakerState).toBe('closed'), { timeout: 5_000, interval: 5 });
    const restarted = await fsyncAppOn(dataDir);
    apps.push(restarted);
    expect({ heldNow: openIds(app), heldAfterRestart: openIds(restarted) }).toEqual({ heldNow: accepted, heldAfterRestart: accepted });
  });
});
