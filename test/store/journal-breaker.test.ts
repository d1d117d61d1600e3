import { cpSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LimitEngine } from '../../src/domain/engine.js';
import type { ViolationNotice } from '../../src/domain/violation-book.js';
import { DurableStore } from '../../src/store/durable-store.js';
import { SnapshotReplica } from '../../src/store/snapshot-replica.js';
import type { StoreLog, StoreOptions } from '../../src/store/durable-store.js';
import { fileHandlePrototype, fillDisk } from '../support/disk-faults.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

const LIMITS = [
  { id: 'pos', kind: 'position', thresholds: { hard: 1_000_000 } },
  // A warning (ALERT): the order is accepted and leaves a violation.
  { id: 'qty', kind: 'order_quantity', thresholds: { warn: 5, hard: 1_000 } },
];
const RETRY_MS = 100;

class MemoryLog implements StoreLog {
  readonly lines: { level: string; message: string }[] = [];
  info(_object: object, message: string): void {
    this.lines.push({ level: 'info', message });
  }
  warn(_object: object, message: string): void {
    this.lines.push({ level: 'warn', message });
  }
  error(_object: object, message: string): void {
    this.lines.push({ level: 'error', message });
  }
  messages(prefix: string): string[] {
    return this.lines.filter((l) => l.message.startsWith(prefix)).map((l) => `${l.level}: ${l.message}`);
  }
}

/** The snapshot worker runs as built JavaScript (`npm test` builds first). */
const BUILT_WORKER = pathToFileURL(join(import.meta.dirname, '../../dist/store/snapshot-worker.js'));
const WITH_WORKER = { snapshotWorker: { engineConfig: testConfig(), limits: LIMITS, script: BUILT_WORKER } };

async function session(dir: string, clock: FakeClock, durability: StoreOptions['durability'], overrides: Partial<StoreOptions> = {}) {
  const engine = new LimitEngine(testConfig(), clock, LIMITS);
  const log = new MemoryLog();
  const store = await DurableStore.open(
    {
      dataDir: dir,
      durability,
      snapshotIntervalMs: 3_600_000,
      maxSegmentBytes: 64 * 1024 * 1024,
      asyncFlushMs: 5,
      recoveryIntervalMs: RETRY_MS,
      freshEngine: () => new LimitEngine(testConfig(), clock, LIMITS),
      ...overrides,
    },
    engine,
    log,
  );
  return { engine, store, log };
}

/** A store on a new data directory, with its own clock. */
async function freshSession(durability: StoreOptions['durability'], overrides: Partial<StoreOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ulc-breaker-'));
  const clock = new FakeClock();
  return { dir, clock, ...(await session(dir, clock, durability, overrides)) };
}

const openOrders = (engine: LimitEngine) => [...engine.ledger.allOpenOrders()].map((o) => o.orderId).sort();
const accept = (engine: LimitEngine, orderId: string, fields: Parameters<typeof order>[0] = {}) =>
  expect(engine.checkOrder(order({ orderId, quantity: 10, ...fields })).decision).toBe('ACCEPT');
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));
const turn = () => new Promise((resolve) => setImmediate(resolve));
const closed = (store: DurableStore) => vi.waitFor(() => expect(store.breakerState).toBe('closed'), { timeout: 5_000, interval: 10 });

/** Fills the disk, accepts `orderId` (answered at once, its write then fails), waits for the breaker to open, and frees the disk. */
async function failWrite(engine: LimitEngine, store: DurableStore, orderId = 'cut-back'): Promise<void> {
  const freeDisk = await fillDisk();
  accept(engine, orderId);
  await vi.waitFor(() => expect(store.breakerState).toBe('open'), { timeout: 2_000, interval: 5 });
  freeDisk();
}

/** Fills the disk and accepts `cut-back`, whose write fails; returns once a recovery attempt failed too, with the function that frees the disk. */
async function outlastAnAttempt(engine: LimitEngine, log: MemoryLog): Promise<() => void> {
  const freeDisk = await fillDisk();
  accept(engine, 'cut-back');
  await vi.waitFor(() => expect(log.messages('circuit breaker open again')).toHaveLength(1), { timeout: 2_000, interval: 5 });
  return freeDisk;
}

/** A slow disk: every file write waits until the returned function is called. */
async function holdWrites(): Promise<() => void> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const proto = await fileHandlePrototype();
  const write = proto.write;
  vi.spyOn(proto, 'write').mockImplementation(async function (this: unknown, ...args: unknown[]) {
    await released;
    return write.apply(this, args as [unknown]);
  });
  return release;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the journal's circuit breaker", () => {
  it('async: opens on a failed write, recovers once the disk works, and a restart finds every change acknowledged, before and after', async () => {
    const { dir, clock, engine, store, log } = await freshSession('async');
    accept(engine, 'before');
    await settle();
    const freeDisk = await fillDisk();
    // Answered at once (async durability); its write then fails and is cut back off the segment.
    accept(engine, 'cut-back');
    await vi.waitFor(() => expect(store.breakerState).toBe('open'), { timeout: 2_000, interval: 5 });
    expect(store.isHealthy).toBe(false);
    expect(store.outages).toBe(1);
    freeDisk();
    await closed(store);
    expect(store.isHealthy).toBe(true);
    expect(log.messages('circuit breaker')).toEqual([
      'warn: circuit breaker open: journal failed; what needs it is refused until it recovers',
      'info: circuit breaker half-open: trying to recover journal',
      'info: circuit breaker closed: journal recovered',
    ]);
    accept(engine, 'after');
    await settle();
    // One snapshot (numbered past every record the failed journal used) and the segment after it.
    const files = readdirSync(dir).sort();
    expect(files.filter((f) => f.startsWith('snapshot-'))).toHaveLength(1);
    expect(files.filter((f) => f.startsWith('journal-'))).toHaveLength(1);
    const expected = JSON.stringify(engine.captureState());
    // No close(): killed.
    const second = await session(dir, clock, 'async');
    expect(openOrders(second.engine)).toEqual(['after', 'before', 'cut-back']);
    expect(JSON.stringify(second.engine.captureState())).toBe(expected);
    expect(second.store.recovery.dropped).toEqual([]);
    await second.store.close();
    await store.close();
  });

  it('with the snapshot worker (the default): a new replica starts from the recovery snapshot and its snapshots hold what came after', async () => {
    const { dir, clock, engine, store } = await freshSession('async', WITH_WORKER);
    accept(engine, 'before');
    await settle();
    await failWrite(engine, store);
    await closed(store);
    expect(store.snapshotsOffThread).toBe(true);
    accept(engine, 'after');
    await settle();
    // Written by the new replica, fed only what the new segment holds.
    await store.snapshot();
    expect(store.snapshotsOffThread).toBe(true);
    const expected = JSON.stringify(engine.captureState());
    const snapshots = readdirSync(dir).filter((f) => f.startsWith('snapshot-'));
    expect(snapshots).toHaveLength(1);
    const second = await session(dir, clock, 'async');
    expect(second.store.recovery.snapshotSeq).toBeGreaterThan(0);
    expect(openOrders(second.engine)).toEqual(['after', 'before', 'cut-back']);
    expect(JSON.stringify(second.engine.captureState())).toBe(expected);
    await second.store.close();
    await store.close();
  });

  it("paces the next size-triggered snapshot by the recovery's own snapshot (snapshotJournalRatio times its size)", async () => {
    // A journal of five orders is far from 10,000 bytes: maintenance takes no snapshot of its own.
    const { dir, engine, store } = await freshSession('async', { maxSegmentBytes: 10_000, snapshotJournalRatio: 100 });
    for (let i = 0; i < 5; i++) accept(engine, `before-${i}`);
    await settle();
    // No snapshot yet in this process: maxSegmentBytes alone.
    expect(store.journalBytesDue).toBe(10_000);
    await failWrite(engine, store);
    await closed(store);
    const [snapshot] = readdirSync(dir).filter((f) => f.startsWith('snapshot-'));
    const snapshotBytes = statSync(join(dir, snapshot!)).size;
    expect(100 * snapshotBytes).toBeGreaterThan(10_000);
    expect(store.journalBytesDue).toBe(100 * snapshotBytes);
    await store.close();
  });

  it('opens again when the half-open attempt fails (the disk is still full), and closes at a later one', async () => {
    const { dir, clock, engine, store, log } = await freshSession('async');
    const freeDisk = await fillDisk();
    accept(engine, 'cut-back');
    await vi.waitFor(() => expect(log.messages('circuit breaker open again')).toHaveLength(1), { timeout: 2_000, interval: 5 });
    expect(store.breakerState).toBe('open');
    expect(store.isHealthy).toBe(false);
    // The failed attempt left no snapshot behind (nor its temporary file).
    expect(readdirSync(dir).filter((f) => !f.startsWith('journal-'))).toEqual([]);
    freeDisk();
    await closed(store);
    accept(engine, 'after');
    await settle();
    const second = await session(dir, clock, 'async');
    expect(openOrders(second.engine)).toEqual(['after', 'cut-back']);
    await second.store.close();
    await store.close();
  });

  it('refuses changes while half-open; what the engine does meanwhile (an expiry) is journalled after the snapshot', async () => {
    const { dir, clock, engine, store } = await freshSession('async');
    accept(engine, 'expiring');
    await settle();
    clock.advance(30_000);
    await failWrite(engine, store);
    // The disk works again but is slow: the attempt's writes wait until released.
    const release = await holdWrites();
    await vi.waitFor(() => expect(store.breakerState).toBe('half_open'), { timeout: 2_000, interval: 5 });
    expect(store.isHealthy).toBe(false);
    clock.advance(31_000); // 'expiring' is past the open-order TTL (60 s), 'cut-back' is not
    engine.sweep();
    expect(openOrders(engine)).toEqual(['cut-back']);
    release();
    await closed(store);
    vi.restoreAllMocks();
    await settle();
    const second = await session(dir, clock, 'async');
    expect(openOrders(second.engine)).toEqual(['cut-back']);
    expect(JSON.stringify(second.engine.captureState())).toBe(JSON.stringify(engine.captureState()));
    await second.store.close();
    await store.close();
  });

  it('fsync: a change its request was told failed does not come back; the engine goes back to what the disk holds, prices kept', async () => {
    const { dir, clock, engine, store } = await freshSession('fsync');
    engine.setReferencePrices([{ symbol: 'AAPL', price: 100 }]);
    accept(engine, 'before');
    await store.settled();
    const freeDisk = await fillDisk();
    accept(engine, 'told-failed');
    await expect(store.settled()).rejects.toThrow('ENOSPC');
    expect(store.breakerState).toBe('open');
    expect(openOrders(engine)).toEqual(['before', 'told-failed']);
    freeDisk();
    await closed(store);
    expect(openOrders(engine)).toEqual(['before']);
    expect(engine.ledger.market('AAPL')?.refPrice).toBe(100);
    accept(engine, 'after');
    await store.settled();
    const second = await session(dir, clock, 'fsync');
    expect(openOrders(second.engine)).toEqual(['after', 'before']);
    await second.store.close();
    await store.close();
  });
});

describe("the journal's circuit breaker: what requests are told, and what the service keeps", () => {
  it('fsync: settled() asked after a recovery does not call records the recovery dropped durable, and a request that wrote nothing is answered', async () => {
    const { engine, store } = await freshSession('fsync');
    accept(engine, 'kept');
    await store.settled();
    const freeDisk = await fillDisk();
    accept(engine, 'dropped');
    // The last record its change appended, taken when it made it.
    const droppedSeq = store.lastSeq;
    // Its write fails (the caller has not asked yet: a route that yields before it answers).
    await vi.waitFor(() => expect(store.breakerState).toBe('open'), { timeout: 2_000, interval: 5 });
    freeDisk();
    await closed(store);
    expect(openOrders(engine)).toEqual(['kept']); // the recovery went back to the disk: 'dropped' is gone
    // ...so nothing may tell its caller it is durable.
    await expect(store.settled(droppedSeq)).rejects.toThrow();
    // A request after the recovery that appended nothing (a duplicate order id, a cancel of an
    // unknown order) asks about the last record there is: durable.
    expect(engine.checkOrder(order({ orderId: 'kept', quantity: 10 })).reasons).toEqual(['DUPLICATE_ORDER_ID']);
    expect(store.settled()).toBeUndefined();
    await store.close();
  });

  it('fsync: a journal that fails on its backlog while a write is in flight answers that write by its outcome: it landed, so it stands; the records after it are refused and rolled back', async () => {
    const { dir, clock, engine, store } = await freshSession('fsync', { maxPendingEvents: 2 });
    // A slow disk: writes wait until released.
    const release = await holdWrites();
    const told = (settled: Promise<void> | undefined) => (settled ?? Promise.resolve()).then(() => 'ok', () => '503');
    accept(engine, 'in-flight');
    const inFlight = told(store.settled());
    await turn(); // its group commit starts, and waits for the disk
    accept(engine, 'b');
    const b = told(store.settled());
    accept(engine, 'c');
    accept(engine, 'd'); // over maxPendingEvents: the journal fails, with the write still under way
    expect(store.breakerState).toBe('open');
    release();
    expect([await inFlight, await b]).toEqual(['ok', '503']);
    vi.restoreAllMocks();
    await closed(store);
    expect(openOrders(engine)).toEqual(['in-flight']);
    const second = await session(dir, clock, 'fsync');
    expect(openOrders(second.engine)).toEqual(['in-flight']);
    await second.store.close();
    await store.close();
  });

  it('fsync: after the engine goes back to the disk, violation seqs and ids already streamed to subscribers are not reused', async () => {
    const { engine, store } = await freshSession('fsync');
    const notices: ViolationNotice[] = [];
    engine.violations.subscribe((n) => notices.push(n));
    accept(engine, 'before', { accountId: 'ACC-1' });
    await store.settled();
    const freeDisk = await fillDisk();
    accept(engine, 'told-failed', { accountId: 'ACC-2' });
    await expect(store.settled()).rejects.toThrow('ENOSPC');
    freeDisk();
    await closed(store);
    accept(engine, 'after', { accountId: 'ACC-3' });
    await store.settled();
    const events = notices.flatMap((n) => (n.type === 'violation' ? [n.event] : []));
    // A stream client was told of ACC-2's violation; the engine no longer holds it: it should hear it end.
    expect(engine.violations.capture().active.map((v) => v.key)).not.toContain(expect.stringContaining('ACC-2'));
    const resolvedKeys = notices.flatMap((n) => (n.type === 'resolved' ? [n.violation.key] : []));
    expect({
      seqs: new Set(events.map((e) => e.seq)).size,
      ids: new Set(events.map((e) => e.violationId)).size,
      endOfAcc2Told: resolvedKeys.some((k) => k.includes('ACC-2')),
    }).toEqual({ seqs: 3, ids: 3, endOfAcc2Told: true });
    await store.close();
  });

  it('fsync: a violation whose resolution the recovery rolled back is announced again, numbered past every seq sent; a restart holds the same violations', async () => {
    const { dir, clock, engine, store } = await freshSession('fsync');
    const notices: ViolationNotice[] = [];
    engine.violations.subscribe((n) => notices.push(n));
    accept(engine, 'breach'); // over qty's warning threshold: a violation on ACC-1
    await store.settled();
    const freeDisk = await fillDisk();
    accept(engine, 'clean', { quantity: 1 }); // resolves it; the write fails
    await expect(store.settled()).rejects.toThrow('ENOSPC');
    freeDisk();
    await closed(store);
    const breach = (notices[0] as Extract<ViolationNotice, { type: 'violation' }>).event;
    expect(notices.slice(1)).toEqual([
      { type: 'resolved', violation: expect.objectContaining({ violationId: breach.violationId }) as unknown, at: clock.now() },
      { type: 'violation', event: { ...breach, seq: breach.seq + 1, orderId: undefined } },
    ]);
    expect(engine.violations.active({}).map((v) => v.violationId)).toEqual([breach.violationId]);
    accept(engine, 'after', { accountId: 'ACC-2' });
    await store.settled();
    expect(notices.at(-1)).toMatchObject({ type: 'violation', event: { seq: breach.seq + 2 } });
    const second = await session(dir, clock, 'fsync');
    expect(second.engine.violations.capture()).toEqual(engine.violations.capture());
    await second.store.close();
    await store.close();
  });

  it('with the snapshot worker: a recovery does not bring back a worker that was let go for hanging (at most one hung worker per process)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-breaker-'));
    const clock = new FakeClock();
    // A worker that never answers a snapshot request within its timeout.
    const { engine, store } = await session(dir, clock, 'async', { snapshotWorker: { ...WITH_WORKER.snapshotWorker, timeoutMs: 1 } });
    accept(engine, 'a');
    await settle();
    await store.snapshot(); // the worker times out: let go as unresponsive, snapshot taken on the main thread
    expect(store.snapshotsOffThread).toBe(false);
    await failWrite(engine, store);
    await closed(store);
    // README: "a worker that hung is not [replaced] ... snapshots stay on the main thread until the service restarts".
    expect(store.snapshotsOffThread).toBe(false);
    await store.close();
  });

  it('fsync: a change whose fsync failed (told 503) does not come back when cutting the write back failed too', async () => {
    const { dir, clock, engine, store } = await freshSession('fsync');
    accept(engine, 'before');
    await store.settled();
    const proto = (await fileHandlePrototype()) as unknown as Record<'sync' | 'truncate', (...args: unknown[]) => Promise<unknown>>;
    const eio = () => Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    for (const name of ['sync', 'truncate'] as const) {
      const original = proto[name];
      let fails = 1;
      vi.spyOn(proto, name).mockImplementation(function (this: unknown, ...args: unknown[]) {
        return fails-- > 0 ? Promise.reject(eio()) : original.apply(this, args);
      });
    }
    accept(engine, 'told-failed');
    await expect(store.settled()).rejects.toThrow('EIO');
    vi.restoreAllMocks();
    await closed(store);
    expect(openOrders(engine)).toEqual(['before']);
    await store.close();
    const second = await session(dir, clock, 'fsync');
    expect(openOrders(second.engine)).toEqual(['before']);
    await second.store.close();
  });

  it('with the snapshot worker: a worker that cannot be started does not keep the breaker open; snapshots go to the main thread', async () => {
    const { engine, store } = await freshSession('async', WITH_WORKER);
    accept(engine, 'before');
    await settle();
    vi.spyOn(SnapshotReplica, 'start').mockImplementation(() => {
      throw Object.assign(new Error('ERR_WORKER_INIT_FAILED'), { code: 'ERR_WORKER_INIT_FAILED' });
    });
    await failWrite(engine, store);
    await closed(store);
    expect({ offThread: store.snapshotsOffThread, workerUp: store.isSnapshotWorkerUp }).toEqual({ offThread: false, workerUp: false });
    await store.close();
  });

  it('with the snapshot worker: one that worked counts as up while a journal outage keeps it stopped (its successor starts with the recovery)', async () => {
    const { engine, store, log } = await freshSession('async', WITH_WORKER);
    const freeDisk = await outlastAnAttempt(engine, log);
    expect({ offThread: store.snapshotsOffThread, workerUp: store.isSnapshotWorkerUp }).toEqual({ offThread: false, workerUp: true });
    freeDisk();
    await closed(store);
    expect({ offThread: store.snapshotsOffThread, workerUp: store.isSnapshotWorkerUp }).toEqual({ offThread: true, workerUp: true });
    await store.close();
  });

  it('with the snapshot worker: one let go for hanging before a journal outage counts as down throughout it', async () => {
    const { engine, store, log } = await freshSession('async', { snapshotWorker: { ...WITH_WORKER.snapshotWorker, timeoutMs: 1 } });
    accept(engine, 'a');
    await settle();
    await store.snapshot(); // times out: let go as unresponsive
    const freeDisk = await outlastAnAttempt(engine, log);
    expect(store.isSnapshotWorkerUp).toBe(false);
    freeDisk();
    await closed(store);
    expect(store.isSnapshotWorkerUp).toBe(false);
    await store.close();
  });

  it('with the snapshot worker: a recovery that succeeds after a failed attempt still starts a new worker', async () => {
    const { engine, store, log } = await freshSession('async', WITH_WORKER);
    expect(store.snapshotsOffThread).toBe(true);
    const freeDisk = await fillDisk();
    accept(engine, 'cut-back');
    await vi.waitFor(() => expect(log.messages('circuit breaker open again')).toHaveLength(1), { timeout: 2_000, interval: 5 });
    freeDisk();
    await closed(store);
    expect(store.snapshotsOffThread).toBe(true);
    await store.close();
  });

  it('with the snapshot worker: one let go for falling behind (not hanging) is replaced by the recovery', async () => {
    const { engine, store } = await freshSession('async', { ...WITH_WORKER, maxSegmentBytes: 16_384 });
    expect(store.snapshotsOffThread).toBe(true);
    // One flush of well over 16 KiB: more than the worker may have waiting, so it is let go (fell behind).
    for (let i = 0; i < 200; i++) accept(engine, `o-${i}`, { quantity: 1 });
    await vi.waitFor(() => expect(store.snapshotsOffThread).toBe(false), { timeout: 2_000, interval: 5 });
    await failWrite(engine, store);
    await closed(store);
    expect(store.snapshotsOffThread).toBe(true);
    await store.close();
  });

  it('async: a graceful close while the breaker is open (the disk works again) keeps the changes acknowledged before the failure', async () => {
    const { dir, clock, engine, store } = await freshSession('async', { recoveryIntervalMs: 60_000 });
    accept(engine, 'before');
    await settle();
    const freeDisk = await fillDisk();
    accept(engine, 'acknowledged'); // answered 200 at once (async), then its write fails
    await vi.waitFor(() => expect(store.breakerState).toBe('open'), { timeout: 2_000, interval: 5 });
    freeDisk();
    // SIGTERM before the next attempt: close() stops the breaker and takes no final snapshot.
    await store.close().catch(() => undefined);
    const second = await session(dir, clock, 'async');
    expect(openOrders(second.engine)).toEqual(['acknowledged', 'before']);
    await second.store.close();
    expect(readdirSync(dir).length).toBeGreaterThan(0);
  });
});

/** The directory as a kill -9 right now would leave it (every write so far reached the disk). */
function copyOf(dir: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'ulc-breaker-crash-'));
  cpSync(dir, copy, { recursive: true });
  return copy;
}

describe("a kill -9 at any step of the breaker's recovery attempt", () => {
  for (const durability of ['fsync', 'async'] as const) {
    it(`${durability}: every directory left behind opens, with no told-failed change and no half of an atomic batch`, async () => {
      const { dir, clock, engine, store } = await freshSession(durability);
      accept(engine, 'before');
      // An atomic batch between its slices: its first reservation is journalled, it is not answered.
      const run = engine.beginBatch([order({ orderId: 'a1', quantity: 10 }), order({ orderId: 'a2', quantity: 10 })], { atomic: true });
      engine.advanceBatch(run, 1);
      await (store.settled() ?? settle());
      await settle();
      const freeDisk = await fillDisk();
      accept(engine, 'cut-back');
      await (store.settled() ?? Promise.resolve()).catch(() => undefined);
      await vi.waitFor(() => expect(store.breakerState).toBe('open'), { timeout: 2_000, interval: 5 });
      freeDisk();
      const copies: string[] = [];
      const proto = (await fileHandlePrototype()) as unknown as Record<string, (...args: unknown[]) => unknown>;
      for (const name of ['write', 'sync', 'read', 'close', 'truncate', 'stat'].filter((n) => Object.hasOwn(proto, n))) {
        const original = proto[name]!;
        vi.spyOn(proto as Record<string, (...args: unknown[]) => unknown>, name).mockImplementation(function (this: unknown, ...args: unknown[]) {
          if (store.breakerState === 'half_open') copies.push(copyOf(dir));
          return original.apply(this, args);
        });
      }
      await closed(store);
      vi.restoreAllMocks();
      copies.push(copyOf(dir));
      expect(copies.length).toBeGreaterThan(5);
      const found: string[] = [];
      for (const copy of copies) {
        let orders: string;
        try {
          const restarted = await session(copy, clock, durability, { recoveryIntervalMs: undefined });
          orders = openOrders(restarted.engine).join(',');
          await restarted.store.close();
        } catch (error) {
          orders = `unreadable: ${(error as Error).message}`;
        }
        found.push(orders);
      }
      const allowed = durability === 'fsync' ? ['before'] : ['before', 'before,cut-back'];
      expect(found.filter((f) => !allowed.includes(f))).toEqual([]);
      await store.close();
    });
  }
});

describe('close() during the half-open attempt', () => {
  it('with the snapshot worker: close() waits for the attempt, leaves no worker running, and the directory opens whole', async () => {
    const { dir, clock, engine, store } = await freshSession('async', WITH_WORKER);
    accept(engine, 'before');
    await settle();
    await failWrite(engine, store);
    const release = await holdWrites();
    await vi.waitFor(() => expect(store.breakerState).toBe('half_open'), { timeout: 2_000, interval: 2 });
    const closing = store.close();
    await settle();
    release();
    await closing;
    vi.restoreAllMocks();
    expect((store as unknown as { replicas: { current: unknown } }).replicas.current).toBeUndefined();
    const second = await session(dir, clock, 'async');
    expect(openOrders(second.engine)).toEqual(['before', 'cut-back']);
    await second.store.close();
  });
});
