import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/domain/engine.js';
import type { AccountExposure } from '../../src/domain/exposure-view.js';
import { failJournal, journalledTestApp } from '../support/app-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';
import { anOrder, appPerTest, call, check, expectProblem, expectQueriesRefused, namesField } from './http-helpers.js';
import type { TestApp } from './http-helpers.js';

const start = appPerTest();

const setState = (server: TestApp['server'], scope: { type: string; id?: string }, state: string, reason = 'desk call') =>
  call(server, 'PUT', '/v1/trading-state', 'admin', { scope, state, reason });

const decision = async (server: TestApp['server'], fields: Parameters<typeof anOrder>[0] = {}) => (await check(server, anOrder(fields))).json<CheckResult>();

describe('GET/PUT /v1/trading-state', () => {
  it('halts an account: its orders reject with HALTED, others pass; resuming lets them through again', async () => {
    const clock = new FakeClock();
    const { server, engine } = await start({}, clock);
    expect((await call(server, 'GET', '/v1/trading-state', 'ops')).json()).toEqual({ states: [], nextCursor: null });

    const halted = await setState(server, { type: 'account', id: 'ACC-1' }, 'HALTED', 'fat finger investigation');
    expect(halted.statusCode).toBe(200);
    expect(halted.json()).toEqual({ scope: { type: 'account', id: 'ACC-1' }, state: 'HALTED', reason: 'fat finger investigation', setAt: clock.now(), source: 'api' });
    expect((await call(server, 'GET', '/v1/trading-state', 'ops')).json()).toEqual({ states: [halted.json()], nextCursor: null });

    expect(await decision(server, { accountId: 'ACC-1' })).toMatchObject({ decision: 'REJECT', reasons: ['HALTED'], evaluated: 0 });
    expect((await decision(server, { accountId: 'ACC-2' })).decision).toBe('ACCEPT');
    expect(engine.ledger.openOrderCount).toBe(1);

    expect((await setState(server, { type: 'account', id: 'ACC-1' }, 'ACTIVE')).statusCode).toBe(200);
    expect((await call(server, 'GET', '/v1/trading-state', 'ops')).json()).toEqual({ states: [], nextCursor: null });
    expect((await decision(server, { accountId: 'ACC-1' })).decision).toBe('ACCEPT');
  });

  it('the global kill switch rejects every order', async () => {
    const { server } = await start();
    expect((await setState(server, { type: 'global' }, 'HALTED')).json()).toEqual(expect.objectContaining({ scope: { type: 'global' }, state: 'HALTED' }));
    expect((await decision(server, { accountId: 'ACC-9', symbol: 'ZZZ' })).reasons).toEqual(['HALTED']);
  });

  it('reduce-only on account+symbol passes orders that reduce the position and rejects the rest', async () => {
    const { server } = await start();
    await call(server, 'PUT', '/v1/positions', 'gateway', { positions: [{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 10 }] });
    expect((await setState(server, { type: 'account+symbol', id: 'ACC-1|AAPL' }, 'REDUCE_ONLY')).statusCode).toBe(200);
    expect((await decision(server, { side: 'SELL', quantity: 50 })).decision).toBe('ACCEPT');
    expect((await decision(server, { side: 'BUY', quantity: 10 })).reasons).toEqual(['REDUCE_ONLY']);
    expect((await decision(server, { side: 'SELL', quantity: 60 })).reasons).toEqual(['REDUCE_ONLY']);
    expect((await decision(server, { symbol: 'MSFT' })).decision).toBe('ACCEPT');
  });

  it('answers the scope as it is written, { type, id? }, for every scope type, so what GET lists can be PUT back', async () => {
    const { server } = await start();
    const scopes = [
      { type: 'global' },
      { type: 'account', id: 'ACC-1' },
      { type: 'strategy', id: 'MM:1' },
      { type: 'symbol', id: 'AAPL' },
      { type: 'account+symbol', id: 'ACC-1|AAPL' },
      { type: 'strategy+symbol', id: 'MM-1|MSFT' },
    ];
    for (const scope of scopes) expect((await setState(server, scope, 'REDUCE_ONLY')).json<{ scope: unknown }>().scope).toEqual(scope);

    const listed = (await call(server, 'GET', '/v1/trading-state', 'ops')).json<{ states: { scope: { type: string; id?: string }; state: string; reason: string }[] }>().states;
    // In scope-key order: account+symbol:ACC-1|AAPL, account:ACC-1 ('+' sorts before ':'), global, …
    expect(listed.map((entry) => entry.scope)).toEqual([scopes[4], scopes[1], scopes[0], scopes[5], scopes[2], scopes[3]]);
    // Lift each as it was read.
    for (const { scope } of listed) {
      const resumed = await call(server, 'PUT', '/v1/trading-state', 'admin', { scope, state: 'ACTIVE', reason: 'resumed' });
      expect(resumed.statusCode, resumed.body).toBe(200);
    }
    expect((await call(server, 'GET', '/v1/trading-state', 'ops')).json()).toEqual({ states: [], nextCursor: null });
  });

  it('lists a state set by the HALT action of a limit in the same shape, naming the limit as its source', async () => {
    const clock = new FakeClock();
    const { server } = await start({ limits: [{ id: 'big', kind: 'order_quantity', thresholds: { hard: 100 }, actions: { HARD_BREACH: 'HALT' } }] }, clock);
    expect((await decision(server, { accountId: 'ACC-7', quantity: 101 })).decision).toBe('REJECT');
    const { states } = (await call(server, 'GET', '/v1/trading-state', 'ops')).json<{ states: Record<string, unknown>[] }>();
    expect(states).toEqual([{ scope: { type: 'account', id: 'ACC-7' }, state: 'HALTED', reason: expect.any(String) as unknown, setAt: clock.now(), source: 'limit:big' }]);
    const resumed = await call(server, 'PUT', '/v1/trading-state', 'admin', { scope: states[0]!.scope, state: 'ACTIVE', reason: 'checked' });
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect((await decision(server, { accountId: 'ACC-7', quantity: 1 })).decision).toBe('ACCEPT');
  });

  it('refuses a scope id of the wrong form with 400 naming scope.id, and sets nothing', async () => {
    const { server, engine } = await start();
    for (const scope of [
      { type: 'account' },
      { type: 'global', id: 'ACC-1' },
      { type: 'account+symbol', id: 'ACC-1' },
      { type: 'account', id: 'ACC-1|AAPL' },
      { type: 'account', id: 'ACC 1' },
      { type: 'strategy+symbol', id: 'S|AAPL|X' },
      { type: 'symbol', id: 'x'.repeat(65) },
    ]) {
      const problem = expectProblem(await setState(server, scope, 'HALTED'), 400);
      expect(namesField(problem, 'scope.id'), JSON.stringify(scope)).toBe(true);
    }
    expect(engine.tradingStates.size).toBe(0);
  });

  it('refuses a new scope with the capacity problem (507) when the table is full, and changes nothing (no escalation to global)', async () => {
    const { server, engine } = await start({ capacity: { maxTradingStates: 2 } });
    for (const id of ['ACC-1', 'ACC-2']) expect((await setState(server, { type: 'account', id }, 'REDUCE_ONLY')).statusCode).toBe(200);
    const before = engine.tradingStates.list();
    const problem = expectProblem(await setState(server, { type: 'account', id: 'ACC-3' }, 'HALTED'), 507);
    expect(problem).toMatchObject({ type: '/problems/capacity' });
    expect(problem.detail).toContain('maxTradingStates 2');
    expect(engine.tradingStates.list()).toEqual(before);
    expect((await decision(server, { accountId: 'ACC-9' })).decision).toBe('ACCEPT');
    // A scope the table holds can still change, and one can be lifted to make room.
    expect((await setState(server, { type: 'account', id: 'ACC-1' }, 'HALTED')).statusCode).toBe(200);
    expect((await setState(server, { type: 'account', id: 'ACC-2' }, 'ACTIVE')).statusCode).toBe(200);
    expect((await setState(server, { type: 'account', id: 'ACC-3' }, 'HALTED')).json()).toMatchObject({ scope: { type: 'account', id: 'ACC-3' }, state: 'HALTED' });
  });
});

describe('the trading-state audit line', () => {
  const changes = (app: TestApp) => app.logs.lines.filter((line) => line.includes('trading state changed')).map((line) => JSON.parse(line) as Record<string, unknown>);

  it('is logged for a change made, naming the scope, the state and who set it', async () => {
    const app = await start();
    expect((await setState(app.server, { type: 'account', id: 'ACC-1' }, 'HALTED')).statusCode).toBe(200);
    expect(changes(app)).toEqual([expect.objectContaining({ scope: { type: 'account', id: 'ACC-1' }, state: 'HALTED', by: 'admin' })]);
  });

  it('is not logged for a change refused because the journal has failed (503) or the table is full (507)', async () => {
    const app = await journalledTestApp({ capacity: { maxTradingStates: 1 } });
    try {
      expect((await setState(app.server, { type: 'account', id: 'ACC-1' }, 'HALTED')).statusCode).toBe(200);
      expectProblem(await setState(app.server, { type: 'account', id: 'ACC-2' }, 'HALTED'), 507);
      const restore = failJournal(app);
      const refused = await setState(app.server, { type: 'account', id: 'ACC-1' }, 'ACTIVE', 'runaway algo');
      restore();
      expectProblem(refused, 503);
      expect(app.engine.tradingStates.list().map((e) => [e.scope, e.state])).toEqual([['account:ACC-1', 'HALTED']]);
      expect(changes(app).map((line) => line.scope)).toEqual([{ type: 'account', id: 'ACC-1' }]);
    } finally {
      await app.server.close();
    }
  });
});

describe('POST /v1/sessions/reset', () => {
  it('restarts rate windows and realized P&L; positions stay', async () => {
    const clock = new FakeClock();
    const { server } = await start(
      { limits: [{ id: 'rate', kind: 'order_rate', per: 'strategy', windowMs: 60_000, thresholds: { hard: 2 } }] },
      clock,
    );
    await call(server, 'PUT', '/v1/positions', 'gateway', { positions: [{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 90 }] });
    const sell = anOrder({ side: 'SELL', quantity: 40, price: 100 });
    await check(server, sell);
    await call(server, 'POST', '/v1/executions', 'gateway', { events: [{ type: 'FILL', accountId: 'ACC-1', orderId: sell.orderId, quantity: 40, price: 100 }] });
    expect((await decision(server)).decision).toBe('ACCEPT');
    expect((await decision(server)).reasons).toEqual(['LIMIT_BREACH']);
    expect((await call(server, 'GET', '/v1/accounts/ACC-1/exposure', 'ops')).json<AccountExposure>().realizedPnl).toBe(400);

    const reset = await call(server, 'POST', '/v1/sessions/reset', 'admin');
    expect(reset.statusCode).toBe(200);
    expect(reset.json()).toEqual({ reset: true, at: new Date(clock.now()).toISOString() });

    expect((await decision(server)).decision).toBe('ACCEPT');
    const view = (await call(server, 'GET', '/v1/accounts/ACC-1/exposure', 'ops')).json<AccountExposure>();
    expect(view.realizedPnl).toBe(0);
    expect(view.positions[0]).toMatchObject({ symbol: 'AAPL', quantity: 60, avgPrice: 90 });
  });
});

describe('POST /v1/sessions/reset refuses what it would not honour', () => {
  const rateOfOne = { limits: [{ id: 'rate', kind: 'order_rate' as const, windowMs: 60_000, thresholds: { hard: 1 } }] };
  const json = { 'content-type': 'application/json' };

  it('refuses a body with fields (a scope, a dry run) with 400 naming the field, and resets nothing', async () => {
    const { server } = await start(rateOfOne);
    expect((await decision(server)).decision).toBe('ACCEPT');
    expect((await decision(server)).reasons).toEqual(['LIMIT_BREACH']);

    for (const [body, field] of [
      ['{"scope":{"type":"account","id":"ACC-9"},"dryRun":true}', 'scope'],
      ['{"dryRun":true}', 'dryRun'],
      ['null', 'body'],
      ['[]', 'body'],
    ] as const) {
      const problem = expectProblem(await call(server, 'POST', '/v1/sessions/reset', 'admin', body, json), 400);
      expect(namesField(problem, field), `${body}: ${JSON.stringify(problem)}`).toBe(true);
    }
    const problem = expectProblem(await call(server, 'POST', '/v1/sessions/reset?dryRun=true', 'admin'), 400);
    expect(namesField(problem, 'querystring.dryRun'), JSON.stringify(problem)).toBe(true);

    expect((await decision(server)).reasons).toEqual(['LIMIT_BREACH']);
  });

  it('takes no body, or an empty object', async () => {
    const { server } = await start(rateOfOne);
    for (const body of [undefined, '{}']) {
      expect((await decision(server)).decision).toBe('ACCEPT');
      const reset = await call(server, 'POST', '/v1/sessions/reset', 'admin', body, body === undefined ? {} : json);
      expect(reset.statusCode, reset.body).toBe(200);
    }
    expect((await decision(server)).decision).toBe('ACCEPT');
  });
});

describe('public probes', () => {
  it('/healthz, /readyz and /metrics answer without a token (and ignore a bad one)', async () => {
    const { server } = await start();
    await check(server, anOrder());
    for (const headers of [{}, { authorization: 'Bearer not-a-token' }]) {
      const health = await server.inject({ method: 'GET', url: '/healthz', headers });
      expect(health.statusCode).toBe(200);
      expect(health.json()).toEqual({ status: 'ok' });
      const ready = await server.inject({ method: 'GET', url: '/readyz', headers });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'ready' });
      const metrics = await server.inject({ method: 'GET', url: '/metrics', headers });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
      expect(metrics.body).toContain('ulc_checks_total');
      expect(metrics.body).toMatch(/^ulc_checks_total\{decision="ACCEPT",reason="NONE"\} 1$/m);
      expect(metrics.body).toMatch(/^ulc_open_orders 1$/m);
    }
  });

  it('an unknown route is a problem+json 404', async () => {
    const { server } = await start();
    expectProblem(await server.inject({ method: 'GET', url: '/v2/nothing' }), 404);
    expectProblem(await server.inject({ method: 'GET', url: '/v1/limits/x/y/z' }), 404);
    // Fastify does not ignore a trailing slash, so neither does the 405: no route is there at all.
    expectProblem(await server.inject({ method: 'POST', url: '/v1/checks/' }), 404);
  });

  it('a wrong method on a real resource is a problem+json 405 naming the methods it takes', async () => {
    const { server } = await start();
    const single = await server.inject({ method: 'GET', url: '/v1/checks?x=1' });
    expect(expectProblem(single, 405).detail).toBe('/v1/checks does not take GET; it takes POST');
    expect(single.headers.allow).toBe('POST');
    // A path with a parameter, and a GET route's automatic HEAD.
    const limit = await server.inject({ method: 'PATCH', url: '/v1/limits/max-qty' });
    expectProblem(limit, 405);
    expect(limit.headers.allow).toBe('DELETE, GET, HEAD, PUT');
  });
});

describe('GET /v1/accounts/{id}/exposure pages', () => {
  const symbols = (n: number): string[] => Array.from({ length: n }, (_, i) => `S${String(i).padStart(4, '0')}`);
  const exposurePage = async (server: TestApp['server'], query: string): Promise<AccountExposure> => {
    const response = await call(server, 'GET', `/v1/accounts/ACC-1/exposure${query}`, 'ops');
    expect(response.statusCode, response.body).toBe(200);
    return response.json<AccountExposure>();
  };
  const totalsOf = ({ openOrders, grossNotional, realizedPnl, unrealizedPnl }: AccountExposure) => ({ openOrders, grossNotional, realizedPnl, unrealizedPnl });

  it('answers positions in symbol order, pageSize a page, the cursor going on with no repeat or skip until nextCursor is null, with totals over all of them on every page', async () => {
    const { server } = await start();
    // Sent out of order; each 10 at 100, marked at 100 + its place in symbol order; one open buy of 5 AAPL at 100.
    const held = ['MSFT', 'AAPL', 'TSLA', 'NVDA', 'AMZN', 'META', 'GOOG'];
    const sorted = [...held].sort();
    await call(server, 'PUT', '/v1/positions', 'gateway', { positions: held.map((symbol) => ({ accountId: 'ACC-1', symbol, quantity: 10, avgPrice: 100 })) });
    await call(server, 'PUT', '/v1/market-data', 'gateway', { prices: sorted.map((symbol, i) => ({ symbol, price: 100 + i })) });
    expect((await check(server, anOrder({ symbol: 'AAPL', quantity: 5, price: 100 }))).json<CheckResult>().decision).toBe('ACCEPT');

    const pages: AccountExposure[] = [];
    for (let query = '?pageSize=3'; ; ) {
      const page = await exposurePage(server, query);
      pages.push(page);
      if (page.nextCursor === null) break;
      expect(page.nextCursor).toBe(page.positions[page.positions.length - 1]!.symbol);
      query = `?pageSize=3&cursor=${page.nextCursor}`;
    }
    expect(pages.map((page) => page.positions.length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((page) => page.positions.map((p) => p.symbol))).toEqual(sorted);
    // Gross: 10 × (100 + i) a symbol, AAPL (at 100) 15 with its open buy: 7,710. Unrealized: 10 × i, 210.
    for (const page of pages) expect(totalsOf(page)).toEqual({ openOrders: 1, grossNotional: 7_710, realizedPnl: 0, unrealizedPnl: 210 });
    // Six, two full pages: the second is the last (no empty third).
    const six = await exposurePage(server, `?pageSize=3&cursor=${sorted[0]}`);
    expect(six.positions.map((p) => p.symbol)).toEqual(sorted.slice(1, 4));
    expect((await exposurePage(server, `?pageSize=3&cursor=${six.nextCursor}`)).nextCursor).toBeNull();
  });

  it('goes on after a cursor symbol the account no longer holds', async () => {
    const { server } = await start();
    await call(server, 'PUT', '/v1/positions', 'gateway', { positions: symbols(5).map((symbol) => ({ accountId: 'ACC-1', symbol, quantity: 1, avgPrice: 1 })) });
    const first = await exposurePage(server, '?pageSize=2');
    expect(first.nextCursor).toBe('S0001');
    await call(server, 'PUT', '/v1/positions', 'gateway', { positions: [{ accountId: 'ACC-1', symbol: 'S0001', quantity: 0, avgPrice: 1 }] });
    expect((await exposurePage(server, '?pageSize=2')).positions.map((p) => p.symbol)).toEqual(['S0000', 'S0002']);
    const rest = await exposurePage(server, `?pageSize=2&cursor=${first.nextCursor}`);
    expect(rest.positions.map((p) => p.symbol)).toEqual(['S0002', 'S0003']);
  });

  it('answers 1,000 positions by default: an account that fits sees them all and nextCursor null', async () => {
    const { server } = await start();
    await call(server, 'PUT', '/v1/positions', 'gateway', { positions: symbols(1_001).map((symbol) => ({ accountId: 'ACC-1', symbol, quantity: 1, avgPrice: 1 })) });
    const first = await exposurePage(server, '');
    expect(first.positions).toHaveLength(1_000);
    expect(first.nextCursor).toBe('S0999');
    expect(first.realizedPnl).toBe(0);
    const rest = await exposurePage(server, `?cursor=${first.nextCursor}`);
    expect(rest.positions.map((p) => p.symbol)).toEqual(['S1000']);
    expect(rest.nextCursor).toBeNull();
  });

  it('refuses a bad pageSize or cursor with 400 naming it', async () => {
    const { server } = await start();
    await expectQueriesRefused(server, '/v1/accounts/ACC-1/exposure', [
      ['?pageSize=0', 'querystring.pageSize'],
      ['?pageSize=1001', 'querystring.pageSize'],
      ['?pageSize=ten', 'querystring.pageSize'],
      ['?pageSize=2.5', 'querystring.pageSize'],
      ['?cursor=', 'querystring.cursor'],
      ['?cursor=A%7CB', 'querystring.cursor'],
      ['?cursor=A%20B', 'querystring.cursor'],
      [`?cursor=${'X'.repeat(65)}`, 'querystring.cursor'],
    ]);
  });
});

describe('GET /v1/trading-state pages', () => {
  interface StatesPage {
    states: { scope: { type: string; id?: string }; state: string }[];
    nextCursor: string | null;
  }
  const statesPage = async (server: TestApp['server'], query: string): Promise<StatesPage> => {
    const response = await call(server, 'GET', `/v1/trading-state${query}`, 'ops');
    expect(response.statusCode, response.body).toBe(200);
    return response.json<StatesPage>();
  };
  const keyOf = ({ type, id }: { type: string; id?: string }) => (id === undefined ? type : `${type}:${id}`);
  /** Every page from `query`, following nextCursor (URL-encoded: a scope key may hold '+' and '|'). */
  const allPages = async (server: TestApp['server'], pageSize: number): Promise<StatesPage[]> => {
    const pages = [await statesPage(server, `?pageSize=${pageSize}`)];
    while (pages[pages.length - 1]!.nextCursor !== null) pages.push(await statesPage(server, `?pageSize=${pageSize}&cursor=${encodeURIComponent(pages[pages.length - 1]!.nextCursor!)}`));
    return pages;
  };

  it('answers states in scope-key order, pageSize a page, the cursor (the last scope key) going on with no repeat or skip until nextCursor is null', async () => {
    const { server, engine } = await start();
    const keys = ['symbol:TSLA', 'account:ACC-2', 'global', 'account+symbol:ACC-1|AAPL', 'strategy:MM-1', 'account:ACC-1', 'strategy+symbol:MM-1|MSFT'];
    for (const key of keys) {
      const [type, id] = key.split(/:(.*)/) as ['global' | 'symbol' | 'account' | 'strategy' | 'account+symbol' | 'strategy+symbol', string | undefined];
      engine.setTradingState(type, id, 'HALTED', 'paged');
    }
    const sorted = [...keys].sort();
    const pages = await allPages(server, 3);
    expect(pages.map((page) => page.states.length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((page) => page.states.map((entry) => keyOf(entry.scope)))).toEqual(sorted);
    expect(pages.map((page) => page.nextCursor)).toEqual([sorted[2], sorted[5], null]);
    // Six, two full pages: the second is the last (no empty third).
    engine.setTradingState('symbol', 'TSLA', 'ACTIVE', 'lifted');
    expect((await allPages(server, 3)).map((page) => page.states.length)).toEqual([3, 3]);
  });

  it('neither repeats nor skips a state that stayed when others are set or lifted between pages, the cursor\'s own included', async () => {
    const { server, engine } = await start();
    for (let i = 0; i < 6; i++) engine.setTradingState('account', `ACC-${i}`, 'REDUCE_ONLY', 'paged');
    const first = await statesPage(server, '?pageSize=2');
    expect(first.states.map((entry) => entry.scope.id)).toEqual(['ACC-0', 'ACC-1']);
    expect(first.nextCursor).toBe('account:ACC-1');
    engine.setTradingState('account', 'ACC-1', 'ACTIVE', 'lifted');
    engine.setTradingState('account', 'ACC-2', 'ACTIVE', 'lifted');
    engine.setTradingState('account', 'ACC-0b', 'HALTED', 'before the cursor');
    engine.setTradingState('account', 'ACC-3b', 'HALTED', 'after the cursor');
    const second = await statesPage(server, `?pageSize=2&cursor=${first.nextCursor}`);
    expect(second.states.map((entry) => entry.scope.id)).toEqual(['ACC-3', 'ACC-3b']);
    const third = await statesPage(server, `?pageSize=2&cursor=${second.nextCursor}`);
    expect(third).toEqual({ states: [expect.objectContaining({ scope: { type: 'account', id: 'ACC-4' } }), expect.objectContaining({ scope: { type: 'account', id: 'ACC-5' } })], nextCursor: null });
  });

  it('answers 1,000 states by default: a table that fits is seen whole with nextCursor null', async () => {
    const { server, engine } = await start();
    const ids = Array.from({ length: 1_001 }, (_, i) => `ACC-${String(i).padStart(4, '0')}`);
    for (const id of ids) engine.setTradingState('account', id, 'HALTED', 'paged');
    const first = await statesPage(server, '');
    expect(first.states).toHaveLength(1_000);
    expect(first.nextCursor).toBe('account:ACC-0999');
    expect(await statesPage(server, `?cursor=${first.nextCursor}`)).toEqual({ states: [expect.objectContaining({ scope: { type: 'account', id: 'ACC-1000' } })], nextCursor: null });
  });

  it('refuses a bad pageSize or cursor with 400 naming it', async () => {
    const { server } = await start();
    await expectQueriesRefused(server, '/v1/trading-state', [
      ['?pageSize=0', 'querystring.pageSize'],
      ['?pageSize=1001', 'querystring.pageSize'],
      ['?pageSize=all', 'querystring.pageSize'],
      ['?cursor=', 'querystring.cursor'],
      ['?cursor=ACC-1', 'querystring.cursor'],
      ['?cursor=desk:D-1', 'querystring.cursor'],
      ['?cursor=account:', 'querystring.cursor'],
      ['?cursor=global:x', 'querystring.cursor'],
      ['?cursor=account:ACC-1%7CAAPL', 'querystring.cursor'],
      ['?cursor=account%2Bsymbol:ACC-1', 'querystring.cursor'],
      // A '+' not encoded reads as a space.
      ['?cursor=account+symbol:ACC-1%7CAAPL', 'querystring.cursor'],
      [`?cursor=account:${'X'.repeat(65)}`, 'querystring.cursor'],
    ]);
    expect((await statesPage(server, '?cursor=account%2Bsymbol:ACC-1%7CAAPL')).states).toEqual([]);
  });
});
