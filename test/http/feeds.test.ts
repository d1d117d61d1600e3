import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/domain/engine.js';
import type { AccountExposure } from '../../src/domain/exposure-view.js';
import { anOrder, appPerTest, call, check, expectProblem, namesField, stateOf } from './http-helpers.js';
import type { TestApp } from './http-helpers.js';

const start = appPerTest();

const exposure = async (server: TestApp['server'], accountId: string) => {
  const response = await call(server, 'GET', `/v1/accounts/${accountId}/exposure`, 'ops');
  expect(response.statusCode).toBe(200);
  return response.json<AccountExposure>();
};

const positionsOf = (view: AccountExposure) => Object.fromEntries(view.positions.map((p) => [p.symbol, p.quantity]));

describe('POST /v1/executions', () => {
  it('moves a partial fill from open quantity to position, and a cancel releases the rest', async () => {
    const { server, engine } = await start();
    const order = anOrder({ quantity: 100, price: 100 });
    await check(server, order);
    const fill = await call(server, 'POST', '/v1/executions', 'gateway', {
      events: [{ type: 'FILL', accountId: 'ACC-1', orderId: order.orderId, quantity: 40, price: 101 }],
    });
    expect(fill.statusCode).toBe(200);
    expect(fill.json()).toEqual({ results: [{ orderId: order.orderId, outcome: 'applied' }] });
    expect((await exposure(server, 'ACC-1')).positions).toEqual([
      expect.objectContaining({ symbol: 'AAPL', quantity: 40, avgPrice: 101, openBuyQuantity: 60, openOrders: 1 }),
    ]);

    const cancel = await call(server, 'POST', '/v1/executions', 'gateway', {
      events: [
        { type: 'CANCEL', accountId: 'ACC-1', orderId: order.orderId },
        { type: 'CANCEL', accountId: 'ACC-1', orderId: 'never-sent' },
      ],
    });
    expect(cancel.json()).toEqual({
      results: [
        { orderId: order.orderId, outcome: 'applied' },
        { orderId: 'never-sent', outcome: 'unknown_order' },
      ],
    });
    expect(engine.ledger.openOrderCount).toBe(0);
    expect((await exposure(server, 'ACC-1')).positions).toEqual([expect.objectContaining({ symbol: 'AAPL', quantity: 40, openBuyQuantity: 0, openOrders: 0 })]);
  });

  it('answers unknown_order for a fill of an order it never accepted, and changes nothing', async () => {
    const { server, engine } = await start();
    const response = await call(server, 'POST', '/v1/executions', 'gateway', {
      events: [{ type: 'FILL', accountId: 'ACC-1', orderId: 'ghost', quantity: 10, price: 10 }],
    });
    expect(response.json()).toEqual({ results: [{ orderId: 'ghost', outcome: 'unknown_order' }] });
    expect(engine.exposure('ACC-1').positions).toEqual([]);
  });

  // A gateway meaning a partial cancel would otherwise release the whole order: exposure understated.
  it.each([
    ['CANCEL', { quantity: 100 }, 'events.0.quantity'],
    ['REJECT', { price: 100 }, 'events.0.price'],
    ['EXPIRE', { quantity: 100, price: 100 }, 'events.0.quantity'],
  ] as const)('refuses a %s carrying %j (quantity and price are a FILL\'s) with 400 naming %s, and releases nothing', async (type, extra, field) => {
    const { server, engine } = await start();
    const order = anOrder({ orderId: 'o-1', quantity: 600 });
    expect((await check(server, order)).json<CheckResult>().decision).toBe('ACCEPT');
    const before = stateOf(engine);
    const problem = expectProblem(await call(server, 'POST', '/v1/executions', 'gateway', { events: [{ type, accountId: 'ACC-1', orderId: 'o-1', ...extra }] }), 400);
    expect(namesField(problem, field), JSON.stringify(problem)).toBe(true);
    expect(problem.errors?.[0]).toEqual({ field, message: 'is only allowed on a FILL' });
    expect(stateOf(engine)).toEqual(before);
  });

  it('books a fill that arrives after the cancel within server.lateFillWindowMs, and not one at the window', async () => {
    const { server, clock } = await start({ server: { logLevel: 'info', defaultDeadlineMs: 1_000, maxBatchSize: 100, lateFillWindowMs: 2_000 } });
    const order = anOrder({ quantity: 100, price: 100 });
    await check(server, order);
    const send = async (type: 'FILL' | 'CANCEL') =>
      (
        await call(server, 'POST', '/v1/executions', 'gateway', {
          events: [type === 'FILL' ? { type, accountId: 'ACC-1', orderId: order.orderId, quantity: 10, price: 100 } : { type, accountId: 'ACC-1', orderId: order.orderId }],
        })
      ).json<{ results: { outcome: string }[] }>().results[0]?.outcome;
    expect(await send('CANCEL')).toBe('applied');
    clock.advance(1_999);
    expect(await send('FILL')).toBe('applied');
    clock.advance(1);
    expect(await send('FILL')).toBe('unknown_order');
    expect(positionsOf(await exposure(server, 'ACC-1'))).toEqual({ AAPL: 10 });
  });

  it('refuses an unknown execution type for its type, not for the quantity it carries', async () => {
    const { server } = await start();
    const problem = expectProblem(await call(server, 'POST', '/v1/executions', 'gateway', { events: [{ type: 'BOGUS', accountId: 'ACC-1', orderId: 'o-1', quantity: 1 }] }), 400);
    expect(problem.errors?.[0]?.field).toBe('events.0.type');
  });

  it('counts executions by type and outcome, and warns once per request of the fills that moved nothing', async () => {
    const { server, logs } = await start();
    const order = anOrder({ quantity: 100, price: 100 });
    await check(server, order);
    const ghosts = Array.from({ length: 25 }, (_, i) => ({ type: 'FILL', accountId: 'ACC-1', orderId: `ghost-${i}`, quantity: 10, price: 10 }));
    await call(server, 'POST', '/v1/executions', 'gateway', {
      events: [{ type: 'FILL', accountId: 'ACC-1', orderId: order.orderId, quantity: 40, price: 100 }, { type: 'CANCEL', accountId: 'ACC-1', orderId: 'never-sent' }, ...ghosts],
    });
    const metrics = (await call(server, 'GET', '/metrics', undefined)).body;
    expect(metrics).toContain('ulc_executions_total{type="FILL",outcome="applied"} 1');
    expect(metrics).toContain('ulc_executions_total{type="FILL",outcome="unknown_order"} 25');
    expect(metrics).toContain('ulc_executions_total{type="CANCEL",outcome="unknown_order"} 1');
    const warnings = logs.lines.map((l) => JSON.parse(l) as { level: number; msg: string; unknownFills?: number; fills?: { orderId: string }[] }).filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.unknownFills).toBe(25);
    expect(warnings[0]?.msg).toContain('fills for unknown orders moved no position');
    expect(warnings[0]!.fills!.map((f) => f.orderId)).toEqual(ghosts.slice(0, 20).map((g) => g.orderId));
  });
});

describe('PUT /v1/positions', () => {
  it('merges by account and symbol without replace', async () => {
    const { server } = await start();
    const put = (positions: unknown[]) => call(server, 'PUT', '/v1/positions', 'gateway', { positions });
    const first = await put([
      { accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 10 },
      { accountId: 'ACC-2', symbol: 'AAPL', quantity: -50, avgPrice: 12 },
    ]);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ applied: 2, replaced: false });
    await put([
      { accountId: 'ACC-1', symbol: 'MSFT', quantity: 30, avgPrice: 20 },
      { accountId: 'ACC-1', symbol: 'AAPL', quantity: 300, avgPrice: 11 },
    ]);
    expect(positionsOf(await exposure(server, 'ACC-1'))).toEqual({ AAPL: 300, MSFT: 30 });
    expect((await exposure(server, 'ACC-1')).positions.find((p) => p.symbol === 'AAPL')?.avgPrice).toBe(11);
    expect(positionsOf(await exposure(server, 'ACC-2'))).toEqual({ AAPL: -50 });
  });

  it('replaces every position with replace: true', async () => {
    const { server } = await start();
    await call(server, 'PUT', '/v1/positions', 'gateway', {
      positions: [
        { accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 10 },
        { accountId: 'ACC-2', symbol: 'MSFT', quantity: 10, avgPrice: 10 },
      ],
    });
    const response = await call(server, 'PUT', '/v1/positions', 'gateway', {
      positions: [{ accountId: 'ACC-1', symbol: 'TSLA', quantity: -5, avgPrice: 200 }],
      replace: true,
    });
    expect(response.json()).toEqual({ applied: 1, replaced: true });
    expect(positionsOf(await exposure(server, 'ACC-1'))).toEqual({ TSLA: -5 });
    expect(positionsOf(await exposure(server, 'ACC-2'))).toEqual({});
  });

  it('feeds the position limit: a snapshot near the hard threshold blocks the next buy', async () => {
    const { server } = await start();
    await call(server, 'PUT', '/v1/positions', 'gateway', { positions: [{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 4_950, avgPrice: 100 }] });
    const result = (await check(server, anOrder({ quantity: 100 }))).json<CheckResult>();
    expect(result.decision).toBe('REJECT');
    expect(result.violations).toEqual([expect.objectContaining({ limitId: 'pos', value: 5_050 })]);
  });
});

describe('PUT /v1/market-data', () => {
  it('sets the reference price that price-dependent limits and the exposure view use', async () => {
    const { server } = await start({
      limits: [{ id: 'notional', kind: 'order_notional', thresholds: { hard: 10_000 } }],
    });
    const { price: _price, ...market } = anOrder({ orderType: 'MARKET', quantity: 200 });
    const before = (await call(server, 'POST', '/v1/checks', 'gateway', market)).json<CheckResult>();
    expect(before.reasons).toEqual(['NO_REFERENCE_PRICE']);

    const response = await call(server, 'PUT', '/v1/market-data', 'gateway', { prices: [{ symbol: 'AAPL', price: 100 }] });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ updated: 1 });

    const after = (await call(server, 'POST', '/v1/checks', 'gateway', { ...market, orderId: 'm-2' })).json<CheckResult>();
    expect(after.violations).toEqual([expect.objectContaining({ limitId: 'notional', value: 20_000 })]);
    const small = (await call(server, 'POST', '/v1/checks', 'gateway', { ...market, orderId: 'm-3', quantity: 50 })).json<CheckResult>();
    expect(small.decision).toBe('ACCEPT');
    expect((await exposure(server, 'ACC-1')).positions[0]).toMatchObject({ symbol: 'AAPL', markPrice: 100, openBuyNotional: 5_000 });
  });
});

describe('GET /v1/accounts/{id}/exposure', () => {
  it('reports positions, open orders, gross notional and P&L', async () => {
    const { server } = await start();
    await call(server, 'PUT', '/v1/positions', 'gateway', { positions: [{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 90 }] });
    await call(server, 'PUT', '/v1/market-data', 'gateway', { prices: [{ symbol: 'AAPL', price: 100 }] });
    const sell = anOrder({ side: 'SELL', quantity: 40, price: 100 });
    await check(server, sell);
    await call(server, 'POST', '/v1/executions', 'gateway', { events: [{ type: 'FILL', accountId: 'ACC-1', orderId: sell.orderId, quantity: 40, price: 95 }] });
    await check(server, anOrder({ quantity: 10, price: 100 }));

    const view = await exposure(server, 'ACC-1');
    expect(view).toEqual({
      accountId: 'ACC-1',
      nextCursor: null,
      openOrders: 1,
      realizedPnl: 200, // 40 × (95 − 90)
      unrealizedPnl: 600, // 60 × (100 − 90)
      grossNotional: 7_000, // max(|60 + 10|, |60 − 0|) × 100
      positions: [
        expect.objectContaining({ symbol: 'AAPL', quantity: 60, avgPrice: 90, openBuyQuantity: 10, openSellQuantity: 0, markPrice: 100, openOrders: 1 }),
      ],
    });
  });

  it('answers an empty view for an account it has never seen', async () => {
    const { server } = await start();
    expect(await exposure(server, 'NOBODY')).toEqual({ accountId: 'NOBODY', positions: [], nextCursor: null, openOrders: 0, grossNotional: 0, realizedPnl: 0, unrealizedPnl: 0 });
  });
});
