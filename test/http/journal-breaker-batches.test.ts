import { describe, expect, it, vi } from 'vitest';
import type { BatchResult } from '../../src/domain/engine.js';
import { BATCH_SLICE } from '../../src/http/routes/checks.js';
import { fillDiskAfter } from '../support/disk-faults.js';
import { fsyncApps } from '../support/fsync-apps.js';
import { anOrder, call } from './http-helpers.js';
import type { TestApp } from './http-helpers.js';

const apps = fsyncApps(2_000);

const openIds = (app: TestApp) => [...app.engine.ledger.allOpenOrders()].map((o) => o.orderId).sort();
const batchOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => anOrder({ orderId: `${prefix}-${i}`, quantity: 1 }));

describe('fsync: a batch in slices across a journal failure', () => {
  it('answers a non-atomic batch whose later slices the journal lost with those orders DEPENDENCY_UNAVAILABLE, and only its answered ACCEPTs stand, now and after a restart', async () => {
    const dataDir = apps.newDataDir();
    const app = await apps.open(dataDir);
    // The first journal write from here on (the first slice's records) succeeds, every later one fails.
    const restoreDisk = await fillDiskAfter(1);
    const response = await call(app.server, 'POST', '/v1/checks/batch', 'gateway', { orders: batchOf('s', 600) });
    restoreDisk();
    expect(response.statusCode).toBe(200);
    const results = response.json<BatchResult>().results;
    const accepted = results.filter((r) => r.decision === 'ACCEPT').map((r) => r.orderId).sort();
    // The first slice was on disk before the journal failed; the rest never will be.
    expect(results).toHaveLength(600);
    expect(accepted).toHaveLength(BATCH_SLICE);
    expect(results.slice(0, BATCH_SLICE).every((r) => r.decision === 'ACCEPT')).toBe(true);
    expect(results.slice(BATCH_SLICE).every((r) => r.reasons.join() === 'DEPENDENCY_UNAVAILABLE')).toBe(true);
    await vi.waitFor(() => expect(app.store?.breakerState).toBe('closed'), { timeout: 5_000, interval: 5 });
    const restarted = await apps.open(dataDir);
    expect({ heldNow: openIds(app), heldAfterRestart: openIds(restarted) }).toEqual({ heldNow: accepted, heldAfterRestart: accepted });
  });
});
