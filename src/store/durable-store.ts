import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LimitEngine } from '../domain/engine.js';
import { JournalWriter, segmentName } from './journal-writer.js';
import type { Durability } from './journal-writer.js';
import { recover, SEGMENT, SNAPSHOT } from './recovery.js';
import type { RecoveryReport, StoreLog } from './recovery.js';
import { writeSnapshot } from './snapshot-file.js';

export type { RecoveryReport, StoreLog };

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
    const recovery = await recover(options.dataDir, engine, log, { readOnly: false });
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
