/**
 * Routes serialise their answers with their response schemas, which leave out any field the
 * schema does not name: each answer here is compared whole with what the engine holds.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { ValueEvaluation } from '../../src/domain/engine.js';
import type { AccountExposure, PositionView } from '../../src/domain/exposure-view.js';
import type { TradingStateEntry } from '../../src/domain/trading-states.js';
import type { ActiveViolation, ViolationEvent } from '../../src/domain/violation-book.js';
import type { AccountExposureSchema, ActiveViolationSchema, EvaluateResponseSchema, TradingStateEntrySchema, ViolationEventSchema } from '../../src/http/schemas.js';
import { anOrder, appPerTest, call, check } from './http-helpers.js';

const start = appPerTest();

/** What plain JSON makes of a value: the fields a schema-less answer had. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

const VAR = { id: 'var', kind: 'value', per: 'account', thresholds: { warn: 10, hard: 20 }, actions: { HARD_BREACH: 'REDUCE_ONLY' } } as const;

describe('answers carry every field', () => {
  it('each response schema names every field of the domain value it serialises (checked by the compiler)', () => {
    type Keys<S extends z.ZodType> = keyof z.output<S>;
    expectTypeOf<keyof AccountExposure>().toEqualTypeOf<Keys<typeof AccountExposureSchema>>();
    expectTypeOf<keyof PositionView>().toEqualTypeOf<keyof z.output<typeof AccountExposureSchema>['positions'][number]>();
    expectTypeOf<keyof ViolationEvent>().toEqualTypeOf<Keys<typeof ViolationEventSchema>>();
    expectTypeOf<keyof ActiveViolation>().toEqualTypeOf<Keys<typeof ActiveViolationSchema>>();
    expectTypeOf<keyof ValueEvaluation>().toEqualTypeOf<Keys<typeof EvaluateResponseSchema>>();
    expectTypeOf<keyof TradingStateEntry>().toEqualTypeOf<Keys<typeof TradingStateEntrySchema>>();
  });

  it('GET /v1/accounts/{id}/exposure: positions with and without a mark, open orders, P&L', async () => {
    const { server, engine } = await start();
    await call(server, 'PUT', '/v1/market-data', 'gateway', { prices: [{ symbol: 'AAPL', price: 100 }] });
    await call(server, 'PUT', '/v1/positions', 'gateway', {
      positions: [
        { accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 90 },
        { accountId: 'ACC-1', symbol: 'NOPX', quantity: 5, avgPrice: 3 },
      ],
    });
    const sell = anOrder({ side: 'SELL', quantity: 40, price: 101 });
    await check(server, sell);
    await call(server, 'POST', '/v1/executions', 'gateway', { events: [{ type: 'FILL', accountId: 'ACC-1', orderId: sell.orderId, quantity: 10, price: 101 }] });
    await check(server, anOrder({ orderId: 'open-buy', quantity: 3, price: 99 }));

    const response = await call(server, 'GET', '/v1/accounts/ACC-1/exposure', 'ops');
    expect(response.statusCode).toBe(200);
    const expected = asJson(engine.exposure('ACC-1')) as { positions: Record<string, unknown>[]; grossNotional: unknown };
    expect(expected.positions).toHaveLength(2);
    expect(expected.grossNotional).toBeNull();
    expect(response.json()).toEqual(expected);
    expect(Object.keys(response.json<{ positions: object[] }>().positions[0]!).sort()).toEqual(Object.keys(expected.positions[0]!).sort());

    const empty = await call(server, 'GET', '/v1/accounts/NOBODY/exposure', 'ops');
    expect(empty.json()).toEqual(asJson(engine.exposure('NOBODY')));
  });

  it('GET /v1/violations and /v1/violations/active: every field of events and active violations', async () => {
    const { server, engine, clock } = await start({ limits: [{ id: 'max-qty', kind: 'order_quantity', thresholds: { warn: 500, hard: 1000 } }, VAR] });
    await check(server, anOrder({ quantity: 600 }));
    clock.advance(1_000);
    await check(server, anOrder({ quantity: 1_500 }));
    await call(server, 'POST', '/v1/limits/var/evaluate', 'gateway', { value: 25, scopeId: 'ACC-1' }); // no order id

    const history = await call(server, 'GET', '/v1/violations', 'ops');
    expect(history.statusCode).toBe(200);
    const events = engine.violations.query({ pageSize: 100 }, clock.now()).items;
    expect(events.map((e) => e.orderId === undefined)).toEqual([true, false, false]);
    expect(history.json()).toEqual({ items: asJson(events), nextCursor: null });

    const paged = await call(server, 'GET', '/v1/violations?pageSize=1', 'ops');
    expect(paged.json()).toEqual({ items: asJson(events.slice(0, 1)), nextCursor: String(events[0]!.seq) });

    const active = await call(server, 'GET', '/v1/violations/active', 'ops');
    expect(active.statusCode).toBe(200);
    const violations = engine.violations.active({});
    expect(violations).toHaveLength(2);
    expect(active.json()).toEqual({ items: asJson(violations), nextCursor: null });
  });

  it('POST /v1/limits/{id}/evaluate: a breach with its violation, and a clean value without one', async () => {
    const { server, engine } = await start({ limits: [VAR] });
    const breach = await call(server, 'POST', '/v1/limits/var/evaluate', 'gateway', { value: 25, scopeId: 'ACC-1' });
    const [violation] = engine.violations.active({});
    expect(breach.json()).toEqual({
      limitId: 'var',
      key: 'account:ACC-1',
      value: 25,
      severity: 'HARD_BREACH',
      action: 'REDUCE_ONLY',
      threshold: 20,
      violation: {
        violationId: violation!.violationId,
        limitId: 'var',
        kind: 'value',
        severity: 'HARD_BREACH',
        action: 'REDUCE_ONLY',
        value: 25,
        threshold: 20,
        key: 'account:ACC-1',
        message: violation!.message,
      },
    });
    const clean = await call(server, 'POST', '/v1/limits/var/evaluate', 'gateway', { value: 5, scopeId: 'ACC-1' });
    expect(clean.json()).toEqual({ limitId: 'var', key: 'account:ACC-1', value: 5, severity: 'INFO', action: 'LOG' });
  });

  it('PUT and DELETE /v1/limits/{id}, PUT /v1/positions, PUT /v1/market-data and POST /v1/sessions/reset', async () => {
    const { server, clock } = await start();
    const limit = { id: 'max-qty', name: 'Max order quantity', kind: 'order_quantity', scope: { symbols: ['AAPL'] }, thresholds: { warn: 5, hard: 10 }, actions: { WARNING: 'LOG' }, enabled: true };
    expect((await call(server, 'PUT', '/v1/limits/max-qty', 'admin', limit)).json()).toEqual({ version: 2, limit });
    expect((await call(server, 'DELETE', '/v1/limits/max-qty', 'admin')).json()).toEqual({ version: 3, deleted: 'max-qty' });
    const positions = [{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 1, avgPrice: 1 }];
    expect((await call(server, 'PUT', '/v1/positions', 'gateway', { positions })).json()).toEqual({ applied: 1, replaced: false });
    expect((await call(server, 'PUT', '/v1/positions', 'gateway', { positions, replace: true })).json()).toEqual({ applied: 1, replaced: true });
    expect((await call(server, 'PUT', '/v1/market-data', 'gateway', { prices: [{ symbol: 'AAPL', price: 1 }, { symbol: 'MSFT', price: 2 }] })).json()).toEqual({ updated: 2 });
    expect((await call(server, 'POST', '/v1/sessions/reset', 'admin')).json()).toEqual({ reset: true, at: new Date(clock.now()).toISOString() });
  });
});
