import { mkdir, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { LimitEngine } from '../domain/engine.js';
import { StateEventSchema } from '../domain/events.js';
import { decodeSegment, HEADER_BYTES, JournalCorruptError } from './journal-format.js';
import { JournalWriter, segmentName } from './journal-writer.js';
import type { Durability } from './journal-writer.js';
import { readSnapshot, writeSnapshot } from './snapshot-file.js';

export interface StoreOptions {
  dataDir: string;
  durability: Durability;
  snapshotIntervalMs: number;
  /** A segment this large triggers a snapshot early, which lets old segments go. */
  maxSegmentBytes: number;
  asyncFlushMs: number;
  /** Records buffered for the disk before the journal is declared failed (default 1,000,000). */
  maxPendingEvents?: number;
}

export interface StoreLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface RecoveryReport {
  snapshotSeq: number | undefined;
  replayed: number;
  lastSeq: number;
  /** Torn last records that were dropped: a write cut short by a crash. */
  dropped: { file: string; offset: number }[];
}

const SEGMENT = /^journal-\d{16}\.log$/;
const SNAPSHOT = /^snapshot-\d{16}\.json$/;
const MAINTENANCE_MS = 1_000;

/**
 * The embedded default's durability: recovery at start (latest snapshot, then the journal
 * after it), a journal of every state change while running, and snapshots on a timer and at
 * shutdown after which covered segments and older snapshots are deleted, so disk use is
 * bounded by one snapshot plus about `maxSegmentBytes` of journal.
 */
export class DurableStore {
  private readonly timer: NodeJS.Timeout;
  private lastSnapshotAt = Date.now();
  private snapshotting: Promise<void> | undefined;

  private constructor(
    private readonly options: StoreOptions,
    private readonly engine: LimitEngine,
    private readonly writer: JournalWriter,
    private readonly log: StoreLog,
    readonly recovery: RecoveryReport,
  ) {
    this.timer = setInterval(() => this.maintain(), Math.min(MAINTENANCE_MS, options.snapshotIntervalMs));
    this.timer.unref();
  }

  /** Recovers the engine from `dataDir`, then journals every later change. */
  static async open(options: StoreOptions, engine: LimitEngine, log: StoreLog): Promise<DurableStore> {
    await mkdir(options.dataDir, { recursive: true });
    const recovery = await recover(options.dataDir, engine, log);
    const writer = new JournalWriter(
      { dir: options.dataDir, durability: options.durability, asyncFlushMs: options.asyncFlushMs, asyncSyncMs: 1_000, maxPendingEvents: options.maxPendingEvents ?? 1_000_000 },
      recovery.lastSeq,
      (error) => log.error({ err: error }, 'journal failed: state changes are refused until restart'),
    );
    await writer.rotate();
    engine.recordEventsTo((event) => writer.append(event));
    log.info({ ...recovery, dropped: recovery.dropped.length }, 'state recovered');
    return new DurableStore(options, engine, writer, log, recovery);
  }

  get isHealthy(): boolean {
    return this.writer.isHealthy;
  }

  /** See JournalWriter.settled: what a state-changing request awaits before it answers. */
  settled(): Promise<void> | undefined {
    return this.writer.settled();
  }

  /** Takes a snapshot now (one at a time); afterwards the journal it covers is deleted. */
  snapshot(): Promise<void> {
    this.snapshotting ??= this.takeSnapshot().finally(() => {
      this.snapshotting = undefined;
    });
    return this.snapshotting;
  }

  /** Final snapshot, then the journal is flushed and closed. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.engine.recordEventsTo(undefined);
    if (this.writer.isHealthy) await this.snapshot();
    await this.writer.close();
  }

  private maintain(): void {
    const isDue = Date.now() - this.lastSnapshotAt >= this.options.snapshotIntervalMs || this.writer.segmentBytes >= this.options.maxSegmentBytes;
    if (!isDue || !this.writer.isHealthy) return;
    this.snapshot().catch((error: unknown) => this.log.error({ err: error }, 'snapshot failed'));
  }

  private async takeSnapshot(): Promise<void> {
    // Captured synchronously, so it holds exactly the events up to lastSeq.
    const seq = this.writer.lastSeq;
    const state = this.engine.captureState();
    this.lastSnapshotAt = Date.now();
    await this.writer.rotate();
    const name = await writeSnapshot(this.options.dataDir, seq, state);
    const files = await readdir(this.options.dataDir);
    const current = segmentName(seq + 1);
    for (const file of files) {
      const isCovered = (SEGMENT.test(file) && file < current) || (SNAPSHOT.test(file) && file < name);
      if (isCovered) await rm(join(this.options.dataDir, file), { force: true });
    }
  }
}

async function recover(dir: string, engine: LimitEngine, log: StoreLog): Promise<RecoveryReport> {
  const files = (await readdir(dir)).sort();
  for (const file of files) if (file.endsWith('.tmp')) await rm(join(dir, file), { force: true });
  const snapshots = files.filter((f) => SNAPSHOT.test(f));
  const segments = files.filter((f) => SEGMENT.test(f));
  let seq = 0;
  let snapshotSeq: number | undefined;
  const newest = snapshots.at(-1);
  if (newest !== undefined) {
    const snapshot = await readSnapshot(dir, newest);
    engine.restoreState(snapshot.state);
    seq = snapshotSeq = snapshot.seq;
  }
  let replayed = 0;
  const dropped: RecoveryReport['dropped'] = [];
  for (const [index, file] of segments.entries()) {
    const path = join(dir, file);
    const decoded = decodeSegment(path, await readFile(path));
    for (const { offset, payload } of decoded.records) {
      const record = parseRecord(path, offset, payload);
      if (record.s <= seq) continue;
      if (record.s !== seq + 1) throw new JournalCorruptError(path, offset, `record ${record.s} follows ${seq}: records are missing`);
      engine.replay(record.e);
      seq = record.s;
      replayed++;
    }
    if (decoded.tornAt !== undefined) {
      if (index !== segments.length - 1) throw new JournalCorruptError(path, decoded.tornAt, 'incomplete record before the last segment');
      log.warn({ file: path, offset: decoded.tornAt }, 'dropping a torn last journal record (a write cut short by a crash)');
      // A segment cut short inside its header holds nothing: it goes, so it cannot sit mid-journal later.
      if (decoded.tornAt < HEADER_BYTES) await rm(path, { force: true });
      else await truncate(path, decoded.tornAt);
      dropped.push({ file: path, offset: decoded.tornAt });
    }
  }
  return { snapshotSeq, replayed, lastSeq: seq, dropped };
}

function parseRecord(path: string, offset: number, payload: string) {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    throw new JournalCorruptError(path, offset, 'record is not JSON');
  }
  const record = json as { s?: unknown; e?: unknown };
  const event = StateEventSchema.safeParse(record.e);
  if (typeof record.s !== 'number' || !event.success) throw new JournalCorruptError(path, offset, 'record is not a state event');
  return { s: record.s, e: event.data };
}
