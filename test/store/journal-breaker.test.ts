import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LimitEngine } from '../../src/domain/engine.js';
import { DurableStore } from '../../src/store/durable-store.js';
import type { StoreLog, StoreOptions } from '../../src/store/durable-store.js';
import { fileHandlePrototype, fillDisk } from '../support/disk-faults.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

const LIMITS = [{ id: 'pos', kind: 'position', thresholds: { hard: 1_000_000 } }];
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

const openOrders = (engine: LimitEngine) => [...engine.ledger.allOpenOrders()].map((o) => o.orderId).sort();
const accept = (engine: LimitEngine, orderId: string) => expect(engine.checkOrder(order({ orderId, quantity: 10 })).decision).toBe('ACCEPT');
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));
const closed = (store: DurableStore) => vi.waitFor(() => expect(store.breakerState).toBe('closed'), { timeout: 5_000, interval: 10 });

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the journal's circuit breaker", () => {
  it('async: opens on a failed write, recovers once the disk works, and a restart finds every change acknowledged, before and after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-breaker-'));
    const clock = new FakeClock();
    const { engine, store, log } = await session(dir, clock, 'async');
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
    const dir = mkdtempSync(join(tmpdir(), 'ulc-breaker-'));
    const clock = new FakeClock();
    const worker = { snapshotWorker: { engineConfig: testConfig(), limits: LIMITS, script: BUILT_WORKER } };
    const { engine, store } = await session(dir, clock, 'async', worker);
    accept(engine, 'before');
    await settle();
    const freeDisk = await fillDisk();
    accept(engine, 'cut-back');
    await vi.waitFor(() => expect(store.breakerState).toBe('open'), { timeout: 2_000, interval: 5 });
    freeDisk();
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

  it('opens again when the half-open attempt fails (the disk is still full), and closes at a later one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-breaker-'));
    const clock = new FakeClock();
    const { engine, store, log } = await session(dir, clock, 'async');
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
    const dir = mkdtempSync(join(tmpdir(), 'ulc-breaker-'));
    const clock = new FakeClock();
    const { engine, store } = await session(dir, clock, 'async');
    accept(engine, 'expiring');
    await settle();
    clock.advance(30_000);
    const freeDisk = await fillDisk();
    accept(engine, 'cut-back');
    await vi.waitFor(() => expect(store.breakerState).toBe('open'), { timeout: 2_000, interval: 5 });
    freeDisk();
    // The disk works again but is slow: the attempt's writes wait until released.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const proto = await fileHandlePrototype();
    const write = proto.write;
    vi.spyOn(proto, 'write').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      await released;
      return write.apply(this, args as [unknown]);
    });
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
    const dir = mkdtempSync(join(tmpdir(), 'ulc-breaker-'));
    const clock = new FakeClock();
    const { engine, store } = await session(dir, clock, 'fsync');
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
