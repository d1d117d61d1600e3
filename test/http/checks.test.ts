import { describe, expect, it } from 'vitest';
import type { BatchResult, CheckResult } from '../../src/domain/engine.js';
import { failJournal, journalledTestApp } from '../support/app-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';
import { anOrder, appPerTest, call, check } from './http-helpers.js';
import type { TestApp } from './http-helpers.js';

const start = appPerTest();

const batch = (server: TestApp['server'], body: unknown) => call(server, 'POST', '/v1/checks/batch', 'gateway', body);

describe('POST /v1/checks', () => {
  it('accepts an order within every limit and reserves it', async () => {
    const { server, engine } = await start();
    const order = anOrder({ quantity: 100 });
    const response = await check(server, order);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ orderId: order.orderId, decision: 'ACCEPT', reasons: [], violations: [], evaluated: 2, bookVersion: 1 });
    expect(engine.ledger.openOrderCount).toBe(1);
    expect(engine.exposure('ACC-1').positions).toEqual([expect.objectContaining({ symbol: 'AAPL', openBuyQuantity: 100, quantity: 0 })]);
  });

  it('rejects an order above a hard threshold with the violation that explains it, and reserves nothing', async () => {
    const { server, engine } = await start();
    const response = await check(server, anOrder({ quantity: 1500 }));
    const result = response.json<CheckResult>();
    expect(result.decision).toBe('REJECT');
    expect(result.reasons).toEqual(['LIMIT_BREACH']);
    expect(result.violations).toEqual([
      expect.objectContaining({ limitId: 'max-qty', kind: 'order_quantity', severity: 'HARD_BREACH', action: 'BLOCK', value: 1500, threshold: 1000, key: 'account:ACC-1' }),
    ]);
    expect(result.violations[0]?.violationId).toMatch(/\S/);
    expect(engine.ledger.openOrderCount).toBe(0);
  });

  it('accepts a warning (ALERT) and records the violation', async () => {
    const { server, engine } = await start();
    const result = (await check(server, anOrder({ quantity: 600 }))).json<CheckResult>();
    expect(result.decision).toBe('ACCEPT');
    expect(result.violations).toEqual([expect.objectContaining({ severity: 'WARNING', action: 'ALERT' })]);
    expect(engine.violations.activeCount).toBe(1);
    expect(engine.ledger.openOrderCount).toBe(1);
  });

  it('takes a MARKET order without a price when no applicable limit needs one', async () => {
    const { server } = await start();
    const { price: _price, ...market } = anOrder({ orderType: 'MARKET' });
    const response = await call(server, 'POST', '/v1/checks', 'gateway', market);
    expect(response.json<CheckResult>().decision).toBe('ACCEPT');
  });

  it('defaults orderType to LIMIT', async () => {
    const { server, engine } = await start();
    const { orderType: _type, ...order } = anOrder();
    expect((await call(server, 'POST', '/v1/checks', 'gateway', order)).json<CheckResult>().decision).toBe('ACCEPT');
    expect(engine.ledger.openOrderCount).toBe(1);
  });

  it('rejects an order id that is already open on the account with DUPLICATE_ORDER_ID', async () => {
    const { server, engine } = await start();
    const order = anOrder();
    await check(server, order);
    const again = (await check(server, order)).json<CheckResult>();
    expect(again).toMatchObject({ decision: 'REJECT', reasons: ['DUPLICATE_ORDER_ID'] });
    expect(engine.ledger.openOrderCount).toBe(1);
  });
});

describe('POST /v1/checks/batch', () => {
  it('checks orders in sequence, each seeing the reservations of those accepted before it', async () => {
    const { server, engine } = await start();
    const orders = [anOrder({ quantity: 900 }), anOrder({ quantity: 1500 }), anOrder({ quantity: 900 })];
    // pos: hard 5000 per account+symbol; five orders of 900 fit, the sixth (5400) does not.
    const filling = Array.from({ length: 6 }, () => anOrder({ quantity: 900, symbol: 'MSFT' }));
    const response = await batch(server, { orders: [...orders, ...filling] });
    expect(response.statusCode).toBe(200);
    const body = response.json<BatchResult>();
    expect(body.results.map((r) => r.decision)).toEqual(['ACCEPT', 'REJECT', 'ACCEPT', 'ACCEPT', 'ACCEPT', 'ACCEPT', 'ACCEPT', 'ACCEPT', 'REJECT']);
    expect(body.results[8]?.violations).toContainEqual(expect.objectContaining({ limitId: 'pos', value: 5400, key: 'account+symbol:ACC-1|MSFT' }));
    expect(body.summary).toEqual({ total: 9, accepted: 7, rejected: 2 });
    expect(body.results.map((r) => r.orderId)).toEqual([...orders, ...filling].map((o) => o.orderId));
    expect(engine.ledger.openOrderCount).toBe(7);
  });

  it('atomic: one rejection rejects the whole batch and reserves nothing', async () => {
    const { server, engine } = await start();
    const orders = [anOrder(), anOrder({ quantity: 1500 }), anOrder()];
    const body = (await batch(server, { orders, atomic: true })).json<BatchResult>();
    expect(body.results.map((r) => r.reasons)).toEqual([['BATCH_REJECTED'], ['LIMIT_BREACH'], ['BATCH_REJECTED']]);
    expect(body.results.every((r) => r.decision === 'REJECT')).toBe(true);
    expect(body.results[2]?.evaluated).toBe(0);
    expect(body.summary).toEqual({ total: 3, accepted: 0, rejected: 3 });
    expect(engine.ledger.openOrderCount).toBe(0);
  });

  it('atomic: a clean batch is accepted whole', async () => {
    const { server, engine } = await start();
    const body = (await batch(server, { orders: [anOrder(), anOrder({ symbol: 'MSFT' })], atomic: true })).json<BatchResult>();
    expect(body.summary).toEqual({ total: 2, accepted: 2, rejected: 0 });
    expect(engine.ledger.openOrderCount).toBe(2);
  });
});

describe('when the journal has failed', () => {
  it('rejects checks and batches with DEPENDENCY_UNAVAILABLE, counts them in ulc_checks_total and logs them', async () => {
    const app = await journalledTestApp();
    const restore = failJournal(app);
    try {
      const single = (await check(app.server, anOrder({ orderId: 'down-1' }))).json<CheckResult>();
      const body = (await batch(app.server, { orders: [anOrder({ orderId: 'down-2' }), anOrder({ orderId: 'down-3' })] })).json<BatchResult>();
      expect(single.reasons).toEqual(['DEPENDENCY_UNAVAILABLE']);
      expect(body.summary).toEqual({ total: 2, accepted: 0, rejected: 2 });
      const metrics = (await call(app.server, 'GET', '/metrics', undefined)).body;
      expect(metrics).toContain('ulc_checks_total{decision="REJECT",reason="DEPENDENCY_UNAVAILABLE"} 3');
      expect(metrics).toMatch(/^ulc_batch_size_count 1$/m);
      const rejections = app.logs.lines.map((line) => JSON.parse(line) as { msg: string; reasons?: string[]; order?: { orderId: string } }).filter((l) => l.msg === 'order rejected');
      expect(rejections.map((l) => [l.order?.orderId, l.reasons])).toEqual([
        ['down-1', ['DEPENDENCY_UNAVAILABLE']],
        ['down-2', ['DEPENDENCY_UNAVAILABLE']],
        ['down-3', ['DEPENDENCY_UNAVAILABLE']],
      ]);
      expect(app.engine.ledger.openOrderCount).toBe(0);
    } finally {
      restore();
      await app.server.close();
    }
  });
});

describe('deadlines (x-deadline-ms)', () => {
  it('rejects with DEADLINE_EXCEEDED and reserves nothing when the budget is spent', async () => {
    const { server, engine } = await start({}, new FakeClock(undefined, 1_000));
    const order = anOrder();
    const result = (await check(server, order, { 'x-deadline-ms': '1' })).json<CheckResult>();
    expect(result).toEqual({ orderId: order.orderId, decision: 'REJECT', reasons: ['DEADLINE_EXCEEDED'], violations: [], evaluated: 0, bookVersion: 1 });
    expect(engine.ledger.openOrderCount).toBe(0);
    expect(engine.violations.historySize).toBe(0);
    const metrics = await call(server, 'GET', '/metrics', undefined);
    expect(metrics.body).toMatch(/^ulc_deadline_exceeded_total 1$/m);
  });

  it('rejects every order of a batch whose budget is spent', async () => {
    const { server, engine } = await start({}, new FakeClock(undefined, 1_000));
    const response = await call(server, 'POST', '/v1/checks/batch', 'gateway', { orders: [anOrder(), anOrder()] }, { 'x-deadline-ms': '1' });
    const body = response.json<BatchResult>();
    expect(body.results.map((r) => r.reasons)).toEqual([['DEADLINE_EXCEEDED'], ['DEADLINE_EXCEEDED']]);
    expect(engine.ledger.openOrderCount).toBe(0);
  });

  it('decides normally within the budget', async () => {
    const { server, engine } = await start({}, new FakeClock(undefined, 1_000));
    const result = (await check(server, anOrder(), { 'x-deadline-ms': '60000' })).json<CheckResult>();
    expect(result.decision).toBe('ACCEPT');
    expect(engine.ledger.openOrderCount).toBe(1);
  });

  it('takes a budget with a fraction of a millisecond', async () => {
    const { server, engine } = await start({}, new FakeClock(undefined, 1_000));
    const result = (await check(server, anOrder(), { 'x-deadline-ms': '59999.5' })).json<CheckResult>();
    expect(result.decision).toBe('ACCEPT');
    expect(engine.ledger.openOrderCount).toBe(1);
  });

  it('takes x-deadline-ms: 0 (a gateway passing on a spent budget) as spent: REJECT with DEADLINE_EXCEEDED, not a 400, and nothing left behind', async () => {
    for (const spent of ['0', '0.0', '00']) {
      const { server, engine } = await start(); // the clock does not move: only the budget of 0 spends it
      const order = anOrder({ orderId: `late-${spent}`, quantity: 600 }); // a WARNING within any budget
      const response = await check(server, order, { 'x-deadline-ms': spent });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual({ orderId: order.orderId, decision: 'REJECT', reasons: ['DEADLINE_EXCEEDED'], violations: [], evaluated: 0, bookVersion: 1 });
      expect(engine.ledger.openOrderCount).toBe(0);
      expect(engine.violations.historySize).toBe(0);
      expect((await call(server, 'GET', '/metrics', undefined)).body).toMatch(/^ulc_deadline_exceeded_total 1$/m);
      await server.close();
    }
  });

  it('rejects every order of a batch sent with x-deadline-ms: 0 and reserves nothing (atomic: the first for its deadline, the rest with the batch)', async () => {
    const { server, engine } = await start();
    const orders = [anOrder({ orderId: 'b-1' }), anOrder({ orderId: 'b-2' }), anOrder({ orderId: 'b-3', accountId: 'ACC-2' })];
    const plain = await call(server, 'POST', '/v1/checks/batch', 'gateway', { orders }, { 'x-deadline-ms': '0' });
    expect(plain.statusCode, plain.body).toBe(200);
    expect(plain.json<BatchResult>()).toEqual({
      results: orders.map((o) => ({ orderId: o.orderId, decision: 'REJECT', reasons: ['DEADLINE_EXCEEDED'], violations: [], evaluated: 0, bookVersion: 1 })),
      summary: { total: 3, accepted: 0, rejected: 3 },
    });
    const atomic = await call(server, 'POST', '/v1/checks/batch', 'gateway', { orders, atomic: true }, { 'x-deadline-ms': '0' });
    expect(atomic.statusCode, atomic.body).toBe(200);
    expect(atomic.json<BatchResult>().results.map((r) => [r.decision, ...r.reasons])).toEqual([
      ['REJECT', 'DEADLINE_EXCEEDED'],
      ['REJECT', 'BATCH_REJECTED'],
      ['REJECT', 'BATCH_REJECTED'],
    ]);
    expect(engine.ledger.openOrderCount).toBe(0);
    expect(engine.violations.historySize).toBe(0);
    expect((await call(server, 'GET', '/metrics', undefined)).body).toMatch(/^ulc_deadline_exceeded_total 4$/m);
  });

  it('applies the configured default budget when the header is absent', async () => {
    const { server, engine } = await start({ server: { defaultDeadlineMs: 1 } }, new FakeClock(undefined, 1_000));
    expect((await check(server, anOrder())).json<CheckResult>().reasons).toEqual(['DEADLINE_EXCEEDED']);
    expect(engine.ledger.openOrderCount).toBe(0);
  });
});
