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
    expect(problem.detail).toMatch(new RegExp(`they stand, the rest do not: send positions.${POSITION_SLICE} on again$`));
    const standing = symbols.slice(0, POSITION_SLICE);
    await vi.waitFor(() => expect(app.store?.breakerState).toBe('closed'), { timeout: 5_000, interval: 5 });
    const restarted = await apps.open(dataDir);
    expect({ heldNow: heldSymbols(app), heldAfterRestart: heldSymbols(restarted) }).toEqual({ heldNow: standing, heldAfterRestart: standing });
  });
});

describe('fsync: a positions replace in slices across a journal failure', () => {
  it('answers 503 asking for the whole replace again; the recovery goes back to the half-replaced book on disk and warns of it, as a restart does', async () => {
    const dataDir = apps.newDataDir();
    const app = await apps.open(dataDir);
    await call(app.server, 'PUT', '/v1/positions', 'gateway', { positions: [{ accountId: 'ACC-OLD', symbol: 'OLD', quantity: 5, avgPrice: 10 }] });
    const positions: PositionRow[] = Array.from({ length: ROWS }, (_, i) => ({ accountId: 'ACC-1', symbol: `P${String(i).padStart(5, '0')}`, quantity: 1, avgPrice: 100 }));
    // The beginning and its flattening reach the disk; every later write, the rows', fails.
    const restoreDisk = await fillDiskAfter(1);
    const response = await call(app.server, 'PUT', '/v1/positions', 'gateway', { positions, replace: true });
    restoreDisk();
    const problem = expectProblem(response, 503);
    expect(problem.detail).toMatch(/^the replace stopped after 0 of 3000 positions .*: send the whole replace again; until a replace ends, the book may be half replaced/);
    await vi.waitFor(() => expect(app.store?.breakerState).toBe('closed'), { timeout: 5_000, interval: 5 });
    const warned = (target: TestApp) =>
      target.logs.lines.map((line) => JSON.parse(line) as { level: number; msg: string; state?: string }).filter((l) => l.msg.startsWith('a positions replace is half applied')).map((l) => l.state);
    expect(warned(app)).toEqual(['rewound to what the disk holds']);
    const restarted = await apps.open(dataDir);
    expect(warned(restarted)).toEqual(['recovered']);
    for (const target of [app, restarted]) {
      expect(target.engine.isReplacingPositions).toBe(true);
      // Flattened, and none of its rows set.
      expect(heldSymbols(target)).toEqual([]);
      expect(target.engine.exposure('ACC-OLD').positions).toEqual([]);
    }
  });
});
