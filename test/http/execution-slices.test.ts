import fastJson from 'fast-json-stringify';
import { describe, expect, it, vi } from 'vitest';
import type { ExecutionOutcome, LimitEngine } from '../../src/domain/engine.js';
import type { ExecutionEvent } from '../../src/domain/orders.js';
import { SlicedArraySerializer } from '../../src/http/batch-response.js';
import { jsonSchemaOf } from '../../src/http/json-schema.js';
import { EXECUTION_SLICE } from '../../src/http/routes/executions.js';
import { ExecutionsResponseSchema } from '../../src/http/schemas.js';
import { SLICED_PARSE_BYTES } from '../../src/http/sliced-body.js';
import { bearer, failJournal, journalledTestApp } from '../support/app-fixtures.js';
import { anOrder, appPerTest, call, expectProblem, namesField, stateOf } from './http-helpers.js';
import type { TestApp } from './http-helpers.js';

const start = appPerTest();
const ACCOUNTS = Array.from({ length: 40 }, (_, i) => `ACC-X${i}`);
const ORDERS = 3_000;

/** Accepts ORDERS orders of 10 over ACCOUNTS, straight through the engine (the route is not under test). */
function holdOrders(engine: LimitEngine): void {
  for (let i = 0; i < ORDERS; i++) {
    const result = engine.checkOrder(anOrder({ orderId: `x-${i}`, accountId: ACCOUNTS[i % ACCOUNTS.length], quantity: 10, price: 100 }));
    expect(result.decision).toBe('ACCEPT');
  }
}

/**
 * Partial fills, cancels of orders filled in an earlier slice, fills after those cancels, and
 * events for orders never checked: outcomes that depend on the events before them.
 */
function feed(): ExecutionEvent[] {
  const events: ExecutionEvent[] = [];
  for (let i = 0; i < ORDERS; i++) events.push({ type: 'FILL', accountId: ACCOUNTS[i % ACCOUNTS.length]!, orderId: `x-${i}`, quantity: 4, price: 100 + (i % 7) });
  for (let i = 0; i < ORDERS; i += 2) events.push({ type: 'CANCEL', accountId: ACCOUNTS[i % ACCOUNTS.length]!, orderId: `x-${i}` });
  for (let i = 0; i < ORDERS; i += 3) events.push({ type: 'FILL', accountId: ACCOUNTS[i % ACCOUNTS.length]!, orderId: `x-${i}`, quantity: 6, price: 99 });
  for (let i = 0; i < 500; i++) events.push({ type: 'CANCEL', accountId: 'ACC-X0', orderId: `never-${i}` });
  return events;
}

const post = (app: TestApp, payload: string) =>
  app.server.inject({ method: 'POST', url: '/v1/executions', headers: { ...bearer('gateway'), 'content-type': 'application/json' }, payload });

describe('a large executions body is read, validated and applied in slices', () => {
  it('answers and changes state as the engine applying all its events in one go does', async () => {
    const events = feed();
    const text = JSON.stringify({ events });
    expect(text.length).toBeGreaterThan(SLICED_PARSE_BYTES);
    expect(events.length).toBeGreaterThan(10 * EXECUTION_SLICE);
    const oneGo = await start();
    holdOrders(oneGo.engine);
    const expected = oneGo.engine.applyExecutions(events);
    const expectedState = stateOf(oneGo.engine, ACCOUNTS);
    await oneGo.server.close();

    const app = await start();
    holdOrders(app.engine);
    const serialize = vi.spyOn(SlicedArraySerializer.prototype, 'serialize');
    const response = await post(app, text);
    expect(serialize).toHaveBeenCalledTimes(1);
    serialize.mockRestore();
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json<{ results: ExecutionOutcome[] }>().results).toEqual(expected);
    // Serialised in slices, byte for byte what the route's response schema gives in one go.
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.body).toBe(fastJson(jsonSchemaOf(ExecutionsResponseSchema, 'output'))({ results: expected }));
    expect(stateOf(app.engine, ACCOUNTS)).toEqual(expectedState);
  });

  it('counts every event in ulc_executions_total and warns once of fills for unknown orders, as in one go', async () => {
    const events = [...feed(), { type: 'FILL' as const, accountId: 'ACC-X1', orderId: 'never-filled', quantity: 3, price: 100 }];
    const app = await start();
    holdOrders(app.engine);
    expect((await post(app, JSON.stringify({ events }))).statusCode).toBe(200);
    const metrics = (await call(app.server, 'GET', '/metrics', undefined)).body;
    const counted = [...metrics.matchAll(/^ulc_executions_total\{[^}]*\} (\d+)$/gm)].reduce((sum, [, n]) => sum + Number(n), 0);
    expect(counted).toBe(events.length);
    expect(metrics).toContain('ulc_executions_total{type="FILL",outcome="unknown_order"} 1');
    const warnings = app.logs.lines.map((l) => JSON.parse(l) as { level: number; unknownFills?: number; fills?: { orderId: string }[] }).filter((l) => l.level === 40);
    expect(warnings).toEqual([expect.objectContaining({ unknownFills: 1, fills: [expect.objectContaining({ orderId: 'never-filled' })] })]);
  });

  it('refuses a body with a bad event deep inside as a 400 naming its field, having applied none of it', async () => {
    const app = await start();
    holdOrders(app.engine);
    const before = stateOf(app.engine, ACCOUNTS);
    const events = feed();
    events[events.length - 10] = { ...events[events.length - 10]!, quantity: -1 };
    const problem = expectProblem(await post(app, JSON.stringify({ events })), 400);
    expect(namesField(problem, `events.${events.length - 10}.quantity`), JSON.stringify(problem)).toBe(true);
    expect(stateOf(app.engine, ACCOUNTS)).toEqual(before);
  });

  it('lets other requests in between the slices it applies', async () => {
    const app = await start();
    holdOrders(app.engine);
    const answered: string[] = [];
    const apply = app.engine.applyExecutions.bind(app.engine);
    let probe: Promise<unknown> | undefined;
    vi.spyOn(app.engine, 'applyExecutions').mockImplementation((events) => {
      answered.push('slice');
      // Issued as the first slice is applied: it must not wait for the last.
      probe ??= call(app.server, 'GET', '/v1/accounts/ACC-X0/exposure', 'ops').then((response) => {
        expect(response.statusCode).toBe(200);
        answered.push('probe');
      });
      return apply(events);
    });
    const response = await post(app, JSON.stringify({ events: feed() }));
    answered.push('executions');
    await probe;
    expect(response.statusCode).toBe(200);
    const slices = Math.ceil(feed().length / EXECUTION_SLICE);
    expect(answered.filter((a) => a === 'slice')).toHaveLength(slices);
    // The probe answered while later slices were still to be applied.
    expect(answered.indexOf('probe')).toBeLessThan(slices - 1);
  });

  it('applies no slice after a journal outage that ended between slices (recovery may have put the engine back), answering 503 from there', async () => {
    const app = await journalledTestApp();
    try {
      holdOrders(app.engine);
      const store = app.store!;
      let outages = store.outages;
      Object.defineProperty(store, 'outages', { configurable: true, get: () => outages });
      const apply = app.engine.applyExecutions.bind(app.engine);
      vi.spyOn(app.engine, 'applyExecutions').mockImplementation((events) => {
        const results = apply(events);
        // The journal fails and recovers before the next slice: healthy again, but not the same journal.
        outages++;
        return results;
      });
      const problem = expectProblem(await post(app, JSON.stringify({ events: feed() })), 503);
      expect(problem.errors?.map((e) => e.field)).toEqual([`events.${EXECUTION_SLICE}`]);
      const held = ACCOUNTS.reduce((sum, account) => sum + app.engine.exposure(account).positions.reduce((s, p) => s + p.quantity, 0), 0);
      expect(held).toBe(EXECUTION_SLICE * 4);
    } finally {
      await app.server.close();
    }
  });

  it('applies no slice after the journal fails, and answers 503 naming the first event not applied', async () => {
    const app = await journalledTestApp();
    try {
      holdOrders(app.engine);
      const apply = app.engine.applyExecutions.bind(app.engine);
      let recover: (() => void) | undefined;
      vi.spyOn(app.engine, 'applyExecutions').mockImplementation((events) => {
        const results = apply(events);
        recover ??= failJournal(app);
        return results;
      });
      const events = feed();
      const problem = expectProblem(await post(app, JSON.stringify({ events })), 503);
      recover?.();
      expect(problem.errors?.map((e) => e.field)).toEqual([`events.${EXECUTION_SLICE}`]);
      const fills = events.slice(0, EXECUTION_SLICE).length * 4;
      const held = ACCOUNTS.reduce((sum, account) => sum + app.engine.exposure(account).positions.reduce((s, p) => s + p.quantity, 0), 0);
      expect(held).toBe(fills);
    } finally {
      await app.server.close();
    }
  });

  it('answers a body a positions replace cut short 503 from the slice it stopped at, warning not to count again the fills the replace holds', async () => {
    const app = await start();
    holdOrders(app.engine);
    const apply = app.engine.applyExecutions.bind(app.engine);
    vi.spyOn(app.engine, 'applyExecutions').mockImplementationOnce((slice) => {
      const outcomes = apply(slice);
      // A replace begins between this body's slices.
      app.engine.beginPositionsReplace();
      return outcomes;
    });
    const problem = expectProblem(await post(app, JSON.stringify({ events: feed() })), 503);
    expect(problem.detail).toMatch(/^only the first 500 of \d+ events were applied before a positions replace began, .*leaving out fills its positions already count$/);
    expect(namesField(problem, 'events.500')).toBe(true);
  });
});

