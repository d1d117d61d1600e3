import { describe, expect, it, vi } from 'vitest';
import type { ExecutionEvent } from '../../src/domain/orders.js';
import { EXECUTION_SLICE } from '../../src/http/routes/executions.js';
import { fillDiskAfter } from '../support/disk-faults.js';
import { fsyncApps } from '../support/fsync-apps.js';
import { anOrder, call, expectProblem } from './http-helpers.js';
import type { TestApp } from './http-helpers.js';

const apps = fsyncApps();

const EVENTS = EXECUTION_SLICE * 3;
/** The open orders left, by id: an order stays open until it is fully filled. */
const openIds = (app: TestApp) => [...app.engine.ledger.allOpenOrders()].map((o) => o.orderId).sort();

describe('fsync: executions in slices across a journal failure', () => {
  it('answers 503 naming the first event not applied, and only the events before it stand, now and after a restart', async () => {
    const dataDir = apps.newDataDir();
    const app = await apps.open(dataDir);
    const ids = Array.from({ length: EVENTS }, (_, i) => `f-${String(i).padStart(5, '0')}`);
    for (const orderId of ids) expect((await call(app.server, 'POST', '/v1/checks', 'gateway', anOrder({ orderId, quantity: 1 }))).statusCode).toBe(200);
    const events: ExecutionEvent[] = ids.map((orderId) => ({ type: 'FILL', accountId: 'ACC-1', orderId, quantity: 1, price: 100 }));
    // The first journal write from here on (the first slice's records) succeeds, every later one fails.
    const restoreDisk = await fillDiskAfter(1);
    const response = await call(app.server, 'POST', '/v1/executions', 'gateway', { events });
    restoreDisk();
    const problem = expectProblem(response, 503);
    expect(problem.errors).toEqual([{ field: `events.${EXECUTION_SLICE}`, message: expect.any(String) as unknown }]);
    // Counted: the fills that stand, not those of a slice the failure took back.
    const metrics = (await call(app.server, 'GET', '/metrics', undefined)).body;
    expect(metrics).toMatch(new RegExp(`^ulc_executions_total\\{type="FILL",outcome="applied"\\} ${EXECUTION_SLICE}$`, 'm'));
    const unfilled = ids.slice(EXECUTION_SLICE);
    await vi.waitFor(() => expect(app.store?.breakerState).toBe('closed'), { timeout: 5_000, interval: 5 });
    const restarted = await apps.open(dataDir);
    expect({ openNow: openIds(app), openAfterRestart: openIds(restarted) }).toEqual({ openNow: unfilled, openAfterRestart: unfilled });
  });
});
