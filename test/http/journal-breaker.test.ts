import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CheckResult } from '../../src/domain/engine.js';
import { SnapshotReplica } from '../../src/store/snapshot-replica.js';
import { testApp } from '../support/app-fixtures.js';
import { fillDisk } from '../support/disk-faults.js';
import { anOrder, call, check, expectProblem } from './http-helpers.js';
import type { TestApp } from './http-helpers.js';

/** An app journalling (async) to `dataDir`, whose journal breaker retries every 100 ms. */
const appOn = (dataDir: string) => testApp({ storage: { durability: 'async', dataDir, snapshotsIn: 'main', recoveryIntervalMs: 100 } });

const decisionOf = async (app: TestApp, orderId: string) => (await check(app.server, anOrder({ orderId, quantity: 10 }))).json<CheckResult>();
const breakerMetric = async (app: TestApp) => /^ulc_dependency_breaker_state\{dependency="journal"\} (\d)$/m.exec((await call(app.server, 'GET', '/metrics', undefined)).body)?.[1];
const upMetric = async (app: TestApp, dependency = 'journal') =>
  new RegExp(`^ulc_dependency_up\\{dependency="${dependency}"\\} (\\d)$`, 'm').exec((await call(app.server, 'GET', '/metrics', undefined)).body)?.[1];
const haltAccount = (app: TestApp) => call(app.server, 'PUT', '/v1/trading-state', 'admin', { scope: { type: 'account', id: 'ACC-1' }, state: 'HALTED', reason: 'test' });
const flushed = () => new Promise((resolve) => setTimeout(resolve, 50));
const logged = (app: TestApp, message: string) => app.logs.lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((l) => l.msg.startsWith(message));

const apps: TestApp[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const app of apps.splice(0)) await app.server.close();
});

describe('the journal breaker over HTTP', () => {
  it('refuses checks and changes while open, takes them again once the disk works, and a restart finds what was accepted', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ulc-breaker-http-'));
    const app = await appOn(dataDir);
    apps.push(app);
    expect(await breakerMetric(app)).toBe('0');
    expect((await decisionOf(app, 'before')).decision).toBe('ACCEPT');
    await flushed();

    const freeDisk = await fillDisk();
    // Answered before its write (async durability); the write then fails and opens the breaker.
    expect((await decisionOf(app, 'cut-back')).decision).toBe('ACCEPT');
    await vi.waitFor(() => expect(app.store?.breakerState).toBe('open'), { timeout: 2_000, interval: 5 });
    expect(await breakerMetric(app)).toBe('1');
    expect(await upMetric(app)).toBe('0');
    expect((await decisionOf(app, 'while-open')).reasons).toEqual(['DEPENDENCY_UNAVAILABLE']);
    expectProblem(await call(app.server, 'GET', '/readyz', undefined), 503);
    expectProblem(await haltAccount(app), 503);
    expect(logged(app, 'circuit breaker open:').map((l) => l.level)).toEqual([40]);

    freeDisk();
    await vi.waitFor(() => expect(app.store?.breakerState).toBe('closed'), { timeout: 5_000, interval: 10 });
    expect(logged(app, 'circuit breaker closed').map((l) => l.level)).toEqual([30]);
    expect(await breakerMetric(app)).toBe('0');
    expect(await upMetric(app)).toBe('1');
    expect((await call(app.server, 'GET', '/readyz', undefined)).statusCode).toBe(200);
    expect((await decisionOf(app, 'after')).decision).toBe('ACCEPT');
    expect((await haltAccount(app)).statusCode).toBe(200);
    await flushed();

    // A second process on the same directory, the first never closed (as if killed).
    const restarted = await appOn(dataDir);
    apps.push(restarted);
    expect([...restarted.engine.ledger.allOpenOrders()].map((o) => o.orderId).sort()).toEqual(['after', 'before', 'cut-back']);
    expect(restarted.engine.tradingStates.list().map((e) => [e.scope, e.state])).toEqual([['account:ACC-1', 'HALTED']]);
  });

  it('keeps ulc_dependency_up{dependency="snapshot_worker"} at 1 while a journal outage keeps a working worker stopped', async () => {
    // The app runs from sources: its worker is the built one (`npm test` builds first).
    const builtWorker = pathToFileURL(join(import.meta.dirname, '../../dist/store/snapshot-worker.js'));
    const start = SnapshotReplica.start.bind(SnapshotReplica);
    vi.spyOn(SnapshotReplica, 'start').mockImplementation((setup, log, limits) => start(setup, log, limits, builtWorker));
    const app = await testApp({ storage: { durability: 'async', dataDir: mkdtempSync(join(tmpdir(), 'ulc-breaker-http-')), snapshotsIn: 'worker', recoveryIntervalMs: 100 } });
    apps.push(app);
    expect(await upMetric(app, 'snapshot_worker')).toBe('1');
    const freeDisk = await fillDisk();
    expect((await decisionOf(app, 'cut-back')).decision).toBe('ACCEPT');
    // Past a failed attempt (the disk is still full), which stopped the worker.
    await vi.waitFor(() => expect(logged(app, 'circuit breaker open again')).toHaveLength(1), { timeout: 2_000, interval: 5 });
    expect({ journal: await upMetric(app), worker: await upMetric(app, 'snapshot_worker'), offThread: app.store?.snapshotsOffThread }).toEqual({ journal: '0', worker: '1', offThread: false });
    freeDisk();
    await vi.waitFor(() => expect(app.store?.breakerState).toBe('closed'), { timeout: 5_000, interval: 10 });
    expect({ worker: await upMetric(app, 'snapshot_worker'), offThread: app.store?.snapshotsOffThread }).toEqual({ worker: '1', offThread: true });
  });

  it('logs the half-open attempt, opens again when it fails, and closes once the disk works', async () => {
    const app = await appOn(mkdtempSync(join(tmpdir(), 'ulc-breaker-http-')));
    apps.push(app);
    const freeDisk = await fillDisk();
    expect((await decisionOf(app, 'cut-back')).decision).toBe('ACCEPT');
    await vi.waitFor(() => expect(logged(app, 'circuit breaker half-open')).toHaveLength(1), { timeout: 2_000, interval: 2 });
    await vi.waitFor(() => expect(logged(app, 'circuit breaker open again')).toHaveLength(1), { timeout: 2_000, interval: 5 });
    expect(logged(app, 'circuit breaker open again').map((l) => l.level)).toEqual([40]);
    expect(app.store?.breakerState).toBe('open');
    expect(await breakerMetric(app)).toBe('1');
    expectProblem(await call(app.server, 'GET', '/readyz', undefined), 503);
    expect((await decisionOf(app, 'still-open')).reasons).toEqual(['DEPENDENCY_UNAVAILABLE']);
    freeDisk();
    await vi.waitFor(() => expect(app.store?.breakerState).toBe('closed'), { timeout: 5_000, interval: 10 });
    expect((await decisionOf(app, 'after')).decision).toBe('ACCEPT');
  });
});
