import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterEach, expect } from 'vitest';
import type { LimitEngine } from '../../src/domain/engine.js';
import type { Order } from '../../src/domain/orders.js';
import type { ProblemBody } from '../../src/http/problems.js';
import { bearer, testApp } from '../support/app-fixtures.js';
import { order } from '../support/engine-fixtures.js';
import type { TOKENS } from '../support/app-fixtures.js';

export type Role = keyof typeof TOKENS;

/** A valid order as a gateway sends it (LIMIT, with a price); fields override. */
export const anOrder = (fields: Partial<Order> = {}): Order => order(fields);

export type TestApp = Awaited<ReturnType<typeof testApp>>;

/** Registers an afterEach that closes the app the test started; returns the starter. */
export function appPerTest(): (...args: Parameters<typeof testApp>) => Promise<TestApp> {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.server.close();
    app = undefined;
  });
  return async (...args) => {
    app = await testApp(...args);
    return app;
  };
}

/** `server.inject` with the bearer token of `role` (or none) and a JSON body. */
export function call(
  server: FastifyInstance,
  method: InjectOptions['method'],
  url: string,
  role: Role | undefined,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return server.inject({
    method,
    url,
    headers: { ...(role === undefined ? {} : bearer(role)), ...headers },
    ...(payload === undefined ? {} : typeof payload === 'string' ? { payload } : { payload: payload as object }),
  });
}

export const check = (server: FastifyInstance, order: Order, headers: Record<string, string> = {}) =>
  call(server, 'POST', '/v1/checks', 'gateway', order, headers);

/** Asserts an RFC 9457 answer with this status and returns its body. */
export function expectProblem(response: LightMyRequestResponse, status: number): ProblemBody {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<ProblemBody>();
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^\/problems\//) as unknown, title: expect.any(String) as unknown });
  expect(typeof body.detail).toBe('string');
  return body;
}

/** True when the problem names `field`, in `errors[].field` or in the detail text. */
export function namesField(problem: ProblemBody, field: string): boolean {
  return (problem.errors ?? []).some((e) => e.field === field) || problem.detail.includes(field);
}

/** GETs `path` with each query of `cases` as `role` and expects a 400 problem naming that case's field. */
export async function expectQueriesRefused(server: FastifyInstance, path: string, cases: readonly (readonly [string, string])[], role: Role = 'ops'): Promise<void> {
  for (const [query, field] of cases) {
    const problem = expectProblem(await call(server, 'GET', `${path}${query}`, role), 400);
    expect(namesField(problem, field), `${query}: ${JSON.stringify(problem)}`).toBe(true);
  }
}

/** Everything a refused request must leave as it was. */
export function stateOf(engine: LimitEngine, accounts: readonly string[] = ['ACC-1', 'ACC-2']) {
  return {
    openOrders: engine.ledger.openOrderCount,
    bookVersion: engine.book.version,
    definitions: JSON.stringify(engine.book.definitions),
    exposure: accounts.map((a) => JSON.stringify(engine.exposure(a))),
    history: engine.violations.historySize,
    active: engine.violations.activeCount,
    tradingStates: JSON.stringify(engine.tradingStates.list()),
  };
}

/**
 * Posts a batch (an object, or JSON text as sent) and, one timer tick later, a health probe:
 * `answered` says which answered first, so a test can show that a large batch lets other
 * requests in while it is read, validated and checked.
 */
export async function batchBesideProbe(server: FastifyInstance, payload: object | string): Promise<{ answered: string[]; response: LightMyRequestResponse }> {
  const answered: string[] = [];
  const headers = { ...bearer('gateway'), 'content-type': 'application/json' };
  const batch = server.inject({ method: 'POST', url: '/v1/checks/batch', headers, payload }).then((response) => {
    answered.push('batch');
    return response;
  });
  const probe = new Promise((resolve) => setTimeout(resolve, 0))
    .then(() => server.inject({ method: 'GET', url: '/healthz' }))
    .then(() => answered.push('health'));
  const [response] = await Promise.all([batch, probe]);
  return { answered, response };
}
