import { describe, expect, it } from 'vitest';
import type { BatchResult } from '../../src/domain/engine.js';
import { BATCH_SLICE } from '../../src/http/routes/checks.js';
import { bearer, testApp } from '../support/app-fixtures.js';
import { anOrder, batchBesideProbe } from './http-helpers.js';

const SIZE = BATCH_SLICE * 2 + 10;
const bigBatchApp = () => testApp({ server: { logLevel: 'info', defaultDeadlineMs: 1_000, maxBatchSize: 5_000 } });

describe('large batches are checked in slices', () => {
  it('answers every order in sequence, each seeing the reservations before it, as one batch', async () => {
    const app = await bigBatchApp();
    // The position limit (hard 5000) lets exactly 50 orders of 100 through; the rest, wherever they fall, reject.
    const orders = Array.from({ length: SIZE }, () => anOrder({ accountId: 'ACC-SLICE', quantity: 100 }));
    const response = await app.server.inject({ method: 'POST', url: '/v1/checks/batch', headers: bearer('gateway'), payload: { orders } });
    const body = response.json<BatchResult>();
    expect(response.statusCode).toBe(200);
    expect(body.results.map((r) => r.orderId)).toEqual(orders.map((o) => o.orderId));
    expect(body.summary).toEqual({ total: SIZE, accepted: 50, rejected: SIZE - 50 });
    expect(body.results.slice(0, 50).every((r) => r.decision === 'ACCEPT')).toBe(true);
    expect(body.results.slice(50).every((r) => r.decision === 'REJECT' && r.reasons[0] === 'LIMIT_BREACH')).toBe(true);
    expect(app.engine.ledger.openOrderCount).toBe(50);
    const metrics = (await app.server.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^ulc_batch_size_count 1$/m);
    expect(metrics).toMatch(/^ulc_check_duration_seconds_count 1$/m);
    await app.server.close();
  });

  it('lets other requests in between its slices', async () => {
    const app = await bigBatchApp();
    const orders = Array.from({ length: SIZE }, () => anOrder({ accountId: 'ACC-SLICE', quantity: 1 }));
    const { answered } = await batchBesideProbe(app.server, { orders });
    expect(answered).toEqual(['health', 'batch']);
    await app.server.close();
  });

  it('keeps an atomic batch all or none across its slices', async () => {
    const app = await bigBatchApp();
    const orders = Array.from({ length: SIZE }, () => anOrder({ accountId: 'ACC-SLICE', quantity: 100 }));
    const body = (await app.server.inject({ method: 'POST', url: '/v1/checks/batch', headers: bearer('gateway'), payload: { orders, atomic: true } })).json<BatchResult>();
    expect(body.summary).toEqual({ total: SIZE, accepted: 0, rejected: SIZE });
    expect(app.engine.ledger.openOrderCount).toBe(0);
    await app.server.close();
  });

  it('takes an atomic batch whole when every order passes, with other requests served between slices', async () => {
    const app = await bigBatchApp();
    const orders = Array.from({ length: SIZE }, () => anOrder({ accountId: 'ACC-ATOMIC', quantity: 1 }));
    const { answered, response } = await batchBesideProbe(app.server, { orders, atomic: true });
    const body = response.json<BatchResult>();
    expect(answered).toEqual(['health', 'batch']);
    expect(body.summary).toEqual({ total: SIZE, accepted: SIZE, rejected: 0 });
    expect(app.engine.ledger.openOrderCount).toBe(SIZE);
    await app.server.close();
  });
});
