import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LimitEngine } from '../../src/domain/engine.js';
import type { PositionRow } from '../../src/domain/orders.js';
import { FLATTEN_SLICE, POSITION_SLICE } from '../../src/http/routes/positions.js';
import { SLICED_PARSE_BYTES } from '../../src/http/sliced-body.js';
import { VALIDATION_SLICE } from '../../src/http/body-validation.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, failJournal, journalledTestApp, testApp } from '../support/app-fixtures.js';
import { appPerTest, call, expectProblem, namesField } from './http-helpers.js';
import type { TestApp } from './http-helpers.js';

const start = appPerTest();
const journalled: TestApp[] = [];
const closeLater = (app: TestApp): void => {
  journalled.push(app);
};
afterEach(async () => {
  vi.restoreAllMocks();
  for (const app of journalled.splice(0)) await app.server.close();
});
const ACCOUNTS = 40;
const SYMBOLS = 150;
/** Distinct account/symbol pairs the rows name (each about ten times, in different slices). */
const PAIRS = 600;
const ROWS = 6_000;

/** Rows restating the same pairs slice after slice (the last one wins), some flat, some without a strategy. */
function rows(): PositionRow[] {
  return Array.from({ length: ROWS }, (_, i) => ({
    accountId: `ACC-X${i % ACCOUNTS}`,
    ...(i % 3 === 0 ? {} : { strategyId: `S${i % 5}` }),
    symbol: `SYM${i % SYMBOLS}`,
    quantity: i % 11 === 0 ? 0 : (i % 2 === 0 ? 1 : -1) * (i + 1),
    avgPrice: 100 + (i % 13),
  }));
}

/** Positions held before the body: a hundred of the pairs it restates. */
function holdPositions(engine: LimitEngine): void {
  engine.applyPositions(rows().slice(0, 100).map((row) => ({ ...row, quantity: 7, avgPrice: 90 })), false);
}

/** Everything the ledger holds, positions at every level included. */
const ledgerOf = (app: TestApp) => JSON.stringify(app.engine.ledger.capture());

const put = (app: TestApp, payload: string) =>
  app.server.inject({ method: 'PUT', url: '/v1/positions', headers: { ...bearer('gateway'), 'content-type': 'application/json' }, payload });

describe('a large positions body is read, validated and merged in slices', () => {
  it('changes state as the engine applying all its rows in one go does', async () => {
    const text = JSON.stringify({ positions: rows() });
    expect(text.length).toBeGreaterThan(SLICED_PARSE_BYTES);
    expect(ROWS).toBeGreaterThan(5 * Math.max(POSITION_SLICE, VALIDATION_SLICE));
    const oneGo = await start();
    holdPositions(oneGo.engine);
    oneGo.engine.applyPositions(rows(), false);
    const expected = ledgerOf(oneGo);
    await oneGo.server.close();

    const app = await start();
    holdPositions(app.engine);
    const response = await put(app, text);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ applied: ROWS, replaced: false });
    expect(ledgerOf(app)).toEqual(expected);
  });

  it('refuses a body with a bad row deep inside as a 400 naming its field, having applied none of it', async () => {
    const app = await start();
    holdPositions(app.engine);
    const before = ledgerOf(app);
    const positions: unknown[] = rows();
    const bad = ROWS - 10;
    positions[bad] = { ...rows()[bad], avgPrice: -1 };
    const problem = expectProblem(await put(app, JSON.stringify({ positions })), 400);
    expect(namesField(problem, `positions.${bad}.avgPrice`), JSON.stringify(problem)).toBe(true);
    expect(ledgerOf(app)).toEqual(before);
  });

  it.each([
    { table: 'maxPositions', capacity: { maxPositions: PAIRS }, late: { accountId: 'ACC-NEW', symbol: 'SYM0' }, detail: /^positions: 501 new account\/symbol pairs exceed maxPositions 600/ },
    { table: 'maxSymbols', capacity: { maxSymbols: SYMBOLS }, late: { accountId: 'ACC-X0', symbol: 'SYM-NEW' }, detail: /^symbols: 51 new symbols exceed maxSymbols 150/ },
  ])('refuses up front a body over $table by its last row, having applied none of it', async ({ capacity, late, detail }) => {
    const app = await start({ capacity });
    holdPositions(app.engine);
    const before = ledgerOf(app);
    const positions = [...rows(), { ...late, quantity: 1, avgPrice: 1 }];
    const problem = expectProblem(await put(app, JSON.stringify({ positions })), 507);
    expect(problem.detail).toMatch(detail);
    expect(problem.errors).toBeUndefined();
    expect(ledgerOf(app)).toEqual(before);
  });

  it('lets other requests in while it reads a body that turns out not to be JSON, then refuses it as malformed', async () => {
    const app = await start();
    const before = ledgerOf(app);
    const answered: string[] = [];
    // Broken at the very end: a whole parse would hold the event loop for all of it first.
    const positions = put(app, `${JSON.stringify({ positions: rows() }).slice(0, -2)},]}`).then((response) => {
      answered.push('positions');
      return response;
    });
    const probe = new Promise((resolve) => setTimeout(resolve, 0))
      .then(() => app.server.inject({ method: 'GET', url: '/healthz' }))
      .then(() => answered.push('health'));
    const [response] = await Promise.all([positions, probe]);
    expect(answered).toEqual(['health', 'positions']);
    expect(expectProblem(response, 400).type).toBe('/problems/malformed-json');
    expect(ledgerOf(app)).toEqual(before);
  });

  it('lets other requests in between the slices it applies', async () => {
    const app = await start();
    const answered: string[] = [];
    const apply = app.engine.applyPositions.bind(app.engine);
    let probe: Promise<unknown> | undefined;
    vi.spyOn(app.engine, 'applyPositions').mockImplementation((slice, replace) => {
      answered.push('slice');
      // Issued as the first slice is applied: it must not wait for the last.
      probe ??= call(app.server, 'GET', '/v1/accounts/ACC-X0/exposure', 'ops').then((response) => {
        expect(response.statusCode).toBe(200);
        answered.push('probe');
      });
      apply(slice, replace);
    });
    const response = await put(app, JSON.stringify({ positions: rows() }));
    answered.push('positions');
    await probe;
    expect(response.statusCode, response.body).toBe(200);
    const slices = Math.ceil(ROWS / POSITION_SLICE);
    expect(answered.filter((a) => a === 'slice')).toHaveLength(slices);
    // The probe answered while later slices were still to be applied.
    expect(answered.indexOf('probe')).toBeLessThan(slices - 1);
  });

  it('applies a large replace in slices, rejecting checks and refusing executions and merges sent in between, and leaves the book a replace in one go leaves', async () => {
    // More held than one flattening step takes, in accounts of their own.
    const holdMany = (engine: LimitEngine) => {
      holdPositions(engine);
      engine.applyPositions(Array.from({ length: FLATTEN_SLICE + 500 }, (_, i) => ({ accountId: `ACC-H${i}`, symbol: 'SYM0', quantity: 5, avgPrice: 10 })), false);
    };
    const oneGo = await start();
    holdMany(oneGo.engine);
    oneGo.engine.applyPositions(rows(), true);
    const expected = ledgerOf(oneGo);
    await oneGo.server.close();

    const app = await start();
    holdMany(app.engine);
    const inBetween: Promise<unknown>[] = [];
    const flattens = vi.spyOn(app.engine, 'flattenForReplace');
    const applySlice = app.engine.replacePositionsSlice.bind(app.engine);
    const slices = vi.spyOn(app.engine, 'replacePositionsSlice').mockImplementation((slice, isLast) => {
      applySlice(slice, isLast);
      // Issued as the first slice is applied, answered before the last.
      if (slices.mock.calls.length !== 1) return;
      inBetween.push(
        call(app.server, 'POST', '/v1/checks', 'gateway', { orderId: 'between', accountId: 'ACC-X0', strategyId: 'S1', symbol: 'SYM0', side: 'BUY', quantity: 1, price: 100, orderType: 'LIMIT' }).then((r) =>
          expect(r.json()).toMatchObject({ decision: 'REJECT', reasons: ['POSITIONS_REPLACING'] }),
        ),
        call(app.server, 'POST', '/v1/executions', 'gateway', { events: [{ type: 'FILL', accountId: 'ACC-X0', orderId: 'none', quantity: 1, price: 1 }] }).then((r) => expectProblem(r, 503)),
        call(app.server, 'POST', '/v1/executions', 'gateway', { events: [{ type: 'CANCEL', accountId: 'ACC-X0', orderId: 'none' }] }).then((r) => expect(r.statusCode).toBe(200)),
        call(app.server, 'PUT', '/v1/positions', 'gateway', { positions: [{ accountId: 'ACC-X0', symbol: 'SYM0', quantity: 1, avgPrice: 1 }] }).then((r) => expectProblem(r, 503)),
        call(app.server, 'PUT', '/v1/positions', 'gateway', { positions: [], replace: true }).then((r) => expect(expectProblem(r, 409).detail).toMatch(/another positions replace/)),
        call(app.server, 'POST', '/v1/sessions/reset', 'admin').then((r) => expect(expectProblem(r, 503).detail).toMatch(/a session reset cannot be applied while positions are being replaced/)),
      );
    });
    const response = await put(app, JSON.stringify({ positions: rows(), replace: true }));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ applied: ROWS, replaced: true });
    expect(inBetween).toHaveLength(6);
    await Promise.all(inBetween);
    expect(slices).toHaveBeenCalledTimes(Math.ceil(ROWS / POSITION_SLICE));
    expect(flattens.mock.calls.length).toBeGreaterThan(1);
    expect(app.engine.isReplacingPositions).toBe(false);
    expect(ledgerOf(app)).toEqual(expected);
  });

  it('answers a replace the journal stopped part way 503 naming the first row not applied; checks stay rejected until a whole replace ends it', async () => {
    const app = await journalledTestApp();
    closeLater(app);
    holdPositions(app.engine);
    let mend = (): void => undefined;
    const applySlice = app.engine.replacePositionsSlice.bind(app.engine);
    vi.spyOn(app.engine, 'replacePositionsSlice').mockImplementationOnce((slice, isLast) => {
      applySlice(slice, isLast);
      mend = failJournal(app);
    });
    const problem = expectProblem(await put(app, JSON.stringify({ positions: rows(), replace: true })), 503);
    expect(problem.detail).toMatch(/stopped after 1000 of 6000 positions .*: send the whole replace again; until a replace ends, the book may be half replaced and its checks rejected POSITIONS_REPLACING/);
    expect(namesField(problem, 'positions.1000')).toBe(true);
    expect(warnings(app)).toEqual([{ applied: 1000, rows: 6000, isReplacing: true }]);
    mend();
    vi.restoreAllMocks();
    expect(app.engine.isReplacingPositions).toBe(true);
    expect((await call(app.server, 'POST', '/v1/checks', 'gateway', { orderId: 'after', accountId: 'ACC-X0', strategyId: 'S1', symbol: 'SYM0', side: 'BUY', quantity: 1, price: 100, orderType: 'LIMIT' })).json()).toMatchObject({ reasons: ['POSITIONS_REPLACING'] });
    const again = await put(app, JSON.stringify({ positions: rows(), replace: true }));
    expect(again.statusCode, again.body).toBe(200);
    expect(app.engine.isReplacingPositions).toBe(false);
  });

  it.each([
    { name: 'one row', positions: [{ accountId: 'ACC-X0', symbol: 'SYM0', quantity: 3, avgPrice: 10 }] },
    { name: 'no row', positions: [] },
  ])('flattens in steps for a replace of $name over more held positions than a step takes, and ends it', async ({ positions }) => {
    const app = await start();
    app.engine.applyPositions(Array.from({ length: FLATTEN_SLICE + 10 }, (_, i) => ({ accountId: `ACC-H${i}`, symbol: 'SYM0', quantity: 5, avgPrice: 10 })), false);
    const flattens = vi.spyOn(app.engine, 'flattenForReplace');
    const response = await put(app, JSON.stringify({ positions, replace: true }));
    expect(response.json()).toEqual({ applied: positions.length, replaced: true });
    expect(flattens.mock.calls.length).toBeGreaterThan(1);
    expect(app.engine.isReplacingPositions).toBe(false);
    expect(app.engine.ledger.positionCount).toBe(positions.length);
  });

  it('answers a replace the journal stopped while flattening 503 with no row applied, its checks rejected, and flattens no more', async () => {
    const app = await journalledTestApp();
    closeLater(app);
    holdPositions(app.engine);
    // More held than one flattening step takes: the steps after the failure must not run.
    app.engine.applyPositions(Array.from({ length: FLATTEN_SLICE + 10 }, (_, i) => ({ accountId: `ACC-H${i}`, symbol: 'SYM0', quantity: 5, avgPrice: 10 })), false);
    let mend = (): void => undefined;
    const flatten = app.engine.flattenForReplace.bind(app.engine);
    const flattens = vi.spyOn(app.engine, 'flattenForReplace').mockImplementationOnce((budget) => {
      const isLeft = flatten(budget);
      mend = failJournal(app);
      return isLeft;
    });
    const slices = vi.spyOn(app.engine, 'replacePositionsSlice');
    const problem = expectProblem(await put(app, JSON.stringify({ positions: rows(), replace: true })), 503);
    expect(problem.detail).toMatch(/stopped after 0 of 6000 positions .*send the whole replace again/);
    expect(warnings(app)).toEqual([{ applied: 0, rows: 6000, isReplacing: true }]);
    expect(slices).not.toHaveBeenCalled();
    expect(flattens).toHaveBeenCalledTimes(1);
    expect(app.engine.isReplacingPositions).toBe(true);
    mend();
  });

  it('answers a replace of no rows whose last record is not made durable 503 as stopped, asking for it again', async () => {
    const app = await journalledTestApp();
    closeLater(app);
    app.engine.applyPositions(Array.from({ length: FLATTEN_SLICE + 10 }, (_, i) => ({ accountId: `ACC-H${i}`, symbol: 'SYM0', quantity: 5, avgPrice: 10 })), false);
    const store = app.store!;
    const applySlice = app.engine.replacePositionsSlice.bind(app.engine);
    vi.spyOn(app.engine, 'replacePositionsSlice').mockImplementationOnce((slice, isLast) => {
      applySlice(slice, isLast);
      vi.spyOn(store, 'settled').mockReturnValueOnce(Promise.reject(new Error('disk full')));
    });
    const problem = expectProblem(await put(app, JSON.stringify({ positions: [], replace: true })), 503);
    expect(problem.detail).toMatch(/^the replace stopped after 0 of 0 positions \(the change could not be made durable: disk full\): send the whole replace again/);
    expect(warnings(app)).toEqual([{ applied: 0, rows: 0, isReplacing: false }]);
  });

  it('warns, recovering a replace left half applied (the service stopped in it), that checks are rejected until a replace ends', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ulc-replace-'));
    const storage = { durability: 'async', dataDir, snapshotsIn: 'main' } as const;
    const first = await testApp({ storage });
    closeLater(first);
    holdPositions(first.engine);
    first.engine.beginPositionsReplace();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // A second process on the same directory, the first never closed (as if killed).
    const second = await testApp({ storage });
    closeLater(second);
    expect(second.engine.isReplacingPositions).toBe(true);
    const warned = second.logs.lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((l) => l.msg.startsWith('a positions replace is half applied'));
    expect(warned.map((l) => l.level)).toEqual([40]);
  });

  it('answers a replace the journal stopped by an outage it recovered from before the next step 503 too', async () => {
    const app = await journalledTestApp();
    closeLater(app);
    holdPositions(app.engine);
    const store = app.store!;
    const flatten = app.engine.flattenForReplace.bind(app.engine);
    vi.spyOn(app.engine, 'flattenForReplace').mockImplementationOnce((budget) => {
      const isLeft = flatten(budget);
      const outages = store.outages + 1;
      Object.defineProperty(store, 'outages', { configurable: true, get: () => outages });
      return isLeft;
    });
    expect(expectProblem(await put(app, JSON.stringify({ positions: rows(), replace: true })), 503).detail).toMatch(/stopped after 0 of 6000/);
    delete (store as { outages?: number }).outages;
  });

  it('refuses a replace over capacity before it begins, changing nothing', async () => {
    const app = await start({ capacity: { maxPositions: PAIRS } });
    holdPositions(app.engine);
    const before = ledgerOf(app);
    const begun = vi.spyOn(app.engine, 'beginPositionsReplace');
    const positions = [...rows(), { accountId: 'ACC-NEW', symbol: 'SYM0', quantity: 1, avgPrice: 1 }];
    expectProblem(await put(app, JSON.stringify({ positions, replace: true })), 507);
    expect(begun).not.toHaveBeenCalled();
    expect(app.engine.isReplacingPositions).toBe(false);
    expect(ledgerOf(app)).toEqual(before);
  });

  it('answers a replace whose rows no longer fit, symbols having come while it flattened, 507 saying checks are rejected until a replace ends', async () => {
    const app = await start({ capacity: { maxSymbols: SYMBOLS } });
    holdPositions(app.engine);
    const flatten = app.engine.flattenForReplace.bind(app.engine);
    vi.spyOn(app.engine, 'flattenForReplace').mockImplementationOnce((budget) => {
      const isLeft = flatten(budget);
      // Market data is taken while replacing: a symbol the rows do not name takes the last room.
      app.engine.setReferencePrices([{ symbol: 'OTHER', price: 1 }]);
      return isLeft;
    });
    const problem = expectProblem(await put(app, JSON.stringify({ positions: rows(), replace: true })), 507);
    expect(problem.detail).toMatch(/stopped after 0 of 6000 positions \(symbols: .*\): send the whole replace again/);
    expect(app.engine.isReplacingPositions).toBe(true);
  });

  it('answers a large merge a replace cut short 503, telling it to send the whole merge again', async () => {
    const app = await start();
    const merge = app.engine.applyPositions.bind(app.engine);
    vi.spyOn(app.engine, 'applyPositions').mockImplementationOnce((slice, replace) => {
      merge(slice, replace);
      // A replace begins between this merge's slices.
      app.engine.beginPositionsReplace();
    });
    const problem = expectProblem(await put(app, JSON.stringify({ positions: rows() })), 503);
    expect(problem.detail).toMatch(/only the first 1000 of 6000 positions were merged before a positions replace began.*send the whole merge again/);
    expect(namesField(problem, 'positions.1000')).toBe(true);
  });

  it('tells a large merge to send it whole again when a replace began in the gap the journal failed in too', async () => {
    const app = await journalledTestApp();
    closeLater(app);
    let mend = (): void => undefined;
    const merge = app.engine.applyPositions.bind(app.engine);
    vi.spyOn(app.engine, 'applyPositions').mockImplementationOnce((slice, replace) => {
      merge(slice, replace);
      // The merge stops for the journal, but a replace began meanwhile all the same.
      mend = failJournal(app);
      app.engine.beginPositionsReplace();
    });
    const problem = expectProblem(await put(app, JSON.stringify({ positions: rows() })), 503);
    expect(problem.detail).toMatch(/only the first 1000 of 6000 positions were merged before a positions replace began.*send the whole merge again/);
    mend();
  });
});

/** The replace's part-way warnings, as logged. */
function warnings(app: TestApp): object[] {
  return app.logs.lines
    .map((line) => JSON.parse(line) as { level: number; msg: string; applied?: number; rows?: number; isReplacing?: boolean })
    .filter((l) => l.level === 40 && l.msg === 'positions replace stopped')
    .map(({ applied, rows, isReplacing }) => ({ applied, rows, isReplacing }));
}

