import { describe, expect, it, vi } from 'vitest';
import type { PositionRow } from '../../src/domain/orders.js';
import { POSITION_SLICE } from '../../src/http/routes/positions.js';
import { fillDiskAfter } from '../support/disk-faults.js';
import { fsyncApps } from '../support/fsync-apps.js';
import { call, expectProblem } from './http-helpers.js';
import type { TestApp } from './http-helpers.js';

const apps = fsyncApps();

const ROWS = POSITION_SLICE * 3;
/** The symbols ACC-1 holds a position in. */
const heldSymbols = (app: TestApp) => app.engine.exposure('ACC-1').positions.map((p) => p.symbol).sort();

describe('fsync: positions merged in slices across a journal failure', () => {
  it('answers 503 naming the first row not applied, and only the rows before it stand, now and after a restart', async () => {
    const dataDir = apps.newDataDir();
    const app = await apps.open(dataDir);
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
    const restarted = await apps.open(dataDir);
    expect({ heldNow: heldSymbols(app), heldAfterRestart: heldSymbols(restarted) }).toEqual({ heldNow: standing, heldAfterRestart: standing });
  });
});
