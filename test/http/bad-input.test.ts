import { readFileSync } from 'node:fs';
import type { InjectOptions } from 'fastify';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/domain/engine.js';
import { bearer, testApp } from '../support/app-fixtures.js';
import type { Role } from './http-helpers.js';
import { anOrder, call, check, expectProblem, namesField, stateOf } from './http-helpers.js';

type TestApp = Awaited<ReturnType<typeof testApp>>;

const BODY_LIMIT = 8_192;
const MAX_BATCH = 5;

let app: TestApp;

/** Some state for a refused request to leave alone: an open order, a position, a price, a violation. */
beforeAll(async () => {
  app = await testApp({
    server: { bodyLimitBytes: BODY_LIMIT, maxBatchSize: MAX_BATCH, defaultDeadlineMs: 1_000 },
    limits: [
      { id: 'max-qty', kind: 'order_quantity', thresholds: { warn: 500, hard: 1000 } },
      { id: 'pos', kind: 'position', thresholds: { hard: 5000, critical: 20000 } },
      { id: 'var', kind: 'value', per: 'account', thresholds: { hard: 10 } },
    ],
  });
  const { server } = app;
  await call(server, 'PUT', '/v1/positions', 'gateway', { positions: [{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 50, avgPrice: 90 }] });
  await call(server, 'PUT', '/v1/market-data', 'gateway', { prices: [{ symbol: 'AAPL', price: 100 }] });
  expect((await check(server, anOrder({ orderId: 'seed-1', quantity: 600 }))).json<CheckResult>().decision).toBe('ACCEPT');
  expect(app.engine.ledger.openOrderCount).toBe(1);
  expect(app.engine.violations.activeCount).toBe(1);
});
afterAll(async () => {
  await app.server.close();
});

interface BadCase {
  name: string;
  method: InjectOptions['method'];
  url: string;
  role: Role;
  /** An object is sent as JSON; a string is sent as it is (as application/json unless headers say otherwise). */
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  /** What the problem must name, in errors[].field or the detail. */
  field?: string;
}

const order = (fields: Record<string, unknown> = {}) => ({ ...anOrder(), ...fields });
const orderWithout = (key: string, fields: Record<string, unknown> = {}) => {
  const copy: Record<string, unknown> = order(fields);
  delete copy[key];
  return copy;
};
const rawOrder = (quantity: string, price = '100') =>
  `{"orderId":"raw-1","accountId":"ACC-1","strategyId":"S","symbol":"AAPL","side":"BUY","quantity":${quantity},"price":${price}}`;
const limit = (fields: Record<string, unknown> = {}) => ({ id: 'max-qty', kind: 'order_quantity', thresholds: { warn: 500, hard: 1000 }, ...fields });
const ID_65 = 'A'.repeat(65);

const CASES: BadCase[] = [
  // Bodies that are not JSON, or not the JSON we take.
  { name: 'malformed JSON', method: 'POST', url: '/v1/checks', role: 'gateway', body: '{"orderId": "x", ', status: 400, field: 'JSON' },
  { name: 'an empty JSON body', method: 'POST', url: '/v1/checks', role: 'gateway', body: '', headers: { 'content-type': 'application/json' }, status: 400, field: 'empty' },
  { name: 'a JSON array for an object', method: 'POST', url: '/v1/checks', role: 'gateway', body: '[1,2,3]', status: 400, field: 'body' },
  { name: 'JSON null', method: 'PUT', url: '/v1/market-data', role: 'gateway', body: 'null', status: 400, field: 'body' },
  { name: 'a __proto__ key', method: 'POST', url: '/v1/checks', role: 'gateway', body: `{"__proto__":{"admin":true},${rawOrder('1').slice(1)}`, status: 400 },
  { name: 'a body that is not what content-length says', method: 'POST', url: '/v1/checks', role: 'gateway', body: rawOrder('1'), headers: { 'content-length': '7' }, status: 400 },
  // Wrong types and unknown fields.
  { name: 'quantity as a string', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ quantity: '100' }), status: 400, field: 'quantity' },
  { name: 'price as a string', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ price: '100' }), status: 400, field: 'price' },
  { name: 'side in lower case', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ side: 'buy' }), status: 400, field: 'side' },
  { name: 'an unknown orderType', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ orderType: 'STOP' }), status: 400, field: 'orderType' },
  { name: 'an unknown field', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ leverage: 10 }), status: 400, field: 'leverage' },
  { name: 'a missing accountId', method: 'POST', url: '/v1/checks', role: 'gateway', body: orderWithout('accountId'), status: 400, field: 'accountId' },
  { name: 'tags that are not strings', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ tags: { desk: 7 } }), status: 400, field: 'tags.desk' },
  {
    name: 'more than 16 tags',
    method: 'POST',
    url: '/v1/checks',
    role: 'gateway',
    body: order({ tags: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`t${i}`, 'x'])) }),
    status: 400,
    field: 'tags',
  },
  // Identifiers.
  { name: 'a 65-character orderId', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ orderId: ID_65 }), status: 400, field: 'orderId' },
  { name: 'a 65-character accountId', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ accountId: ID_65 }), status: 400, field: 'accountId' },
  { name: "an accountId with '|'", method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ accountId: 'ACC|1' }), status: 400, field: 'accountId' },
  { name: 'a symbol with a space', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ symbol: 'BRK A' }), status: 400, field: 'symbol' },
  { name: 'an empty strategyId', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ strategyId: '' }), status: 400, field: 'strategyId' },
  { name: 'a non-ASCII venue', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ venue: 'XNÜS' }), status: 400, field: 'venue' },
  // Numbers.
  { name: 'quantity 1e400 (Infinity once parsed)', method: 'POST', url: '/v1/checks', role: 'gateway', body: rawOrder('1e400'), status: 400, field: 'quantity' },
  { name: 'price 1e400', method: 'POST', url: '/v1/checks', role: 'gateway', body: rawOrder('1', '1e400'), status: 400, field: 'price' },
  { name: 'quantity -1e400', method: 'POST', url: '/v1/checks', role: 'gateway', body: rawOrder('-1e400'), status: 400, field: 'quantity' },
  { name: 'a huge quantity', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ quantity: 1e13 }), status: 400, field: 'quantity' },
  { name: 'a negative quantity', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ quantity: -5 }), status: 400, field: 'quantity' },
  { name: 'a zero quantity', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ quantity: 0 }), status: 400, field: 'quantity' },
  { name: 'a zero price', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ price: 0 }), status: 400, field: 'price' },
  { name: 'a null price', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ price: null }), status: 400, field: 'price' },
  // Cross-field rules.
  { name: 'a LIMIT order without a price', method: 'POST', url: '/v1/checks', role: 'gateway', body: orderWithout('price'), status: 400, field: 'price' },
  { name: 'an order without orderType or price (LIMIT by default)', method: 'POST', url: '/v1/checks', role: 'gateway', body: orderWithout('price', { orderType: undefined }), status: 400, field: 'price' },
  // Batches.
  { name: `a batch over maxBatchSize (${MAX_BATCH})`, method: 'POST', url: '/v1/checks/batch', role: 'gateway', body: { orders: Array.from({ length: MAX_BATCH + 1 }, () => order()) }, status: 413, field: 'orders' },
  { name: 'an empty batch', method: 'POST', url: '/v1/checks/batch', role: 'gateway', body: { orders: [] }, status: 400, field: 'orders' },
  { name: 'a bad order inside a batch', method: 'POST', url: '/v1/checks/batch', role: 'gateway', body: { orders: [order(), order({ quantity: '5' })] }, status: 400, field: 'orders.1.quantity' },
  { name: 'atomic as a string', method: 'POST', url: '/v1/checks/batch', role: 'gateway', body: { orders: [order()], atomic: 'yes' }, status: 400, field: 'atomic' },
  { name: 'an unknown batch field', method: 'POST', url: '/v1/checks/batch', role: 'gateway', body: { orders: [order()], dryRun: true }, status: 400, field: 'dryRun' },
  // Executions, positions, market data.
  { name: 'a FILL without a price', method: 'POST', url: '/v1/executions', role: 'gateway', body: { events: [{ type: 'FILL', accountId: 'ACC-1', orderId: 'seed-1', quantity: 5 }] }, status: 400, field: 'events.0.price' },
  { name: 'a FILL without a quantity', method: 'POST', url: '/v1/executions', role: 'gateway', body: { events: [{ type: 'FILL', accountId: 'ACC-1', orderId: 'seed-1', price: 5 }] }, status: 400, field: 'events.0.quantity' },
  { name: 'a FILL quantity as a string', method: 'POST', url: '/v1/executions', role: 'gateway', body: { events: [{ type: 'FILL', accountId: 'ACC-1', orderId: 'seed-1', quantity: '5', price: 5 }] }, status: 400, field: 'events.0.quantity' },
  { name: 'an unknown execution type', method: 'POST', url: '/v1/executions', role: 'gateway', body: { events: [{ type: 'AMEND', accountId: 'ACC-1', orderId: 'seed-1' }] }, status: 400, field: 'events.0.type' },
  {
    name: 'a good event before a bad one (all or nothing)',
    method: 'POST',
    url: '/v1/executions',
    role: 'gateway',
    body: { events: [{ type: 'CANCEL', accountId: 'ACC-1', orderId: 'seed-1' }, { type: 'CANCEL', accountId: 'ACC-1' }] },
    status: 400,
    field: 'events.1.orderId',
  },
  { name: 'no events', method: 'POST', url: '/v1/executions', role: 'gateway', body: { events: [] }, status: 400, field: 'events' },
  { name: 'a negative avgPrice', method: 'PUT', url: '/v1/positions', role: 'gateway', body: { positions: [{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 1, avgPrice: -1 }] }, status: 400, field: 'positions.0.avgPrice' },
  { name: 'a position of 1e400', method: 'PUT', url: '/v1/positions', role: 'gateway', body: '{"positions":[{"accountId":"ACC-1","symbol":"AAPL","quantity":1e400,"avgPrice":1}]}', status: 400, field: 'positions.0.quantity' },
  { name: 'replace as a string', method: 'PUT', url: '/v1/positions', role: 'gateway', body: { positions: [], replace: 'true' }, status: 400, field: 'replace' },
  { name: 'a position symbol with a space', method: 'PUT', url: '/v1/positions', role: 'gateway', body: { positions: [{ accountId: 'ACC-1', symbol: 'A B', quantity: 1, avgPrice: 1 }] }, status: 400, field: 'positions.0.symbol' },
  { name: 'a zero reference price', method: 'PUT', url: '/v1/market-data', role: 'gateway', body: { prices: [{ symbol: 'AAPL', price: 0 }] }, status: 400, field: 'prices.0.price' },
  { name: 'a good price before a bad one', method: 'PUT', url: '/v1/market-data', role: 'gateway', body: { prices: [{ symbol: 'AAPL', price: 1 }, { symbol: 'MSFT', price: '2' }] }, status: 400, field: 'prices.1.price' },
  { name: 'an unknown market-data field', method: 'PUT', url: '/v1/market-data', role: 'gateway', body: { prices: [{ symbol: 'AAPL', price: 1, currency: 'USD' }] }, status: 400, field: 'prices.0.currency' },
  // Size and media type.
  { name: 'a body over bodyLimitBytes', method: 'POST', url: '/v1/checks', role: 'gateway', body: order({ tags: { note: 'x'.repeat(200) }, padding: 'x'.repeat(BODY_LIMIT) }), status: 413 },
  { name: 'text/plain', method: 'POST', url: '/v1/checks', role: 'gateway', body: JSON.stringify(order()), headers: { 'content-type': 'text/plain' }, status: 415 },
  { name: 'application/xml', method: 'POST', url: '/v1/checks', role: 'gateway', body: '<order/>', headers: { 'content-type': 'application/xml' }, status: 415 },
  { name: 'a form', method: 'PUT', url: '/v1/market-data', role: 'gateway', body: 'symbol=AAPL&price=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415 },
  // Headers.
  { name: 'x-deadline-ms that is not a number', method: 'POST', url: '/v1/checks', role: 'gateway', body: order(), headers: { 'x-deadline-ms': 'soon' }, status: 400, field: 'headers.x-deadline-ms' },
  { name: 'x-deadline-ms of -0 (0 is a spent budget; a negative one is malformed)', method: 'POST', url: '/v1/checks', role: 'gateway', body: order(), headers: { 'x-deadline-ms': '-0' }, status: 400, field: 'headers.x-deadline-ms' },
  { name: 'a negative x-deadline-ms', method: 'POST', url: '/v1/checks/batch', role: 'gateway', body: { orders: [order()] }, headers: { 'x-deadline-ms': '-5' }, status: 400, field: 'headers.x-deadline-ms' },
  { name: 'x-deadline-ms over a minute', method: 'POST', url: '/v1/checks', role: 'gateway', body: order(), headers: { 'x-deadline-ms': '600000' }, status: 400, field: 'headers.x-deadline-ms' },
  { name: 'an If-Match that is not a version', method: 'PUT', url: '/v1/limits/max-qty', role: 'admin', body: limit({ thresholds: { hard: 1 } }), headers: { 'if-match': 'latest' }, status: 400, field: 'headers.if-match' },
  ...['0x10', '0b11', '1e3', '1E3', '+5', '5.', '.5', 'Infinity', '5, 5'].map((value) => ({
    name: `x-deadline-ms ${JSON.stringify(value)} (Number() reads it; decimal digits only)`,
    method: 'POST' as const,
    url: '/v1/checks',
    role: 'gateway' as const,
    body: order(),
    headers: { 'x-deadline-ms': value },
    status: 400,
    field: 'headers.x-deadline-ms',
  })),
  ...['"1', '1"', 'W/"1', 'W/1', '"01"', '"1", "2"', '"-1"'].map((value) => ({
    name: `If-Match ${JSON.stringify(value)} (not 1, "1" or W/"1")`,
    method: 'PUT' as const,
    url: '/v1/limits/max-qty',
    role: 'admin' as const,
    body: limit({ thresholds: { hard: 1 } }),
    headers: { 'if-match': value },
    status: 400,
    field: 'headers.if-match',
  })),
  { name: 'an If-Match on DELETE that is not a version', method: 'DELETE', url: '/v1/limits/max-qty', role: 'admin', headers: { 'if-match': '"v1"' }, status: 400, field: 'headers.if-match' },
  // A query on a route that changes state: refused, not ignored.
  { name: 'a query on a check', method: 'POST', url: '/v1/checks?dryRun=true', role: 'gateway', body: order(), status: 400, field: 'querystring.dryRun' },
  { name: 'a query on a batch', method: 'POST', url: '/v1/checks/batch?atomic=true', role: 'gateway', body: { orders: [order()] }, status: 400, field: 'querystring.atomic' },
  { name: 'replace as a query', method: 'PUT', url: '/v1/positions?replace=true', role: 'gateway', body: { positions: [] }, status: 400, field: 'querystring.replace' },
  { name: 'a query on executions', method: 'POST', url: '/v1/executions?dryRun=1', role: 'gateway', body: { events: [{ type: 'CANCEL', accountId: 'ACC-1', orderId: 'seed-1' }] }, status: 400, field: 'querystring.dryRun' },
  { name: 'a query on market data', method: 'PUT', url: '/v1/market-data?dryRun=1', role: 'gateway', body: { prices: [{ symbol: 'AAPL', price: 1 }] }, status: 400, field: 'querystring.dryRun' },
  { name: 'a query on a limit write', method: 'PUT', url: '/v1/limits/max-qty?dryRun=1', role: 'admin', body: limit({ thresholds: { hard: 1 } }), status: 400, field: 'querystring.dryRun' },
  { name: 'a query on a new limit', method: 'POST', url: '/v1/limits?dryRun=1', role: 'admin', body: limit({ id: 'new' }), status: 400, field: 'querystring.dryRun' },
  { name: 'a query on an evaluation', method: 'POST', url: '/v1/limits/var/evaluate?dryRun=1', role: 'gateway', body: { value: 11, scopeId: 'ACC-1' }, status: 400, field: 'querystring.dryRun' },
  { name: 'a query on a trading state', method: 'PUT', url: '/v1/trading-state?dryRun=1', role: 'admin', body: { scope: { type: 'global' }, state: 'HALTED', reason: 'x' }, status: 400, field: 'querystring.dryRun' },
  // A query on a read that takes none: refused too, not ignored.
  { name: 'a query on the limit book', method: 'GET', url: '/v1/limits?dryRun=1', role: 'ops', status: 400, field: 'querystring.dryRun' },
  { name: 'a query on one limit', method: 'GET', url: '/v1/limits/max-qty?version=1', role: 'ops', status: 400, field: 'querystring.version' },
  { name: 'a filter on the trading states', method: 'GET', url: '/v1/trading-state?scope=account', role: 'ops', status: 400, field: 'querystring.scope' },
  { name: 'a time on an exposure', method: 'GET', url: '/v1/accounts/ACC-1/exposure?asOf=1', role: 'ops', status: 400, field: 'querystring.asOf' },
  { name: 'a query on the violation stream', method: 'GET', url: '/v1/violations/stream?since=1', role: 'ops', status: 400, field: 'querystring.since' },
  // Routes that take no body.
  { name: 'a reset with a scope', method: 'POST', url: '/v1/sessions/reset', role: 'admin', body: { scope: { type: 'account', id: 'ACC-9' } }, status: 400, field: 'scope' },
  { name: 'a DELETE with a body', method: 'DELETE', url: '/v1/limits/max-qty', role: 'admin', body: { dryRun: true }, status: 400, field: 'dryRun' },
  // The limit book.
  { name: 'thresholds out of order (soft < warn)', method: 'PUT', url: '/v1/limits/max-qty', role: 'admin', body: limit({ thresholds: { warn: 500, soft: 100, hard: 1000 } }), status: 400, field: 'thresholds.soft' },
  { name: 'thresholds out of order (hard < warn)', method: 'PUT', url: '/v1/limits/max-qty', role: 'admin', body: limit({ thresholds: { warn: 500, hard: 100 } }), status: 400, field: 'thresholds.hard' },
  { name: 'thresholds out of order on POST', method: 'POST', url: '/v1/limits', role: 'admin', body: limit({ id: 'new', thresholds: { hard: 10, critical: 5 } }), status: 400, field: 'thresholds.critical' },
  { name: 'a negative threshold', method: 'PUT', url: '/v1/limits/max-qty', role: 'admin', body: limit({ thresholds: { hard: -1 } }), status: 400, field: 'thresholds.hard' },
  { name: 'a limit without thresholds.hard', method: 'PUT', url: '/v1/limits/max-qty', role: 'admin', body: limit({ thresholds: { warn: 1 } }), status: 400, field: 'thresholds.hard' },
  { name: 'an unknown limit kind', method: 'POST', url: '/v1/limits', role: 'admin', body: limit({ id: 'new', kind: 'vibes' }), status: 400, field: 'kind' },
  { name: 'order_rate without windowMs', method: 'POST', url: '/v1/limits', role: 'admin', body: limit({ id: 'new', kind: 'order_rate' }), status: 400, field: 'windowMs' },
  { name: 'position per account', method: 'POST', url: '/v1/limits', role: 'admin', body: limit({ id: 'new', kind: 'position', per: 'account' }), status: 400, field: 'per' },
  { name: 'a limit id with a space', method: 'POST', url: '/v1/limits', role: 'admin', body: limit({ id: 'my limit' }), status: 400, field: 'id' },
  { name: 'a 65-character limit id in the path', method: 'GET', url: `/v1/limits/${ID_65}`, role: 'ops', status: 400, field: 'params.id' },
  { name: "a '|' in the path id", method: 'DELETE', url: '/v1/limits/max%7Cqty', role: 'admin', status: 400, field: 'params.id' },
  { name: 'a path id over the router limit', method: 'GET', url: `/v1/limits/${'x'.repeat(200)}`, role: 'ops', status: 400 },
  { name: 'a path that does not decode', method: 'GET', url: '/v1/limits/%E0%A4%A', role: 'ops', status: 400 },
  { name: 'an account id with a space in the path', method: 'GET', url: '/v1/accounts/ACC%201/exposure', role: 'ops', status: 400, field: 'params.id' },
  { name: 'an evaluated value as a string', method: 'POST', url: '/v1/limits/var/evaluate', role: 'gateway', body: { value: '11', scopeId: 'ACC-1' }, status: 400, field: 'value' },
  { name: 'an evaluated value of 1e400', method: 'POST', url: '/v1/limits/var/evaluate', role: 'gateway', body: '{"value":1e400,"scopeId":"ACC-1"}', status: 400, field: 'value' },
  { name: "a scopeId with '|'", method: 'POST', url: '/v1/limits/var/evaluate', role: 'gateway', body: { value: 11, scopeId: 'ACC-1|AAPL' }, status: 400, field: 'scopeId' },
  // Trading state.
  { name: 'an unknown trading state', method: 'PUT', url: '/v1/trading-state', role: 'admin', body: { scope: { type: 'global' }, state: 'PAUSED', reason: 'x' }, status: 400, field: 'state' },
  { name: 'an unknown scope type', method: 'PUT', url: '/v1/trading-state', role: 'admin', body: { scope: { type: 'desk', id: 'D' }, state: 'HALTED', reason: 'x' }, status: 400, field: 'scope.type' },
  { name: 'an empty reason', method: 'PUT', url: '/v1/trading-state', role: 'admin', body: { scope: { type: 'global' }, state: 'HALTED', reason: '' }, status: 400, field: 'reason' },
  { name: 'a trading-state account id with a space', method: 'PUT', url: '/v1/trading-state', role: 'admin', body: { scope: { type: 'account', id: 'ACC 1' }, state: 'HALTED', reason: 'x' }, status: 400, field: 'scope.id' },
];

function inject(c: BadCase) {
  const headers: Record<string, string> = { ...bearer(c.role), ...(c.headers ?? {}) };
  if (typeof c.body === 'string' && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  const payload = c.body === undefined ? {} : { payload: typeof c.body === 'string' ? c.body : JSON.stringify(c.body) };
  if (typeof c.body === 'object' && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  return app.server.inject({ method: c.method, url: c.url, headers, ...payload });
}

describe('bad input is a 4xx problem+json that names the field and changes nothing', () => {
  for (const c of CASES) {
    it(`${c.name} → ${c.status}`, async () => {
      const before = stateOf(app.engine);
      const response = await inject(c);
      const problem = expectProblem(response, c.status);
      if (c.field !== undefined) expect(namesField(problem, c.field), JSON.stringify(problem)).toBe(true);
      expect(stateOf(app.engine)).toEqual(before);
    });
  }
});

describe('an unknown query parameter', () => {
  // Routes that need a body are covered above, each with a valid body (the body is validated first).
  it('is refused with 400 naming it on every /v1 route that needs no body', async () => {
    type Operation = { 'x-required-role': Role; requestBody?: { required: boolean } };
    const document = parse(readFileSync('openapi.yaml', 'utf8')) as { paths: Record<string, Record<string, Operation>> };
    const tried: string[] = [];
    const accepted: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/v1/')) continue;
      const url = path.replace('/v1/limits/{id}', '/v1/limits/max-qty').replace('{id}', 'ACC-1') + '?bogus=1';
      for (const [method, operation] of Object.entries(operations)) {
        if (operation.requestBody?.required === true) continue;
        tried.push(`${method.toUpperCase()} ${path}`);
        const before = stateOf(app.engine);
        const response = await call(app.server, method.toUpperCase(), url, operation['x-required-role']);
        const refused = response.statusCode === 400 && namesField(response.json(), 'querystring.bogus');
        if (!refused) accepted.push(`${method.toUpperCase()} ${url} -> ${response.statusCode}`);
        expect(stateOf(app.engine)).toEqual(before);
      }
    }
    expect(accepted).toEqual([]);
    expect(tried).toEqual(expect.arrayContaining(['GET /v1/limits', 'GET /v1/limits/{id}', 'DELETE /v1/limits/{id}', 'GET /v1/trading-state', 'GET /v1/accounts/{id}/exposure', 'GET /v1/violations/stream']));
  });
});

describe('garbage in, never a 5xx', () => {
  const garbage = ['0', '"text"', 'true', '{}', '{"orders":5}', '{"events":[null]}', '{"positions":[[]]}', '{"prices":{}}', `${'['.repeat(2_000)}${']'.repeat(2_000)}`, '{"a":'.repeat(100)];
  const bodyRoutes: [InjectOptions['method'], string, Role][] = [
    ['POST', '/v1/checks', 'gateway'],
    ['POST', '/v1/checks/batch', 'gateway'],
    ['POST', '/v1/executions', 'gateway'],
    ['PUT', '/v1/positions', 'gateway'],
    ['PUT', '/v1/market-data', 'gateway'],
    ['POST', '/v1/limits', 'admin'],
    ['PUT', '/v1/limits/max-qty', 'admin'],
    ['POST', '/v1/limits/var/evaluate', 'gateway'],
    ['PUT', '/v1/trading-state', 'admin'],
  ];
  for (const [method, url, role] of bodyRoutes) {
    it(`${method} ${url}`, async () => {
      const before = stateOf(app.engine);
      for (const body of garbage) {
        const response = await call(app.server, method, url, role, body, { 'content-type': 'application/json' });
        expect(response.statusCode, `${body.slice(0, 40)} → ${response.body}`).toBeGreaterThanOrEqual(400);
        expect(response.statusCode, `${body.slice(0, 40)} → ${response.body}`).toBeLessThan(500);
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      expect(stateOf(app.engine)).toEqual(before);
    });
  }
});
