import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { LimitEngine } from '../../src/domain/engine.js';
import { DurableStore } from '../../src/store/durable-store.js';
import type { StoreLog, StoreOptions } from '../../src/store/durable-store.js';
import { JournalCorruptError } from '../../src/store/journal-format.js';
import { recover } from '../../src/store/recovery.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

/** The worker runs as built JavaScript (a worker thread is not transformed by the test runner); `npm test` builds first. */
const BUILT_WORKER = pathToFileURL(join(import.meta.dirname, '../../dist/store/snapshot-worker.js'));

const LIMITS = [
  { id: 'pos', kind: 'position', thresholds: { hard: 1_000 } },
  { id: 'rate', kind: 'order_rate', windowMs: 60_000, thresholds: { hard: 100 } },
  { id: 'dup', kind: 'duplicate_order', windowMs: 60_000, thresholds: { hard: 100 } },
];

class MemoryLog implements StoreLog {
  readonly errors: object[] = [];
  readonly infos: string[] = [];
  info(_object: object, message: string): void {
    this.infos.push(message);
  }
  warn(): void {}
  error(object: object): void {
    this.errors.push(object);
  }
}

async function session(dir: string, clock: FakeClock, script: URL = BUILT_WORKER, overrides: Partial<StoreOptions> = {}) {
  const engine = new LimitEngine(testConfig(), clock, LIMITS);
  const log = new MemoryLog();
  const options: StoreOptions = {
    dataDir: dir,
    durability: 'async',
    snapshotIntervalMs: 3_600_000,
    maxSegmentBytes: 64 * 1024 * 1024,
    asyncFlushMs: 1,
    snapshotWorker: { engineConfig: testConfig(), limits: LIMITS, script },
    ...overrides,
  };
  const store = await DurableStore.open(options, engine, log);
  return { engine, store, log };
}

const digest = (engine: LimitEngine): string => JSON.stringify(engine.captureState(), null, 1);
const files = (dir: string, prefix: string): string[] => readdirSync(dir).filter((f) => f.startsWith(prefix)).sort();

function trade(engine: LimitEngine, clock: FakeClock, prefix: string): void {
  engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 95 }], false);
  for (let i = 0; i < 30; i++) {
    clock.advance(10);
    engine.checkOrder(order({ orderId: `${prefix}-${i}`, quantity: 10 + (i % 4) }));
  }
  engine.applyExecutions([{ type: 'FILL', accountId: 'ACC-1', orderId: `${prefix}-3`, quantity: 5, price: 101 }]);
  engine.setTradingState('account', 'ACC-9', 'HALTED', 'test');
}

describe('snapshots by the worker replica', () => {
  it('is built, from the sources as they are (npm test builds before it runs)', () => {
    expect(existsSync(BUILT_WORKER)).toBe(true);
    // The worker runs the built engine: an edit not yet built would be tested here as old code.
    const sources = readdirSync(join(import.meta.dirname, '../../src'), { recursive: true, withFileTypes: true }).filter((f) => f.isFile() && f.name.endsWith('.ts'));
    const newestSource = Math.max(...sources.map((f) => statSync(join(f.parentPath, f.name)).mtimeMs));
    expect(statSync(BUILT_WORKER).mtimeMs, 'run `npm run build`').toBeGreaterThanOrEqual(newestSource);
  });

  it('writes a snapshot from which recovery gives exactly the live state, and the covered journal goes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-replica-'));
    const clock = new FakeClock();
    const first = await session(dir, clock);
    expect(first.store.snapshotsOffThread).toBe(true);
    trade(first.engine, clock, 'a');
    const before = files(dir, 'journal-');
    // The worker takes it: the service's engine captures nothing.
    const captures = vi.spyOn(first.engine, 'captureState');
    await first.store.snapshot();
    expect(captures).not.toHaveBeenCalled();
    captures.mockRestore();
    expect(files(dir, 'journal-').some((f) => before.includes(f))).toBe(false);
    trade(first.engine, clock, 'b');
    await first.store.snapshot();
    trade(first.engine, clock, 'c');
    const expected = digest(first.engine);
    await first.store.close();
    const second = await session(dir, clock);
    expect(second.store.recovery.snapshotSeq).toBeGreaterThan(0);
    expect(digest(second.engine)).toBe(expected);
    expect(files(dir, 'snapshot-')).toHaveLength(1);
    expect(first.log.errors).toEqual([]);
    await second.store.close();
  });

  it('deletes no journal for a worker snapshot that is not whole on disk: it fails, and the journal still rebuilds the state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-replica-'));
    const clock = new FakeClock();
    const first = await session(dir, clock);
    trade(first.engine, clock, 'a');
    const before = files(dir, 'journal-');
    const replica = (first.store as unknown as { replicas: { current: { snapshot(seq: number): Promise<{ seq: number; name: string }> } } }).replicas.current;
    const askWorker = replica.snapshot.bind(replica);
    // The worker's file cut short after it said it was written: the main thread deletes, so the main thread must look.
    vi.spyOn(replica, 'snapshot').mockImplementation(async (seq) => {
      const taken = await askWorker(seq);
      const path = join(dir, taken.name);
      truncateSync(path, statSync(path).size >> 1);
      return taken;
    });
    await expect(first.store.snapshot()).rejects.toThrow(JournalCorruptError);
    vi.restoreAllMocks();
    expect([files(dir, 'journal-').filter((f) => before.includes(f)), files(dir, 'snapshot-')]).toEqual([before, []]);
    const rebuilt = new LimitEngine(testConfig(), clock, LIMITS);
    await recover(dir, rebuilt, new MemoryLog(), { readOnly: true });
    expect(digest(rebuilt)).toBe(digest(first.engine));
    await first.store.close();
  });

  it('reads the directory read-only beside the live writer: a half-written last record and temporary files stay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-replica-'));
    const clock = new FakeClock();
    const first = await session(dir, clock, BUILT_WORKER, { snapshotWorker: undefined });
    trade(first.engine, clock, 'a');
    const expected = digest(first.engine);
    await first.store.close();
    const segment = join(dir, files(dir, 'journal-').at(-1)!);
    appendFileSync(segment, Buffer.from([200, 0, 0, 0, 1, 2]));
    writeFileSync(join(dir, 'snapshot-0000000000000099.json.tmp'), 'partial');
    const before = readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).length]);
    const replica = new LimitEngine(testConfig(), clock, LIMITS);
    const report = await recover(dir, replica, new MemoryLog(), { readOnly: true });
    expect(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).length])).toEqual(before);
    expect([digest(replica), report.dropped]).toEqual([expected, []]);
  });

  it('takes snapshots on the main thread when the worker cannot run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-replica-'));
    const clock = new FakeClock();
    const missing = pathToFileURL(join(dir, 'no-such-worker.js'));
    const first = await session(dir, clock, missing);
    expect(first.store.snapshotsOffThread).toBe(false);
    trade(first.engine, clock, 'a');
    await first.store.snapshot();
    const expected = digest(first.engine);
    await first.store.close();
    const second = await session(dir, clock, missing);
    expect(digest(second.engine)).toBe(expected);
    await second.store.close();
  });

  it('falls back to the main thread when the worker dies, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-replica-'));
    const clock = new FakeClock();
    const dying = join(dir, 'dying-worker.mjs');
    writeFileSync(dying, 'process.exit(3);\n');
    const first = await session(dir, clock, pathToFileURL(dying));
    trade(first.engine, clock, 'a');
    await first.store.snapshot();
    const expected = digest(first.engine);
    await first.store.close();
    expect(first.store.snapshotsOffThread).toBe(false);
    expect(first.log.errors.length).toBeGreaterThan(0);
    const second = await session(dir, clock, pathToFileURL(dying));
    expect(digest(second.engine)).toBe(expected);
    await second.store.close();
  });

  it('lets a worker that falls behind go (backlog over a segment), snapshots on the main thread, then starts a new one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-replica-'));
    const clock = new FakeClock();
    const first = await session(dir, clock, BUILT_WORKER, { maxSegmentBytes: 16_384 });
    expect(first.store.snapshotsOffThread).toBe(true);
    // One flush of five rounds (over 16 KiB) is more than the worker may have waiting.
    for (let round = 0; round < 5; round++) trade(first.engine, clock, `b${round}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(first.store.snapshotsOffThread).toBe(false);
    await first.store.snapshot();
    expect(first.log.errors.map((e) => String((e as { err?: Error }).err?.message))).toEqual([expect.stringMatching(/fell behind: \d+ bytes of journal not yet replayed \(max 16384\)/)]);
    expect([first.store.snapshotsOffThread, first.log.infos.filter((m) => m === 'snapshot worker restarted')]).toEqual([true, ['snapshot worker restarted']]);
    trade(first.engine, clock, 'c');
    await first.store.snapshot();
    expect(first.log.errors).toHaveLength(1);
    const expected = digest(first.engine);
    await first.store.close();
    const second = await session(dir, clock, BUILT_WORKER);
    expect(digest(second.engine)).toBe(expected);
    await second.store.close();
  });
  it('writes the journal up to a main-thread snapshot before the snapshot itself, when the worker fails one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-replica-'));
    const clock = new FakeClock();
    const failing = join(dir, 'failing-worker.mjs');
    writeFileSync(
      failing,
      [
        "import { parentPort } from 'node:worker_threads';",
        "parentPort.postMessage({ type: 'ready', lastSeq: 0 });",
        "parentPort.on('message', (m) => parentPort.postMessage(m.type === 'records' ? { type: 'applied', bytes: m.bytes.byteLength } : { type: 'failed', id: m.id, message: 'cannot' }));",
      ].join('\n'),
    );
    // The journal's own flush timer would not write them for a minute: only the fallback's drain can.
    const first = await session(dir, clock, pathToFileURL(failing), { asyncFlushMs: 60_000 });
    trade(first.engine, clock, 'd');
    const writer = (first.store as unknown as { writer: { lastSeq: number; drain(): Promise<void> } }).writer;
    const drained: { seq: number; snapshots: string[] }[] = [];
    const drain = writer.drain.bind(writer);
    vi.spyOn(writer, 'drain').mockImplementation(async () => {
      await drain();
      drained.push({ seq: writer.lastSeq, snapshots: files(dir, 'snapshot-') });
    });
    await first.store.snapshot();
    const [snapshot] = files(dir, 'snapshot-');
    const snapshotSeq = Number(/snapshot-(\d+)/.exec(snapshot!)![1]);
    // Every record the snapshot holds was on disk (drained) before the snapshot file existed.
    expect(snapshotSeq).toBeGreaterThan(0);
    expect(drained).toEqual([{ seq: snapshotSeq, snapshots: [] }]);
    await first.store.close();
  });

  it('closes a journal that failed during a snapshot only once that snapshot has finished', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-replica-'));
    const clock = new FakeClock();
    const slow = join(dir, 'slow-worker.mjs');
    writeFileSync(
      slow,
      [
        "import { parentPort } from 'node:worker_threads';",
        "parentPort.postMessage({ type: 'ready', lastSeq: 0 });",
        "parentPort.on('message', (m) => m.type === 'records'",
        "  ? parentPort.postMessage({ type: 'applied', bytes: m.bytes.byteLength })",
        "  : setTimeout(() => parentPort.postMessage({ type: 'failed', id: m.id, message: 'cannot' }), 300));",
      ].join('\n'),
    );
    const { engine, store } = await session(dir, clock, pathToFileURL(slow), { asyncFlushMs: 60_000, maxPendingEvents: 3 });
    const replica = (store as unknown as { replicas: { current: { snapshot(seq: number): Promise<unknown> } } }).replicas.current;
    const askWorker = replica.snapshot.bind(replica);
    const asked = new Promise<void>((resolve) => {
      vi.spyOn(replica, 'snapshot').mockImplementation((seq) => {
        resolve();
        return askWorker(seq);
      });
    });
    let isSnapshotSettled = false;
    const snapshot = store.snapshot();
    const outcome = snapshot.then(
      () => 'taken',
      (error: unknown) => String(error),
    );
    void outcome.finally(() => {
      isSnapshotSettled = true;
    });
    await asked;
    // No flush for a minute and room for 3 records: the journal fails on the 4th, while the worker takes its time.
    for (let i = 0; i < 5; i++) engine.checkOrder(order({ orderId: `f-${i}` }));
    expect(store.isHealthy).toBe(false);
    const writer = (store as unknown as { writer: { close(): Promise<void> } }).writer;
    const settledAtWriterClose: boolean[] = [];
    const closeWriter = writer.close.bind(writer);
    vi.spyOn(writer, 'close').mockImplementation(() => {
      settledAtWriterClose.push(isSnapshotSettled);
      return closeWriter();
    });

    // close() reports the journal's failure, after the writer and the worker are closed.
    await expect(store.close()).rejects.toThrow(/records waiting for the disk/);
    // The worker's failure sent the snapshot to the main thread, whose drain the failed journal refuses.
    expect(await outcome).toMatch(/records waiting for the disk/);
    expect(settledAtWriterClose).toEqual([true]);
  });
});
