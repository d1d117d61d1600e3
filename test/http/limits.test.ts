import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CheckResult, LimitEngine } from '../../src/domain/engine.js';
import { bodyOf } from '../../src/http/book-body.js';
import { failJournal, journalledTestApp } from '../support/app-fixtures.js';
import { anOrder, appPerTest, call, check, expectProblem, namesField } from './http-helpers.js';
import type { TestApp } from './http-helpers.js';

const start = appPerTest();

const MAX_QTY = { id: 'max-qty', kind: 'order_quantity', thresholds: { warn: 500, hard: 1000 } } as const;
const VAR = { id: 'var', kind: 'value', per: 'account', thresholds: { warn: 10, hard: 20 }, actions: { HARD_BREACH: 'REDUCE_ONLY' } } as const;

describe('where a created limit is', () => {
  it('answers a POST and a creating PUT with Location: the new limit; a replacing PUT with none', async () => {
    const { server } = await start();
    const posted = await call(server, 'POST', '/v1/limits', 'admin', { id: 'new-qty', kind: 'order_quantity', thresholds: { hard: 5 } });
    expect([posted.statusCode, posted.headers.location]).toEqual([201, '/v1/limits/new-qty']);
    expect((await call(server, 'GET', posted.headers.location as string, 'ops')).statusCode).toBe(200);
    const created = await call(server, 'PUT', '/v1/limits/other', 'admin', { id: 'other', kind: 'order_quantity', thresholds: { hard: 5 } });
    expect([created.statusCode, created.headers.location]).toEqual([201, '/v1/limits/other']);
    const replaced = await call(server, 'PUT', '/v1/limits/other', 'admin', { id: 'other', kind: 'order_quantity', thresholds: { hard: 6 } });
    expect([replaced.statusCode, replaced.headers.location]).toEqual([200, undefined]);
  });
});

describe('reading the book', () => {
  it('GET /v1/limits serialises a book once, however often it is read, and a changed book afresh', async () => {
    const { server, engine } = await start();
    const reads = () => call(server, 'GET', '/v1/limits', 'ops');
    const first = await reads();
    const definitions = vi.spyOn(engine.book, 'definitions', 'get');
    expect((await reads()).body).toBe(first.body);
    expect(definitions).not.toHaveBeenCalled();
    expect((await call(server, 'PUT', '/v1/limits/tiny', 'admin', { id: 'tiny', kind: 'order_quantity', thresholds: { hard: 1 } })).statusCode).toBe(201);
    const after = await reads();
    expect(after.headers.etag).toBe('"2"');
    expect(after.json<{ limits: { id: string }[] }>().limits.map((l) => l.id)).toContain('tiny');
  });

  it('GET /v1/limits of a book whose body is made in slices (over 1 MB) answers it whole, with its version', async () => {
    const { server, engine } = await start();
    const name = 'a description long enough that a few thousand limits make a body of more than a megabyte';
    engine.replaceLimits(Array.from({ length: 8_000 }, (_, i) => ({ id: `big-${i}`, name, kind: 'order_quantity', thresholds: { hard: i + 1 } })));
    const answer = await call(server, 'GET', '/v1/limits', 'ops');
    expect(answer.rawPayload.length).toBeGreaterThan(1 << 20);
    expect([answer.statusCode, answer.headers.etag]).toEqual([200, `"${engine.book.version}"`]);
    expect(answer.json()).toEqual({ version: engine.book.version, limits: engine.book.definitions });
  });

  it('GET /v1/limits after one limit changed writes that limit anew and the others as they were', async () => {
    const { server, engine } = await start();
    engine.replaceLimits([MAX_QTY, ...Array.from({ length: 50 }, (_, i) => ({ id: `q-${i}`, kind: 'order_quantity', thresholds: { hard: 100 + i } }))]);
    await call(server, 'GET', '/v1/limits', 'ops');
    expect((await call(server, 'PUT', '/v1/limits/q-7', 'admin', { id: 'q-7', kind: 'order_quantity', thresholds: { hard: 7 } })).statusCode).toBe(200);
    const stringify = vi.spyOn(JSON, 'stringify');
    const after = await call(server, 'GET', '/v1/limits', 'ops');
    const limitsWritten = stringify.mock.calls.filter(([value]) => typeof value === 'object' && value !== null && 'kind' in value);
    stringify.mockRestore();
    expect(limitsWritten.map(([value]) => (value as { id: string }).id)).toEqual(['q-7']);
    const body = after.json<{ version: number; limits: { id: string; thresholds: { hard: number } }[] }>();
    expect(body.limits).toHaveLength(51);
    expect(body.limits.find((l) => l.id === 'q-7')?.thresholds.hard).toBe(7);
    expect(body.limits.find((l) => l.id === 'q-8')?.thresholds.hard).toBe(108);
  });

  it('keeps a book\'s body in memory of its own size: a small Buffer is a view of a shared pool slab it would hold whole', async () => {
    const { engine } = await start();
    const body = bodyOf(engine.book).bytes;
    expect(body.buffer.byteLength).toBe(body.length);
    expect(JSON.parse(body.toString('utf8'))).toEqual({ version: 1, limits: engine.book.definitions });
  });

  it('GET /v1/limits of an empty book is valid JSON', async () => {
    const { server, engine } = await start();
    engine.replaceLimits([]);
    expect((await call(server, 'GET', '/v1/limits', 'ops')).json()).toEqual({ version: 2, limits: [] });
  });

  it('GET /v1/limits writes every field of a definition as it was given, escapes included', async () => {
    const { server } = await start();
    const rich = {
      id: 'rich-1',
      name: 'Ünïcode \\ and "quotes"\n',
      kind: 'order_rate',
      scope: { accounts: ['ACC-1', 'ACC-2'], venues: ['XNAS'] },
      per: 'account',
      windowMs: 1_000,
      thresholds: { warn: 1, soft: 2, hard: 3, critical: 4 },
      actions: { WARNING: 'LOG', CRITICAL: 'HALT' },
      enabled: false,
    };
    expect((await call(server, 'POST', '/v1/limits', 'admin', rich)).statusCode).toBe(201);
    const response = await call(server, 'GET', '/v1/limits', 'ops');
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.json<{ limits: unknown[] }>().limits).toContainEqual(rich);
  });

  it('GET /v1/limits answers the version and every limit, with the version as ETag', async () => {
    const { server } = await start();
    const response = await call(server, 'GET', '/v1/limits', 'ops');
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe('"1"');
    expect(response.json()).toEqual({
      version: 1,
      limits: [MAX_QTY, { id: 'pos', kind: 'position', thresholds: { hard: 5000, critical: 20000 } }],
    });
  });

  it('GET /v1/limits/{id} answers one limit; an unknown id is 404', async () => {
    const { server } = await start();
    const one = await call(server, 'GET', '/v1/limits/max-qty', 'ops');
    expect(one.statusCode).toBe(200);
    expect(one.headers.etag).toBe('"1"');
    expect(one.json()).toEqual({ version: 1, limit: MAX_QTY });
    expect(namesField(expectProblem(await call(server, 'GET', '/v1/limits/nope', 'ops'), 404), 'nope')).toBe(true);
  });
});

describe('a full book (capacity.maxLimits)', () => {
  it('refuses one more limit, by POST or PUT, with the capacity problem, and changes nothing', async () => {
    const { server, engine } = await start({ capacity: { maxLimits: 2 } });
    const extra = { id: 'extra', kind: 'order_quantity', thresholds: { hard: 1 } };
    const problem = expectProblem(await call(server, 'POST', '/v1/limits', 'admin', extra), 507);
    expect(problem.type).toMatch(/capacity$/);
    expectProblem(await call(server, 'PUT', '/v1/limits/extra', 'admin', extra), 507);
    expect(engine.book.version).toBe(1);
    // Replacing one that is there is fine.
    expect((await call(server, 'PUT', '/v1/limits/max-qty', 'admin', { ...MAX_QTY, thresholds: { hard: 900 } })).statusCode).toBe(200);
  });
});

describe('changing the book', () => {
  it('POST adds a limit (201), bumps the version and puts it in force at once', async () => {
    const { server, engine } = await start();
    const created = await call(server, 'POST', '/v1/limits', 'admin', { id: 'tiny', kind: 'order_quantity', scope: { symbols: ['TSLA'] }, thresholds: { hard: 5 } });
    expect(created.statusCode).toBe(201);
    expect(created.headers.etag).toBe('"2"');
    expect(created.json()).toEqual({ version: 2, limit: { id: 'tiny', kind: 'order_quantity', scope: { symbols: ['TSLA'] }, thresholds: { hard: 5 } } });
    expect(engine.book.version).toBe(2);
    expect((await call(server, 'GET', '/v1/limits', 'ops')).json<{ limits: { id: string }[] }>().limits.map((l) => l.id)).toEqual(['max-qty', 'pos', 'tiny']);

    const result = (await check(server, anOrder({ symbol: 'TSLA', quantity: 10 }))).json<CheckResult>();
    expect(result).toMatchObject({ decision: 'REJECT', bookVersion: 2, violations: [expect.objectContaining({ limitId: 'tiny' })] });
  });

  it('POST of an id that exists is 409 and changes nothing', async () => {
    const { server, engine } = await start();
    const response = await call(server, 'POST', '/v1/limits', 'admin', { ...MAX_QTY, thresholds: { hard: 1 } });
    expect(namesField(expectProblem(response, 409), 'max-qty')).toBe(true);
    // Whatever If-Match says: 409 comes before 412, for a weak tag as for a stale one.
    for (const ifMatch of ['"7"', 'W/"1"']) {
      expectProblem(await call(server, 'POST', '/v1/limits', 'admin', { ...MAX_QTY, thresholds: { hard: 1 } }, { 'if-match': ifMatch }), 409);
    }
    expect(engine.book.version).toBe(1);
    expect(engine.book.byId.get('max-qty')?.definition).toEqual(MAX_QTY);
  });

  it('PUT replaces a limit and bumps the version; a stale If-Match is 412 and changes nothing', async () => {
    const { server, engine } = await start();
    expect((await check(server, anOrder({ quantity: 800 }))).json<CheckResult>().decision).toBe('ACCEPT');

    const tighter = { ...MAX_QTY, thresholds: { warn: 500, hard: 700 } };
    const put = await call(server, 'PUT', '/v1/limits/max-qty', 'admin', tighter, { 'if-match': '"1"' });
    expect(put.statusCode).toBe(200);
    expect(put.headers.etag).toBe('"2"');
    expect(put.json()).toEqual({ version: 2, limit: tighter });
    expect((await check(server, anOrder({ quantity: 800 }))).json<CheckResult>().decision).toBe('REJECT');

    const stale = await call(server, 'PUT', '/v1/limits/max-qty', 'admin', MAX_QTY, { 'if-match': '"1"' });
    expect(namesField(expectProblem(stale, 412), 'version 2')).toBe(true);
    expect(engine.book.version).toBe(2);
    expect(engine.book.byId.get('max-qty')?.definition).toEqual(tighter);

    const current = await call(server, 'PUT', '/v1/limits/max-qty', 'admin', MAX_QTY, { 'if-match': '2' });
    expect(current.statusCode).toBe(200);
    expect(current.json<{ version: number }>().version).toBe(3);
  });

  it('If-Match compares strongly: a weak validator is 412, and * is unconditional', async () => {
    const { server, engine } = await start();
    const weak = await call(server, 'PUT', '/v1/limits/max-qty', 'admin', MAX_QTY, { 'if-match': 'W/"1"' });
    expectProblem(weak, 412);
    expect(engine.book.version).toBe(1);
    expectProblem(await call(server, 'DELETE', '/v1/limits/max-qty', 'admin', undefined, { 'if-match': 'W/"1"' }), 412);
    expectProblem(await call(server, 'POST', '/v1/limits', 'admin', { id: 'new-one', kind: 'open_orders', thresholds: { hard: 3 } }, { 'if-match': 'W/"1"' }), 412);
    expect(engine.book.version).toBe(1);
    expect(engine.book.byId.has('max-qty')).toBe(true);
    const any = await call(server, 'PUT', '/v1/limits/max-qty', 'admin', MAX_QTY, { 'if-match': '*' });
    expect(any.statusCode).toBe(200);
    expect(engine.book.version).toBe(2);
  });

  it('PUT of a new id creates it and answers 201, as POST does; PUT of it again replaces it and answers 200', async () => {
    const { server, engine } = await start();
    const limit = { id: 'new-one', kind: 'open_orders', thresholds: { hard: 3 } };
    const created = await call(server, 'PUT', '/v1/limits/new-one', 'admin', limit);
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers.etag).toBe('"2"');
    expect(created.json()).toEqual({ version: 2, limit });
    expect(engine.book.byId.has('new-one')).toBe(true);
    expect(engine.book.version).toBe(2);

    const replaced = await call(server, 'PUT', '/v1/limits/new-one', 'admin', { ...limit, thresholds: { hard: 4 } }, { 'if-match': '"2"' });
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(replaced.json()).toEqual({ version: 3, limit: { ...limit, thresholds: { hard: 4 } } });

    // Deleted, it is new again.
    expect((await call(server, 'DELETE', '/v1/limits/new-one', 'admin')).statusCode).toBe(200);
    expect((await call(server, 'PUT', '/v1/limits/new-one', 'admin', limit)).statusCode).toBe(201);
  });

  it('PUT of a new id refused (stale If-Match) creates nothing and answers no 201', async () => {
    const { server, engine } = await start();
    expectProblem(await call(server, 'PUT', '/v1/limits/new-one', 'admin', { id: 'new-one', kind: 'open_orders', thresholds: { hard: 3 } }, { 'if-match': '"7"' }), 412);
    expect(engine.book.byId.has('new-one')).toBe(false);
  });

  it('PUT whose body id differs from the path is 400 naming id', async () => {
    const { server, engine } = await start();
    const problem = expectProblem(await call(server, 'PUT', '/v1/limits/max-qty', 'admin', { ...MAX_QTY, id: 'other' }), 400);
    expect(namesField(problem, 'id')).toBe(true);
    expect(engine.book.version).toBe(1);
  });

  it('DELETE removes a limit, bumps the version and resolves its active violations; again is 404', async () => {
    const { server, engine } = await start();
    await check(server, anOrder({ quantity: 600 }));
    expect(engine.violations.activeCount).toBe(1);

    const stale = await call(server, 'DELETE', '/v1/limits/max-qty', 'admin', undefined, { 'if-match': '"7"' });
    expectProblem(stale, 412);
    expect(engine.book.byId.has('max-qty')).toBe(true);

    const deleted = await call(server, 'DELETE', '/v1/limits/max-qty', 'admin', undefined, { 'if-match': '"1"' });
    expect(deleted.statusCode).toBe(200);
    expect(deleted.headers.etag).toBe('"2"');
    expect(deleted.json()).toEqual({ version: 2, deleted: 'max-qty' });
    expect(engine.violations.activeCount).toBe(0);
    expectProblem(await call(server, 'GET', '/v1/limits/max-qty', 'ops'), 404);
    expectProblem(await call(server, 'DELETE', '/v1/limits/max-qty', 'admin'), 404);
    expect(engine.book.version).toBe(2);
  });

  it('DELETE of a limit that does not exist is 404 whatever If-Match says (existence before version)', async () => {
    const { server, engine } = await start();
    expect((await call(server, 'POST', '/v1/limits', 'admin', { id: 'x', kind: 'order_quantity', thresholds: { hard: 1 } })).statusCode).toBe(201); // version 2
    for (const ifMatch of ['1', '"1"', '2', 'W/"1"', 'W/"2"']) {
      expect(namesField(expectProblem(await call(server, 'DELETE', '/v1/limits/nope', 'admin', undefined, { 'if-match': ifMatch }), 404), 'nope')).toBe(true);
    }
    expect(engine.book.version).toBe(2);
  });
});

describe('DELETE /v1/limits/{id} refuses what it would not honour', () => {
  it('refuses a body with fields, or a query, with 400 naming it, and keeps the limit', async () => {
    const { server, engine } = await start();
    const json = { 'content-type': 'application/json' };
    const problem = expectProblem(await call(server, 'DELETE', '/v1/limits/max-qty', 'admin', '{"dryRun":true}', json), 400);
    expect(namesField(problem, 'dryRun'), JSON.stringify(problem)).toBe(true);
    const query = expectProblem(await call(server, 'DELETE', '/v1/limits/max-qty?dryRun=true', 'admin'), 400);
    expect(namesField(query, 'querystring.dryRun'), JSON.stringify(query)).toBe(true);
    expect(engine.book.byId.has('max-qty')).toBe(true);
    expect(engine.book.version).toBe(1);

    expect((await call(server, 'DELETE', '/v1/limits/max-qty', 'admin', '{}', json)).statusCode).toBe(200);
    expect(engine.book.byId.has('max-qty')).toBe(false);
  });
});

describe('POST /v1/limits/{id}/evaluate', () => {
  it('grades a value against a value limit and applies its action on the key', async () => {
    const { server, engine } = await start({ limits: [VAR] });
    const breach = await call(server, 'POST', '/v1/limits/var/evaluate', 'gateway', { value: 25, scopeId: 'ACC-1' });
    expect(breach.statusCode).toBe(200);
    expect(breach.json()).toMatchObject({
      limitId: 'var',
      key: 'account:ACC-1',
      value: 25,
      severity: 'HARD_BREACH',
      action: 'REDUCE_ONLY',
      threshold: 20,
      violation: expect.objectContaining({ limitId: 'var', severity: 'HARD_BREACH', key: 'account:ACC-1' }) as unknown,
    });
    expect(engine.tradingStates.get('account:ACC-1')?.state).toBe('REDUCE_ONLY');
    expect(engine.violations.activeCount).toBe(1);

    const clean = await call(server, 'POST', '/v1/limits/var/evaluate', 'gateway', { value: 5, scopeId: 'ACC-1' });
    expect(clean.json()).toMatchObject({ severity: 'INFO', value: 5 });
    expect(clean.json<{ violation?: unknown }>().violation).toBeUndefined();
    expect(engine.violations.activeCount).toBe(0);
  });

  it('counts the violations it raises in ulc_violations_total (kind="value"), and nothing for a clean value', async () => {
    const { server } = await start({ limits: [VAR] });
    for (const value of [25, 5, 25, 5]) await call(server, 'POST', '/v1/limits/var/evaluate', 'gateway', { value, scopeId: 'ACC-1' });
    const metrics = (await call(server, 'GET', '/metrics', undefined)).body;
    expect(metrics).toMatch(/^ulc_violations_total\{kind="value",severity="HARD_BREACH"\} 2$/m);
    expect(metrics.match(/^ulc_violations_total\{/gm)).toHaveLength(1);
  });

  it('refuses an unknown limit (404), a non-value limit (400 naming kind) and a missing scope id (400 naming scopeId)', async () => {
    const { server, engine } = await start({ limits: [VAR, MAX_QTY] });
    expectProblem(await call(server, 'POST', '/v1/limits/nope/evaluate', 'gateway', { value: 1 }), 404);
    expect(namesField(expectProblem(await call(server, 'POST', '/v1/limits/max-qty/evaluate', 'gateway', { value: 1 }), 400), 'kind')).toBe(true);
    expect(namesField(expectProblem(await call(server, 'POST', '/v1/limits/var/evaluate', 'gateway', { value: 100 }), 400), 'scopeId')).toBe(true);
    expect(engine.violations.historySize).toBe(0);
    expect(engine.tradingStates.size).toBe(0);
  });
});

describe('adding the first firm-wide self_trade limit', () => {
  it('links the orders already open a slice a turn before the limit applies, and the limit then sees every one', async () => {
    const { server, engine } = await start();
    const resting = Array.from({ length: 40_000 }, (_, i) => anOrder({ orderId: `rest-${i}`, accountId: `ACC-R${i % 1_000}`, side: 'SELL', quantity: 1, price: 200 + (i % 50) }));
    expect(engine.checkBatch(resting).summary.accepted).toBe(40_000);
    const trackSome = engine.trackSome.bind(engine);
    // A turn of the event loop comes between slices: a callback queued in the first has run by the last.
    let turns = 0;
    const slices = vi.spyOn(engine, 'trackSome').mockImplementation((budget) => {
      setImmediate(() => turns++);
      return trackSome(budget);
    });
    const upsert = engine.upsertLimit.bind(engine);
    let turnsBeforeChange = -1;
    vi.spyOn(engine, 'upsertLimit').mockImplementationOnce((definition, expected) => {
      turnsBeforeChange = turns;
      return upsert(definition, expected);
    });
    const added = await call(server, 'PUT', '/v1/limits/no-cross', 'admin', { id: 'no-cross', kind: 'self_trade', per: 'symbol', thresholds: { hard: 0 } });
    expect(added.statusCode).toBe(201);
    // 40,000 open orders: three slices with a turn between them, none linked in the book change.
    expect(slices).toHaveBeenCalledTimes(3);
    expect(turnsBeforeChange).toBe(2);
    const crossing = await check(server, anOrder({ orderId: 'cross', accountId: 'ACC-B', side: 'BUY', quantity: 1, price: 200 }));
    expect(crossing.json<CheckResult>().reasons).toEqual(['LIMIT_BREACH']);
    const below = await check(server, anOrder({ orderId: 'below', accountId: 'ACC-B', side: 'BUY', quantity: 1, price: 199.99 }));
    expect(below.json<CheckResult>().decision).toBe('ACCEPT');
  });

  it('stops linking at the level again when the change is refused after linking (the book changed meanwhile)', async () => {
    const { server, engine } = await start();
    restingSells(engine, 20_000);
    const read = await call(server, 'GET', '/v1/limits', 'ops');
    duringFirstSlice(engine, () => engine.upsertLimit({ id: 'between', kind: 'order_quantity', thresholds: { hard: 5_000 } }));
    const refused = await call(server, 'PUT', '/v1/limits/no-cross', 'admin', selfTrade('no-cross'), { 'if-match': read.headers.etag as string });
    expect(refused.statusCode).toBe(412);
    expect(tracksFirmOrders(engine)).toBe(false);
  });

  it('is 409 after linking when another request adds the id meanwhile, and the level stops linking', async () => {
    const { server, engine } = await start();
    restingSells(engine, 20_000);
    duringFirstSlice(engine, () => engine.upsertLimit({ id: 'no-cross', kind: 'order_quantity', thresholds: { hard: 5_000 } }));
    const refused = await call(server, 'POST', '/v1/limits', 'admin', selfTrade('no-cross'));
    expectProblem(refused, 409);
    expect(engine.book.byId.get('no-cross')?.definition.kind).toBe('order_quantity');
    expect(tracksFirmOrders(engine)).toBe(false);
  });

  it('links nothing for a request refused before the change (an id that exists, a stale If-Match)', async () => {
    const { server, engine } = await start();
    engine.checkOrder(anOrder({ orderId: 'resting', side: 'SELL', quantity: 1, price: 200 }));
    const preparing = vi.spyOn(engine, 'prepareTracking');
    expect((await call(server, 'POST', '/v1/limits', 'admin', selfTrade('max-qty'))).statusCode).toBe(409);
    expect((await call(server, 'PUT', '/v1/limits/no-cross', 'admin', selfTrade('no-cross'), { 'if-match': '"99"' })).statusCode).toBe(412);
    expect(preparing).not.toHaveBeenCalled();
  });
});

describe('adding a self_trade limit while the journal cannot be written', () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.server.close();
  });
  const journalled = async () => {
    const app = await journalledTestApp();
    apps.push(app);
    return app;
  };

  it('refuses POST and PUT with 503 before linking any order, and changes no book', async () => {
    const app = await journalled();
    restingSells(app.engine, 10);
    const mend = failJournal(app);
    const preparing = vi.spyOn(app.engine, 'prepareTracking');
    const version = app.engine.book.version;
    expectProblem(await call(app.server, 'POST', '/v1/limits', 'admin', selfTrade('no-cross')), 503);
    expectProblem(await call(app.server, 'PUT', '/v1/limits/no-cross', 'admin', selfTrade('no-cross')), 503);
    expect(preparing).not.toHaveBeenCalled();
    expect(app.engine.book.version).toBe(version);
    mend();
  });

  it('refuses with 503 when the journal fails while linking, and the level stops linking', async () => {
    const app = await journalled();
    restingSells(app.engine, 20_000);
    let mend = (): void => undefined;
    duringFirstSlice(app.engine, () => {
      mend = failJournal(app);
    });
    const version = app.engine.book.version;
    expectProblem(await call(app.server, 'PUT', '/v1/limits/no-cross', 'admin', selfTrade('no-cross')), 503);
    expect(app.engine.book.version).toBe(version);
    expect(tracksFirmOrders(app.engine)).toBe(false);
    mend();
  });
});

function selfTrade(id: string) {
  return { id, kind: 'self_trade', per: 'symbol', thresholds: { hard: 0 } };
}

function restingSells(engine: LimitEngine, count: number): void {
  for (let i = 0; i < count; i++) engine.checkOrder(anOrder({ orderId: `rest-${i}`, accountId: `ACC-R${i % 1_000}`, side: 'SELL', quantity: 1, price: 200 }));
}

/** Runs `meanwhile` right after the first slice of linking, as a request served between slices would. */
function duringFirstSlice(engine: LimitEngine, meanwhile: () => void): void {
  const trackSome = engine.trackSome.bind(engine);
  vi.spyOn(engine, 'trackSome').mockImplementationOnce((budget) => {
    const isLeft = trackSome(budget);
    meanwhile();
    return isLeft;
  });
}

function tracksFirmOrders(engine: LimitEngine): boolean {
  return (engine.ledger as unknown as { tracksFirmOrders: boolean }).tracksFirmOrders;
}
