import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PositionRow } from '../../src/domain/orders.js';
import { POSITION_SLICE } from '../../src/http/routes/positions.js';
import { testApp } from '../support/app-fixtures.js';
import { fillDiskAfter } from '../support/disk-faults.js';
import { call, expectProblem } from './http-helpers.js';
import type { TestApp } from './http-helpers.js';

const fsyncAppOn = (dataDir: string) =>
  testApp({
    server: { logLevel: 'info', defaultDeadlineMs: 60_000, maxBatchSize: 100 },
    storage: { durability: 'fsync', dataDir, snapshotsIn: 'main', recoveryIntervalMs: 100 },
  });

const ROWS = POSITION_SLICE * 3;
/** The symbols ACC-1 holds a position in. */
const heldSymbols = (app: TestApp) => app.engine.exposure('ACC-1').positions.map((p) => p.symbol).sort();

const apps: TestApp[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const app of apps.splice(0)) await app.server.close().catch(() => undefined);
});

describe('fsync: positions merged in slices across a journal failure', () => {
  it('answers 503 naming the first row not applied, and only the rows before it stand, now and after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ulc-breaker-'));
    const app = await fsyncAppOn(dataDir);
    apps.push(app);
    const symbols = Array.from({ length: ROWS }, (_, i) => `P${String(i).padStart(5, '0')}`);
    const positions: PositionRow[] = symbols.map((symbol) => ({ accountId: 'ACC-1', symbol, quantity: 1, avgPrice: 100 }));
    // The first journal write from here on (the first slice's records) succeeds, every later one fails.
    const restoreDisk = await fillDiskAfter(1);
    const response = await call(app.server, 'PUT', '/v1/positions', 'gateway', { positions });
    restoreDisk();
    const problem = expectProblem(response, 503);
    expect(problem.errors).toEqual([{ field: `positions.${POSITION_SLICE}`, message: expect.any(String) as unknown }]);
    const standing = symbols.slice(0, POSITION_SLICE);
    await vi.waitFor(() => expect(app.store?.breakerState).toBe('closed'), { timeout: 5_000, interval: 5 });
    const restarted = await fsyncAppOn(dataDir);
    apps.push(restarted);
    expect({ heldNow: heldSymbols(app), heldAfterRestart: heldSymbols(restarted) }).toEqual({ heldNow: standing, heldAfterRestart: standing });
  });
});
