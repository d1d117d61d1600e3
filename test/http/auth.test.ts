import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKENS, testApp } from '../support/app-fixtures.js';
import type { Role } from './http-helpers.js';
import { anOrder, call, expectProblem, stateOf } from './http-helpers.js';

type TestApp = Awaited<ReturnType<typeof testApp>>;

interface RouteCase {
  method: InjectOptions['method'];
  url: string;
  role: Role;
  body?: unknown;
}

/** Every protected route of DESIGN §5 with the role it needs and a valid body. */
const ROUTES: RouteCase[] = [
  { method: 'POST', url: '/v1/checks', role: 'gateway', body: anOrder() },
  { method: 'POST', url: '/v1/checks/batch', role: 'gateway', body: { orders: [anOrder()] } },
  { method: 'POST', url: '/v1/executions', role: 'gateway', body: { events: [{ type: 'CANCEL', accountId: 'ACC-1', orderId: 'x' }] } },
  { method: 'PUT', url: '/v1/positions', role: 'gateway', body: { positions: [{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 1, avgPrice: 1 }] } },
  { method: 'PUT', url: '/v1/market-data', role: 'gateway', body: { prices: [{ symbol: 'AAPL', price: 1 }] } },
  { method: 'POST', url: '/v1/limits/var/evaluate', role: 'gateway', body: { value: 1 } },
  { method: 'GET', url: '/v1/accounts/ACC-1/exposure', role: 'ops' },
  { method: 'GET', url: '/v1/limits', role: 'ops' },
  { method: 'GET', url: '/v1/limits/max-qty', role: 'ops' },
  { method: 'GET', url: '/v1/violations/active', role: 'ops' },
  { method: 'GET', url: '/v1/violations', role: 'ops' },
  { method: 'GET', url: '/v1/violations/stream', role: 'ops' },
  { method: 'GET', url: '/v1/trading-state', role: 'ops' },
  { method: 'POST', url: '/v1/limits', role: 'admin', body: { id: 'new', kind: 'order_quantity', thresholds: { hard: 1 } } },
  { method: 'PUT', url: '/v1/limits/max-qty', role: 'admin', body: { id: 'max-qty', kind: 'order_quantity', thresholds: { hard: 1 } } },
  { method: 'DELETE', url: '/v1/limits/max-qty', role: 'admin' },
  { method: 'PUT', url: '/v1/trading-state', role: 'admin', body: { scope: { type: 'global' }, state: 'HALTED', reason: 'x' } },
  { method: 'POST', url: '/v1/sessions/reset', role: 'admin' },
];

/** admin ⊇ ops; gateway is separate (DESIGN §5). */
const ALLOWED: Record<Role, readonly Role[]> = { gateway: ['gateway'], ops: ['ops', 'admin'], admin: ['admin'] };
const ROLES: readonly Role[] = ['gateway', 'ops', 'admin'];

const label = (r: RouteCase) => `${r.method} ${r.url}`;

let app: TestApp;
beforeAll(async () => {
  app = await testApp({
    limits: [
      { id: 'max-qty', kind: 'order_quantity', thresholds: { warn: 500, hard: 1000 } },
      { id: 'var', kind: 'value', thresholds: { hard: 10 } },
    ],
  });
});
afterAll(async () => {
  await app.server.close();
});

const send = (route: RouteCase, headers: Record<string, string>) =>
  app.server.inject({ method: route.method, url: route.url, headers, ...(route.body === undefined ? {} : { payload: route.body as object }) });

describe('401 without a valid token', () => {
  const badHeaders: [string, Record<string, string>][] = [
    ['no authorization header', {}],
    ['an unknown token', { authorization: 'Bearer not-a-real-token' }],
    ['an empty bearer token', { authorization: 'Bearer ' }],
    ['another auth scheme', { authorization: `Basic ${Buffer.from(`u:${TOKENS.admin}`).toString('base64')}` }],
    ['a bare token without a scheme', { authorization: TOKENS.admin }],
  ];
  for (const route of ROUTES) {
    it(`${label(route)} answers 401 problem+json and changes nothing`, async () => {
      const before = stateOf(app.engine);
      for (const [, headers] of badHeaders) expectProblem(await send(route, headers), 401);
      expect(stateOf(app.engine)).toEqual(before);
    });
  }

  it('challenges with WWW-Authenticate: Bearer (RFC 9110 §15.5.2), naming the error only when a bearer token was sent (RFC 6750 §3.1)', async () => {
    const challenges = [];
    for (const [what, headers] of badHeaders) {
      const response = await call(app.server, 'GET', '/v1/limits', undefined, undefined, headers);
      expect(response.statusCode, what).toBe(401);
      challenges.push([what, response.headers['www-authenticate']]);
    }
    expect(challenges).toEqual([
      ['no authorization header', 'Bearer'],
      ['an unknown token', 'Bearer error="invalid_token"'],
      ['an empty bearer token', 'Bearer'],
      ['another auth scheme', 'Bearer'],
      ['a bare token without a scheme', 'Bearer'],
    ]);
  });

  it('a 403 carries no challenge: the token is good, its role is not', async () => {
    const response = await call(app.server, 'GET', '/v1/limits', 'gateway');
    expect(response.statusCode).toBe(403);
    expect(response.headers['www-authenticate']).toBeUndefined();
  });
});

describe('403 with the wrong role', () => {
  for (const route of ROUTES) {
    const denied = ROLES.filter((role) => !ALLOWED[route.role].includes(role));
    it(`${label(route)} answers 403 to ${denied.join(' and ')}`, async () => {
      const before = stateOf(app.engine);
      for (const role of denied) {
        const problem = expectProblem(await call(app.server, route.method, route.url, role, route.body), 403);
        expect(problem.detail).toContain(route.role);
      }
      expect(stateOf(app.engine)).toEqual(before);
    });
  }
});

describe('the right role passes', () => {
  it('each role reaches its own routes (non-mutating ones here; the route suites cover the rest)', async () => {
    for (const route of ROUTES.filter((r) => r.method === 'GET' && !r.url.endsWith('/stream'))) {
      const response = await call(app.server, route.method, route.url, route.role);
      expect(response.statusCode, `${label(route)}: ${response.body}`).toBe(200);
    }
  });

  it('admin reads every ops route', async () => {
    for (const route of ROUTES.filter((r) => r.role === 'ops' && !r.url.endsWith('/stream'))) {
      const response = await call(app.server, route.method, route.url, 'admin');
      expect(response.statusCode, `${label(route)}: ${response.body}`).toBe(200);
    }
  });

  it('accepts the bearer scheme in any case (RFC 9110)', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const response = await app.server.inject({ method: 'GET', url: '/v1/limits', headers: { authorization: `${scheme} ${TOKENS.ops}` } });
      expect(response.statusCode, scheme).toBe(200);
    }
  });

  it('never writes a token to the log', async () => {
    await call(app.server, 'PUT', '/v1/trading-state', 'admin', { scope: { type: 'account', id: 'ACC-LOG' }, state: 'ACTIVE', reason: 'log test' });
    await call(app.server, 'GET', '/v1/limits', 'ops');
    const log = app.logs.lines.join('\n');
    expect(log).toContain('trading state changed');
    for (const token of Object.values(TOKENS)) expect(log).not.toContain(token);
  });
});

describe('auth disabled', () => {
  it('lets every route through without a token', async () => {
    const open = await testApp({ auth: { enabled: false, tokens: [] } });
    try {
      expect((await call(open.server, 'GET', '/v1/limits', undefined)).statusCode).toBe(200);
      expect((await call(open.server, 'POST', '/v1/checks', undefined, anOrder())).statusCode).toBe(200);
    } finally {
      await open.server.close();
    }
  });
});
