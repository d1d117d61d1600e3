import { appendFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LimitEngine } from '../../src/domain/engine.js';
import { DurableStore } from '../../src/store/durable-store.js';
import type { StoreLog, StoreOptions } from '../../src/store/durable-store.js';
import { JournalCorruptError, MAX_SEGMENT_BYTES } from '../../src/store/journal-format.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { fileHandlePrototype } from '../support/disk-faults.js';
import { FakeClock } from '../support/fake-clock.js';

const LIMITS = [
  { id: 'pos', kind: 'position', thresholds: { hard: 1_000 } },
  { id: 'rate', kind: 'order_rate', windowMs: 60_000, thresholds: { hard: 100 } },
];

class MemoryLog implements StoreLog {
  readonly warnings: object[] = [];
  readonly errors: object[] = [];
  info(): void {}
  warn(object: object): void {
    this.warnings.push(object);
  }
  error(object: object): void {
    this.errors.push(object);
  }
}

const options = (dir: string, overrides: Partial<StoreOptions> = {}): StoreOptions => ({
  dataDir: dir,
  durability: 'fsync',
  snapshotIntervalMs: 3_600_000,
  maxSegmentBytes: 64 * 1024 * 1024,
  asyncFlushMs: 5,
  ...overrides,
});

async function session(dir: string, clock: FakeClock, overrides: Partial<StoreOptions> = {}) {
  const engine = new LimitEngine(testConfig(), clock, LIMITS);
  const log = new MemoryLog();
  const store = await DurableStore.open(options(dir, overrides), engine, log);
  return { engine, store, log };
}

const digest = (engine: LimitEngine) => JSON.stringify(engine.captureState());
const segments = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('journal-')).sort();

async function driveSomeTrading(engine: LimitEngine, store: DurableStore, clock: FakeClock, prefix: string): Promise<void> {
  engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 95 }], false);
  for (let i = 0; i < 20; i++) {
    clock.advance(10);
    engine.checkOrder(order({ orderId: `${prefix}-${i}`, quantity: 10 + i }));
  }
  engine.applyExecutions([{ type: 'FILL', accountId: 'ACC-1', orderId: `${prefix}-3`, quantity: 5, price: 101 }]);
  engine.setTradingState('account', 'ACC-9', 'HALTED', 'test');
  await store.settled();
}

/**
 * Writes of more than a snapshot header (the journal's, once settled, are only a new segment's
 * 16-byte header) take half of what they are given; `reported` says whether they say so, as
 * write(2) on a nearly full disk does, or claim all of it.
 */
async function halveLargeWrites(dir: string, reported: 'honestly' | 'as whole'): Promise<void> {
  const proto = await fileHandlePrototype(dir);
  const realWrite = proto.write;
  vi.spyOn(proto, 'write').mockImplementation(async function (this: unknown, data: unknown, ...rest: unknown[]) {
    if (!Buffer.isBuffer(data) || data.length <= 1_000 || rest.length > 0) return realWrite.call(this, data, ...rest);
    const written = await realWrite.call(this, data.subarray(0, data.length >> 1));
    return reported === 'honestly' ? written : { ...written, bytesWritten: data.length };
  });
}

/** From the `nth` on, a file read from byte 0 fails with EIO (what reading a snapshot back starts with). */
async function failReadsFrom(dir: string, nth: number): Promise<void> {
  const proto = await fileHandlePrototype(dir);
  const realRead = proto.read;
  let reads = 0;
  vi.spyOn(proto, 'read').mockImplementation(function (this: unknown, ...args: unknown[]) {
    if (args[3] === 0 && ++reads >= nth) return Promise.reject(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
    return realRead.apply(this, args);
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** A store in a fresh directory that has journalled some trading, and the state it holds. */
async function tradedStore() {
  const dir = mkdtempSync(join(tmpdir(), 'ulc-store-'));
  const clock = new FakeClock();
  const first = await session(dir, clock);
  await driveSomeTrading(first.engine, first.store, clock, 'a');
  return { dir, clock, first, expected: digest(first.engine) };
}

describe('DurableStore', () => {
  it('recovers exactly the state it journalled (no snapshot)', async () => {
    const { dir, clock, expected } = await tradedStore();
    // No close(): as if the process died right after the last acknowledged change.
    const second = await session(dir, clock);
    expect(digest(second.engine)).toBe(expected);
    expect(second.store.recovery).toMatchObject({ snapshotSeq: undefined, dropped: [] });
    expect(second.store.recovery.replayed).toBeGreaterThan(20);
  });

  it('recovers from the snapshot plus the journal after it, and deletes what the snapshot covers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-store-'));
    const clock = new FakeClock();
    const first = await session(dir, clock);
    await driveSomeTrading(first.engine, first.store, clock, 'a');
    const before = segments(dir);
    await first.store.snapshot();
    expect(segments(dir).some((f) => before.includes(f))).toBe(false);
    await driveSomeTrading(first.engine, first.store, clock, 'b');
    const expected = digest(first.engine);
    const second = await session(dir, clock);
    expect(second.store.recovery.snapshotSeq).toBeGreaterThan(0);
    expect(digest(second.engine)).toBe(expected);
  });

  it('completes a snapshot the disk takes in short writes, and the next start recovers from it', async () => {
    const { dir, clock, first, expected } = await tradedStore();
    await halveLargeWrites(dir, 'honestly');
    await first.store.snapshot();
    vi.restoreAllMocks();
    // The covered journal is gone, so the snapshot alone must hold the state.
    const second = await session(dir, clock);
    expect(second.store.recovery).toMatchObject({ snapshotSeq: expect.any(Number) as number, replayed: 0 });
    expect(digest(second.engine)).toBe(expected);
  });

  it('deletes no journal for a snapshot that does not read back whole: it fails, and the next start recovers', async () => {
    const { dir, clock, first, expected } = await tradedStore();
    const before = segments(dir);
    await halveLargeWrites(dir, 'as whole');
    await expect(first.store.snapshot()).rejects.toThrow(JournalCorruptError);
    vi.restoreAllMocks();
    expect(segments(dir)).toEqual(expect.arrayContaining(before));
    expect(readdirSync(dir).filter((f) => f.startsWith('snapshot-'))).toEqual([]);
    const second = await session(dir, clock);
    expect(digest(second.engine)).toBe(expected);
  });

  it('takes no second snapshot of the same seq: an idle one leaves the one snapshot there is alone', async () => {
    const { dir, clock, first, expected } = await tradedStore();
    await first.store.snapshot();
    const snapshots = readdirSync(dir).filter((f) => f.startsWith('snapshot-'));
    const { mtimeMs } = statSync(join(dir, snapshots[0]!));
    await failReadsFrom(dir, 1);
    await first.store.snapshot();
    vi.restoreAllMocks();
    expect(readdirSync(dir).filter((f) => f.startsWith('snapshot-'))).toEqual(snapshots);
    expect(statSync(join(dir, snapshots[0]!)).mtimeMs).toBe(mtimeMs);
    const second = await session(dir, clock);
    expect(digest(second.engine)).toBe(expected);
  });

  it('keeps a snapshot it could not read back (an I/O error is not a bad file), and deletes nothing it covers', async () => {
    const { dir, clock, first } = await tradedStore();
    await first.store.snapshot();
    await driveSomeTrading(first.engine, first.store, clock, 'b');
    const expected = digest(first.engine);
    const before = readdirSync(dir);
    // The first read at 0 is writeSnapshot's own check before the rename, the second the store's before deleting.
    await failReadsFrom(dir, 2);
    await expect(first.store.snapshot()).rejects.toThrow('EIO');
    vi.restoreAllMocks();
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(before));
    expect(readdirSync(dir).filter((f) => f.startsWith('snapshot-'))).toHaveLength(2);
    const second = await session(dir, clock);
    expect(digest(second.engine)).toBe(expected);
  });

  it('drops a torn last record with a warning and keeps everything before it', async () => {
    const { dir, clock, expected } = await tradedStore();
    const last = join(dir, segments(dir).at(-1)!);
    // Half a record: a length that promises more bytes than the file has.
    appendFileSync(last, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 0x7b]));
    const second = await session(dir, clock);
    expect(digest(second.engine)).toBe(expected);
    expect(second.log.warnings).toHaveLength(1);
    expect(second.store.recovery.dropped).toEqual([{ file: last, offset: expect.any(Number) as number }]);
    // The tail is cut off, so the next start is clean.
    const third = await session(dir, clock);
    expect(third.log.warnings).toHaveLength(0);
  });

  it('drops the zeros a crash can leave past the last write, with a warning', async () => {
    const { dir, clock, expected } = await tradedStore();
    const last = join(dir, segments(dir).at(-1)!);
    const size = statSync(last).size;
    // The file grew but its last blocks were never written: they read as zeros.
    appendFileSync(last, Buffer.alloc(8192));
    const second = await session(dir, clock);
    expect(digest(second.engine)).toBe(expected);
    expect(second.store.recovery.dropped).toEqual([{ file: last, offset: size }]);
    expect(second.log.warnings).toHaveLength(1);
  });

  it('refuses to start on corruption in the middle, naming the file and offset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-store-'));
    const clock = new FakeClock();
    const first = await session(dir, clock);
    await driveSomeTrading(first.engine, first.store, clock, 'a');
    const path = join(dir, segments(dir).at(-1)!);
    const bytes = readFileSync(path);
    bytes[40] = bytes[40]! ^ 0xff;
    writeFileSync(path, bytes);
    const error = await session(dir, clock).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JournalCorruptError);
    expect((error as JournalCorruptError).message).toMatch(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is corrupt at byte 16`));
  });

  it('keeps disk use bounded: a full segment triggers a snapshot and older files go', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-store-'));
    const clock = new FakeClock();
    const { engine, store } = await session(dir, clock, { maxSegmentBytes: 2_000, snapshotIntervalMs: 50 });
    for (let round = 0; round < 5; round++) {
      await driveSomeTrading(engine, store, clock, `r${round}`);
      await new Promise((resolve) => setTimeout(resolve, 80));
    }
    await store.snapshot();
    const files = readdirSync(dir);
    expect(files.filter((f) => f.startsWith('snapshot-'))).toHaveLength(1);
    expect(segments(dir)).toHaveLength(1);
    const journalBytes = segments(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    expect(journalBytes).toBeLessThan(2_000);
    await store.close();
  });

  it('waits for a journal of snapshotJournalRatio times the last snapshot before a segment-size snapshot, as maintenance sees it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-store-'));
    const clock = new FakeClock();
    const { engine, store } = await session(dir, clock, { maxSegmentBytes: 500, snapshotJournalRatio: 2 });
    expect(store.journalBytesDue).toBe(500);
    await driveSomeTrading(engine, store, clock, 'a');
    await store.snapshot();
    const snapshots = () => readdirSync(dir).filter((f) => f.startsWith('snapshot-'));
    const [first] = snapshots();
    const snapshotBytes = statSync(join(dir, first!)).size;
    expect(snapshotBytes).toBeGreaterThan(500);
    expect(store.journalBytesDue).toBe(2 * snapshotBytes);
    const journalBytes = () => segments(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    // Past maxSegmentBytes, short of twice the snapshot: maintenance (every second) leaves it.
    let round = 0;
    while (journalBytes() <= 600) await driveSomeTrading(engine, store, clock, `b${round++}`);
    expect(journalBytes()).toBeLessThan(2 * snapshotBytes);
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    expect(snapshots()).toEqual([first]);
    while (journalBytes() < 2 * snapshotBytes) await driveSomeTrading(engine, store, clock, `c${round++}`);
    await vi.waitFor(() => expect(snapshots()).not.toEqual([first]), { timeout: 3_000, interval: 50 });
    // However large the state, a snapshot is due by MAX_SEGMENT_BYTES of journal (the writer cuts segments there too).
    (store as unknown as { lastSnapshotBytes: number }).lastSnapshotBytes = 2 ** 40;
    expect(store.journalBytesDue).toBe(MAX_SEGMENT_BYTES);
    await store.close();
  });

  it('counts the journal since the last snapshot across the segments the cap cut it into, as maintenance sees it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-store-'));
    const clock = new FakeClock();
    // Each write of the trading below is past the cap: a segment of its own.
    const { engine, store } = await session(dir, clock, { maxSegmentBytes: 8_000, snapshotJournalRatio: 0, segmentCapBytes: 1_000 });
    const snapshots = () => readdirSync(dir).filter((f) => f.startsWith('snapshot-'));
    const largestSegment = () => Math.max(...segments(dir).map((f) => statSync(join(dir, f)).size));
    let round = 0;
    while (segments(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0) < 9_000) await driveSomeTrading(engine, store, clock, `s${round++}`);
    expect(segments(dir).length).toBeGreaterThanOrEqual(2);
    expect(largestSegment()).toBeLessThan(8_000);
    await vi.waitFor(() => expect(snapshots()).toHaveLength(1), { timeout: 3_000, interval: 50 });
    await store.close();
  });

  it('counts the journal a restart replayed toward the next snapshot: a start after a long one snapshots with no new traffic', async () => {
    const { dir, clock, first } = await tradedStore();
    for (let round = 0; round < 2; round++) await driveSomeTrading(first.engine, first.store, clock, `r${round}`);
    const journal = segments(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    expect(journal).toBeGreaterThan(4_000);
    // No close(): killed before any snapshot. The next start's threshold is under what it replays.
    const second = await session(dir, clock, { maxSegmentBytes: 4_000 });
    expect(second.store.recovery.journalBytes).toBe(journal);
    expect(second.store.journalBytes).toBe(journal);
    await vi.waitFor(() => expect(readdirSync(dir).filter((f) => f.startsWith('snapshot-'))).toHaveLength(1), { timeout: 3_000, interval: 50 });
    expect(second.store.journalBytes).toBeLessThan(4_000);
    await second.store.close();
  });

  it('paces snapshots after a restart by the snapshot it started from', async () => {
    const { dir, clock, first } = await tradedStore();
    await first.store.snapshot();
    const [snapshot] = readdirSync(dir).filter((f) => f.startsWith('snapshot-'));
    const snapshotBytes = statSync(join(dir, snapshot!)).size;
    const second = await session(dir, clock, { maxSegmentBytes: 100, snapshotJournalRatio: 3 });
    expect(second.store.recovery.snapshotBytes).toBe(snapshotBytes);
    expect(second.store.journalBytesDue).toBe(3 * snapshotBytes);
    await second.store.close();
  });

  it('fails closed when the journal cannot keep up: unhealthy, and later changes wait for nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-store-'));
    const clock = new FakeClock();
    const { engine, store, log } = await session(dir, clock, { durability: 'async', asyncFlushMs: 1_000, maxPendingEvents: 3 });
    for (let i = 0; i < 5; i++) engine.checkOrder(order({ orderId: `f-${i}` }));
    expect(store.isHealthy).toBe(false);
    expect(log.errors).toHaveLength(1);
  });

  it('starts again after a clean shutdown, a restart, more trading and a crash (the final snapshot left a header-only segment)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-store-'));
    const clock = new FakeClock();
    const first = await session(dir, clock);
    await driveSomeTrading(first.engine, first.store, clock, 'a');
    await first.store.close();
    const second = await session(dir, clock);
    await driveSomeTrading(second.engine, second.store, clock, 'b');
    const expected = digest(second.engine);
    // No close(): killed.
    const third = await session(dir, clock);
    expect(digest(third.engine)).toBe(expected);
    expect(third.store.recovery.dropped).toEqual([]);
  });

  it('starts again after an idle snapshot, more trading and a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-store-'));
    const clock = new FakeClock();
    const first = await session(dir, clock);
    await first.store.snapshot(); // the interval timer on an idle service: nothing written since the rotation at open
    await driveSomeTrading(first.engine, first.store, clock, 'a');
    const expected = digest(first.engine);
    const second = await session(dir, clock);
    expect(digest(second.engine)).toBe(expected);
  });
});
