import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { ActiveViolation, ViolationEvent } from '../../src/domain/violation-book.js';
import { bearer, LogCapture, testAppConfig, TOKENS } from '../support/app-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';
import { anOrder, appPerTest, call, check, expectProblem, expectQueriesRefused } from './http-helpers.js';
import type { TestApp } from './http-helpers.js';

const start = appPerTest();

interface HistoryPage {
  items: ViolationEvent[];
  nextCursor: string | null;
}

const history = async (server: TestApp['server'], query = ''): Promise<HistoryPage> => {
  const response = await call(server, 'GET', `/v1/violations${query}`, 'ops');
  expect(response.statusCode, response.body).toBe(200);
  return response.json<HistoryPage>();
};

const active = async (server: TestApp['server'], query = ''): Promise<ActiveViolation[]> => {
  const response = await call(server, 'GET', `/v1/violations/active${query}`, 'ops');
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ items: ActiveViolation[] }>().items;
};

const SINCE = Date.UTC(2026, 0, 5, 9, 0);

/**
 * Three breaches of max-qty, one account each: ACC-0 (600) a second before SINCE, ACC-1 (650)
 * 10 s after it; then the wall clock steps back a minute and ACC-2 (701), the latest breach,
 * comes 50 s before SINCE.
 */
async function steppedBack(): Promise<TestApp['server']> {
  const clock = new FakeClock(SINCE - 1_000);
  const { server } = await start({}, clock);
  await check(server, anOrder({ accountId: 'ACC-0', quantity: 600 }));
  clock.advance(11_000);
  await check(server, anOrder({ accountId: 'ACC-1', quantity: 650 }));
  clock.wall -= 60_000; // the wall clock only: monotonic time never steps back
  await check(server, anOrder({ accountId: 'ACC-2', quantity: 701 }));
  return server;
}

describe('GET /v1/violations/active', () => {
  it('keeps one active violation per limit and key, updated on repeats and resolved by a clean check', async () => {
    const { server } = await start();
    await check(server, anOrder({ quantity: 600 }));
    await check(server, anOrder({ quantity: 1_500 }));
    const [only, ...rest] = await active(server);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ limitId: 'max-qty', key: 'account:ACC-1', count: 2, value: 1_500, maxValue: 1_500, severity: 'HARD_BREACH' });

    await check(server, anOrder({ quantity: 10 }));
    expect(await active(server)).toEqual([]);
  });

  it('filters by limitId and by minimum severity', async () => {
    const { server } = await start();
    await check(server, anOrder({ accountId: 'ACC-1', quantity: 600 }));
    await check(server, anOrder({ accountId: 'ACC-2', quantity: 1_500 }));
    await call(server, 'PUT', '/v1/positions', 'gateway', { positions: [{ accountId: 'ACC-3', symbol: 'AAPL', quantity: 5_000, avgPrice: 1 }] });
    await check(server, anOrder({ accountId: 'ACC-3', quantity: 1 }));

    expect((await active(server)).map((v) => v.key).sort()).toEqual(['account+symbol:ACC-3|AAPL', 'account:ACC-1', 'account:ACC-2']);
    expect((await active(server, '?limitId=max-qty')).map((v) => v.key).sort()).toEqual(['account:ACC-1', 'account:ACC-2']);
    expect((await active(server, '?severity=HARD_BREACH')).map((v) => v.key).sort()).toEqual(['account+symbol:ACC-3|AAPL', 'account:ACC-2']);
    expect((await active(server, '?limitId=max-qty&severity=HARD_BREACH')).map((v) => v.key)).toEqual(['account:ACC-2']);
  });

  it('filters by since and until on the latest breach (lastAt), as the history filters by time', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 9, 0));
    const { server } = await start({}, clock);
    await check(server, anOrder({ accountId: 'ACC-1', quantity: 600 }));
    await check(server, anOrder({ accountId: 'ACC-3', quantity: 600 }));
    clock.advance(60_000);
    const middle = clock.now();
    await check(server, anOrder({ accountId: 'ACC-2', quantity: 600 }));
    clock.advance(60_000);
    // ACC-3 first breached before the middle, but breaches again after it.
    await check(server, anOrder({ accountId: 'ACC-3', quantity: 700 }));

    const keys = async (query: string) => (await active(server, query)).map((v) => v.key);
    expect(await keys('')).toEqual(['account:ACC-3', 'account:ACC-2', 'account:ACC-1']);
    expect(await keys(`?since=${middle}`)).toEqual(['account:ACC-3', 'account:ACC-2']);
    expect(await keys(`?since=${new Date(middle + 1).toISOString()}`)).toEqual(['account:ACC-3']);
    expect(await keys(`?until=${middle}`)).toEqual(['account:ACC-2', 'account:ACC-1']);
    expect(await keys(`?until=${new Date(middle - 1).toISOString()}`)).toEqual(['account:ACC-1']);
    expect(await keys(`?since=${middle}&until=${middle}`)).toEqual(['account:ACC-2']);
    expect(await keys(`?since=${middle}&limitId=pos`)).toEqual([]);
  });

  it('pages what since and until select, a page at a time', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 9, 0));
    const { server } = await start({}, clock);
    for (let i = 0; i < 5; i++) {
      await check(server, anOrder({ accountId: `ACC-${i}`, quantity: 600 }));
      clock.advance(1_000);
    }
    const since = Date.UTC(2026, 0, 5, 9, 0, 1);
    const until = Date.UTC(2026, 0, 5, 9, 0, 3);
    const first = await call(server, 'GET', `/v1/violations/active?since=${since}&until=${until}&pageSize=2`, 'ops');
    const page = first.json<{ items: ActiveViolation[]; nextCursor: string | null }>();
    expect(page.items.map((v) => v.key)).toEqual(['account:ACC-3', 'account:ACC-2']);
    const rest = await active(server, `?since=${since}&until=${until}&pageSize=2&cursor=${page.nextCursor}`);
    expect(rest.map((v) => v.key)).toEqual(['account:ACC-1']);
  });

  it('finds every violation since selects after the wall clock stepped back (an NTP correction)', async () => {
    const server = await steppedBack();
    const keys = async (query: string) => (await active(server, query)).map((v) => v.key);
    // ACC-2 is the latest breach but before SINCE; ACC-1, older in the list, is not.
    expect(await keys(`?since=${SINCE}`)).toEqual(['account:ACC-1']);
    expect(await keys(`?since=${SINCE}&limitId=max-qty&severity=WARNING`)).toEqual(['account:ACC-1']);
    expect(await keys(`?since=${SINCE - 60_000}`)).toEqual(['account:ACC-2', 'account:ACC-1', 'account:ACC-0']);
    expect(await keys(`?since=${SINCE - 50_000}&until=${SINCE - 50_000}`)).toEqual(['account:ACC-2']);
    const first = await call(server, 'GET', `/v1/violations/active?since=${SINCE - 1_000}&pageSize=1`, 'ops');
    const page = first.json<{ items: ActiveViolation[]; nextCursor: string | null }>();
    expect(page.items.map((v) => v.key)).toEqual(['account:ACC-1']);
    expect(await keys(`?since=${SINCE - 1_000}&pageSize=1&cursor=${page.nextCursor}`)).toEqual(['account:ACC-0']);
  });
});

describe('GET /v1/violations/active pages', () => {
  const VAR = { id: 'var', kind: 'value' as const, per: 'account' as const, thresholds: { hard: 10 } };
  interface ActivePage {
    items: ActiveViolation[];
    nextCursor: string | null;
  }
  const activePage = async (server: TestApp['server'], query: string): Promise<ActivePage> => {
    const response = await call(server, 'GET', `/v1/violations/active${query}`, 'ops');
    expect(response.statusCode, response.body).toBe(200);
    return response.json<ActivePage>();
  };

  it('answers { items, nextCursor } a page at a time, most recently updated first, until nextCursor is null', async () => {
    const { server, engine } = await start({ limits: [VAR] });
    for (let i = 0; i < 5; i++) engine.evaluateValue('var', 11 + i, `ACC-${i}`);
    const seen: string[] = [];
    const pageSizes: number[] = [];
    for (let query = '?pageSize=2'; ; ) {
      const page = await activePage(server, query);
      pageSizes.push(page.items.length);
      seen.push(...page.items.map((v) => v.key));
      if (page.nextCursor === null) break;
      query = `?pageSize=2&cursor=${page.nextCursor}`;
    }
    expect(pageSizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(['account:ACC-4', 'account:ACC-3', 'account:ACC-2', 'account:ACC-1', 'account:ACC-0']);
  });

  it('answers 100 by default, never the whole table', async () => {
    const { server, engine } = await start({ limits: [VAR] });
    for (let i = 0; i < 150; i++) engine.evaluateValue('var', 11, `ACC-${i}`);
    const first = await activePage(server, '');
    expect(first.items).toHaveLength(100);
    expect(first.nextCursor).toEqual(expect.any(String));
    const rest = await activePage(server, `?cursor=${first.nextCursor}&pageSize=1000`);
    expect(rest.items).toHaveLength(50);
    expect(rest.nextCursor).toBeNull();
  });

  it('refuses bad query values with 400 naming the parameter', async () => {
    const { server } = await start();
    await expectQueriesRefused(server, '/v1/violations/active', [
      ['?pageSize=0', 'querystring.pageSize'],
      ['?pageSize=5000', 'querystring.pageSize'],
      ['?cursor=abc', 'querystring.cursor'],
      ['?cursor=-1', 'querystring.cursor'],
      ['?since=yesterday', 'querystring.since'],
      ['?until=1e3', 'querystring.until'],
      ['?severity=LOUD', 'querystring.severity'],
      ['?colour=red', 'querystring.colour'],
    ]);
  });
});

describe('GET /v1/violations', () => {
  it('pages the history newest first with a cursor until nextCursor is null', async () => {
    const { server } = await start();
    for (let i = 0; i < 5; i++) await check(server, anOrder({ quantity: 600 + i }));

    const seen: ViolationEvent[] = [];
    let query = '?pageSize=2';
    const pageSizes: number[] = [];
    for (;;) {
      const page = await history(server, query);
      pageSizes.push(page.items.length);
      seen.push(...page.items);
      if (page.nextCursor === null) break;
      query = `?pageSize=2&cursor=${page.nextCursor}`;
    }
    expect(pageSizes).toEqual([2, 2, 1]);
    expect(seen.map((e) => e.value)).toEqual([604, 603, 602, 601, 600]);
    const seqs = seen.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(new Set(seqs).size).toBe(5);
  });

  it('filters by limitId, severity, since and until', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 9, 0));
    const { server } = await start({}, clock);
    await check(server, anOrder({ quantity: 600 }));
    clock.advance(60_000);
    const middle = clock.now();
    await check(server, anOrder({ quantity: 1_500 }));
    clock.advance(60_000);
    await call(server, 'PUT', '/v1/positions', 'gateway', { positions: [{ accountId: 'ACC-1', symbol: 'MSFT', quantity: 6_000, avgPrice: 1 }] });
    await check(server, anOrder({ symbol: 'MSFT', quantity: 1 }));

    expect((await history(server)).items.map((e) => e.limitId)).toEqual(['pos', 'max-qty', 'max-qty']);
    expect((await history(server, '?limitId=max-qty')).items.map((e) => e.value)).toEqual([1_500, 600]);
    expect((await history(server, '?severity=HARD_BREACH')).items.map((e) => e.value)).toEqual([6_001, 1_500]);
    expect((await history(server, `?since=${new Date(middle).toISOString()}`)).items.map((e) => e.value)).toEqual([6_001, 1_500]);
    expect((await history(server, `?until=${middle}`)).items.map((e) => e.value)).toEqual([1_500, 600]);
    expect((await history(server, `?since=${middle}&until=${middle}`)).items.map((e) => e.value)).toEqual([1_500]);
  });

  it('finds every event since selects after the wall clock stepped back (an NTP correction)', async () => {
    const server = await steppedBack();
    const values = async (query: string) => (await history(server, query)).items.map((e) => e.value);
    // The newest event (701) is before SINCE; the one before it (650) is not.
    expect(await values(`?since=${SINCE}`)).toEqual([650]);
    expect(await values(`?since=${SINCE}&limitId=max-qty`)).toEqual([650]);
    expect(await values(`?since=${SINCE - 60_000}`)).toEqual([701, 650, 600]);
    expect(await values(`?since=${SINCE - 50_000}&until=${SINCE - 50_000}`)).toEqual([701]);
  });

  it('uses the engine clock, not the wall clock, for retention', async () => {
    const { server } = await start({}, new FakeClock(Date.UTC(2020, 0, 1)));
    await check(server, anOrder({ quantity: 1_500 }));
    expect((await history(server)).items).toHaveLength(1);
  });

  it('refuses bad query values with 400 naming the parameter', async () => {
    const { server } = await start();
    await expectQueriesRefused(server, '/v1/violations', [
      ['?severity=LOUD', 'querystring.severity'],
      ['?pageSize=0', 'querystring.pageSize'],
      ['?pageSize=5000', 'querystring.pageSize'],
      ['?cursor=abc', 'querystring.cursor'],
      ['?since=yesterday', 'querystring.since'],
      ['?limitId=a%7Cb', 'querystring.limitId'],
      ['?colour=red', 'querystring.colour'],
    ]);
  });
});

describe('GET /v1/violations/stream', () => {
  async function listen(): Promise<{ app: TestApp; base: string }> {
    const started = await start();
    await started.server.listen({ port: 0, host: '127.0.0.1' });
    const address = started.server.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return { app: started, base: `http://127.0.0.1:${address.port}` };
  }

  /** Reads SSE text until `until` matches what has arrived (or the stream ends). */
  async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, until: RegExp): Promise<string> {
    const decoder = new TextDecoder();
    let text = '';
    while (!until.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    return text;
  }

  async function waitFor(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  it('streams a violation as it happens and unsubscribes when the client goes away', async () => {
    const { app: started, base } = await listen();
    const { server, engine } = started;
    const abort = new AbortController();
    const response = await fetch(`${base}/v1/violations/stream`, { headers: bearer('ops'), signal: abort.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    expect(await readUntil(reader, /: connected\n\n/)).toContain(': connected');
    expect(engine.violations.subscriberCount).toBe(1);

    const order = anOrder({ quantity: 1_500 });
    await check(server, order);
    const text = await readUntil(reader, /event: violation\ndata: .*\n\n/);
    const data = /event: violation\ndata: (.*)\n\n/.exec(text)?.[1];
    expect(JSON.parse(data ?? 'null')).toMatchObject({ limitId: 'max-qty', orderId: order.orderId, severity: 'HARD_BREACH', value: 1_500 });

    await check(server, anOrder({ quantity: 1 }));
    expect(await readUntil(reader, /event: resolved\n/)).toContain('event: resolved');

    abort.abort();
    await reader.cancel().catch(() => undefined);
    await waitFor(() => engine.violations.subscriberCount === 0);
    expect(engine.violations.subscriberCount).toBe(0);
  });

  it('ends open streams when the server closes, instead of hanging the close', async () => {
    const { app: started, base } = await listen();
    const response = await fetch(`${base}/v1/violations/stream`, { headers: bearer('ops') });
    const reader = response.body!.getReader();
    await readUntil(reader, /: connected/);
    expect(started.engine.violations.subscriberCount).toBe(1);
    await started.server.close();
    expect(await readUntil(reader, /$^/)).toBe('');
    await waitFor(() => started.engine.violations.subscriberCount === 0);
    expect(started.engine.violations.subscriberCount).toBe(0);
  });

  it('answers 503 problem+json when the subscriber table is full', async () => {
    const started = await start({ capacity: { maxSubscribers: 1 } });
    await started.server.listen({ port: 0, host: '127.0.0.1' });
    const address = started.server.server.address() as { port: number };
    const abort = new AbortController();
    const first = await fetch(`http://127.0.0.1:${address.port}/v1/violations/stream`, { headers: bearer('ops'), signal: abort.signal });
    const reader = first.body!.getReader();
    await readUntil(reader, /: connected/);
    expectProblem(await call(started.server, 'GET', '/v1/violations/stream', 'ops'), 503);
    expect(started.engine.violations.subscriberCount).toBe(1);
    abort.abort();
    await reader.cancel().catch(() => undefined);
    await waitFor(() => started.engine.violations.subscriberCount === 0);
    expect(started.engine.violations.subscriberCount).toBe(0);
  });

  it('leaves no subscription behind for a client that went away while an asynchronous hook ran', async () => {
    const app = await buildApp(testAppConfig({ capacity: { maxSubscribers: 2 } }), { clock: new FakeClock(), logStream: new LogCapture(), defaultMetrics: false });
    // Stands in for any asynchronous step before the handler (a shared rate-limit store, §9):
    // the first two streams are held in it until their clients have gone.
    const handlersDue: Promise<void>[] = [];
    app.server.addHook('preHandler', async (request) => {
      if (request.routeOptions.url !== '/v1/violations/stream' || handlersDue.length === 2) return;
      const socket = request.raw.socket;
      const gone = new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
      handlersDue.push(gone);
      await gone;
    });
    try {
      await app.server.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.server.address() as { port: number };
      for (let i = 0; i < 2; i++) {
        const socket = connect(port, '127.0.0.1');
        socket.write(`GET /v1/violations/stream HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKENS.ops}\r\n\r\n`);
        await waitFor(() => handlersDue.length === i + 1);
        socket.destroy();
      }
      await Promise.all(handlersDue);
      await new Promise((resolve) => setImmediate(resolve));
      expect(app.engine.violations.subscriberCount).toBe(0);

      const abort = new AbortController();
      const live = await fetch(`http://127.0.0.1:${port}/v1/violations/stream`, { headers: bearer('ops'), signal: abort.signal });
      expect(live.status).toBe(200);
      expect(app.engine.violations.subscriberCount).toBe(1);
      abort.abort();
    } finally {
      await app.server.close();
    }
  });

  it('has no HEAD route, which would hold a subscription open with no body', async () => {
    const { server, engine } = await start();
    const head = await server.inject({ method: 'HEAD', url: '/v1/violations/stream', headers: bearer('ops') });
    expect(head.statusCode).toBe(405);
    expect(head.headers.allow).toBe('GET');
    expect(engine.violations.subscriberCount).toBe(0);
  });

  it('needs the ops role before it subscribes', async () => {
    const { server, engine } = await start();
    expectProblem(await call(server, 'GET', '/v1/violations/stream', undefined), 401);
    expectProblem(await call(server, 'GET', '/v1/violations/stream', 'gateway'), 403);
    expect(engine.violations.subscriberCount).toBe(0);
  });
});
