import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineConfig, EngineSnapshot, LimitEngine } from '../domain/engine.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { BreakerState } from './circuit-breaker.js';
import { fsyncDirectory } from './file-writes.js';
import { JournalCorruptError, MAX_SEGMENT_BYTES } from './journal-format.js';
import { JournalWriter, segmentName } from './journal-writer.js';
import type { Durability } from './journal-writer.js';
import { recover, SEGMENT, SNAPSHOT } from './recovery.js';
import type { RecoveryReport, StoreLog } from './recovery.js';
import { verifySnapshot, writeSnapshot } from './snapshot-file.js';
import { SnapshotReplica } from './snapshot-replica.js';

export type { RecoveryReport, StoreLog };

export interface StoreOptions {
  dataDir: string;
  durability: Durability;
  snapshotIntervalMs: number;
  /** This much journal since the last snapshot triggers one early, which lets old segments go... */
  maxSegmentBytes: number;
  /** ...once it is also this many times the last snapshot's size (absent: 0, maxSegmentBytes alone; the config's default is 1). */
  snapshotJournalRatio?: number;
  asyncFlushMs: number;
  /** Records buffered for the disk before the journal is declared failed (default 1,000,000). */
  maxPendingEvents?: number;
  /** The most a segment holds (default MAX_SEGMENT_BYTES; see JournalWriterOptions.segmentCapBytes): tests make it small. */
  segmentCapBytes?: number;
  /**
   * Snapshots taken by a replica on a worker thread (see snapshot-worker.ts), which starts from
   * the same engine config and seed book as the service's engine; without it, on the main thread.
   */
  snapshotWorker?: { engineConfig: EngineConfig; limits: readonly unknown[]; script?: URL; timeoutMs?: number };
  /**
   * How long the journal's circuit breaker stays open after a failure before it tries to make
   * the durable state whole again (see recoverJournal); without it, a failed journal stays
   * failed until the process restarts.
   */
  recoveryIntervalMs?: number;
  /**
   * A new engine as the service starts one (same config, seed book and clock): with fsync
   * durability, recovery rebuilds the state from disk in it. Required for fsync recovery.
   */
  freshEngine?: () => LimitEngine;
}

const MAINTENANCE_MS = 1_000;
const MAX_REPLICA_RESTARTS = 3;

/**
 * The embedded default's durability: recovery at start (latest snapshot, then the journal
 * after it), a journal of every state change while running, and snapshots on a timer and at
 * shutdown after which covered segments and older snapshots are deleted, so disk use is
 * bounded by one snapshot plus about max(`maxSegmentBytes`, `snapshotJournalRatio` snapshots) of journal.
 */
export class DurableStore {
  private readonly timer: NodeJS.Timeout;
  private lastSnapshotAt = Date.now();
  /** The seq of the newest snapshot known whole (read back), if any. */
  private lastSnapshotSeq: number | undefined;
  /** Its size in bytes: the one recovery started from, then each this process writes (0 without one). */
  private lastSnapshotBytes: number;
  /**
   * The journal recovery replayed, which no snapshot covers yet: counted toward the next
   * size-triggered snapshot until one is taken, so that a service restarted before its timer's
   * first snapshot (again and again, say) does not pile up journal for every start to replay.
   */
  private replayedBytes: number;
  private snapshotting: Promise<void> | undefined;
  private isClosing = false;
  private replicaRestarts = 0;
  /** Whether a journal recovery starts a new snapshot worker (see recoverJournal). */
  private wantsReplica = false;
  /** A working snapshot worker was stopped for a journal outage, and the recovery has not yet started its successor. */
  private isReplicaPaused = false;
  private readonly breaker: CircuitBreaker | undefined;

  private constructor(
    private readonly options: StoreOptions,
    private readonly engine: LimitEngine,
    private readonly writer: JournalWriter,
    private readonly log: StoreLog,
    readonly recovery: RecoveryReport,
    /** The writer feeds whatever replica this holds; a new one replaces one that was let go. */
    private readonly replicas: { current: SnapshotReplica | undefined },
    /** Told of every journal failure (the writer is made before the store). */
    failures: { listener: (error: Error) => void },
  ) {
    if (options.recoveryIntervalMs !== undefined) {
      const breaker = new CircuitBreaker({ dependency: 'journal', retryAfterMs: options.recoveryIntervalMs, recover: () => this.recoverJournal(), log });
      this.breaker = breaker;
      failures.listener = (error) => breaker.trip(error);
    }
    this.lastSnapshotSeq = recovery.snapshotSeq;
    this.lastSnapshotBytes = recovery.snapshotBytes;
    this.replayedBytes = recovery.journalBytes;
    this.timer = setInterval(() => this.maintain(), Math.min(MAINTENANCE_MS, options.snapshotIntervalMs));
    this.timer.unref();
  }

  /** Recovers the engine from `dataDir`, then journals every later change. */
  static async open(options: StoreOptions, engine: LimitEngine, log: StoreLog): Promise<DurableStore> {
    await mkdir(options.dataDir, { recursive: true });
    const recovery = await recover(options.dataDir, engine, log, { readOnly: false });
    // Started once recovery has mended the directory: the worker reads it as it now stands.
    const replicas = { current: startReplica(options, log) };
    const failures = { listener: (_error: Error): void => undefined };
    const writer = new JournalWriter(
      {
        dir: options.dataDir,
        durability: options.durability,
        asyncFlushMs: options.asyncFlushMs,
        asyncSyncMs: 1_000,
        maxPendingEvents: options.maxPendingEvents ?? 1_000_000,
        ...(options.segmentCapBytes === undefined ? {} : { segmentCapBytes: options.segmentCapBytes }),
        ...(options.snapshotWorker === undefined ? {} : { onWritten: (bytes: Buffer) => replicas.current?.feed(bytes) }),
      },
      recovery.lastSeq,
      (error) => {
        log.error({ err: error }, options.recoveryIntervalMs === undefined ? 'journal failed: state changes are refused until restart' : 'journal failed');
        failures.listener(error);
      },
    );
    try {
      await writer.rotate();
    } catch (error) {
      await replicas.current?.close();
      throw error;
    }
    engine.recordEventsTo((event) => writer.append(event));
    // An atomic batch the service stopped in the middle of was never answered: all of it goes (journalled).
    engine.abandonOpenBatches();
    log.info({ ...recovery, dropped: recovery.dropped.length }, 'state recovered');
    warnIfReplacing(engine, log, 'recovered');
    return new DurableStore(options, engine, writer, log, recovery, replicas, failures);
  }

  /** Whether state changes can be journalled: the journal works and its breaker is closed. */
  get isHealthy(): boolean {
    return this.writer.isHealthy && (this.breaker?.isClosed ?? true);
  }

  /** The journal's circuit breaker: closed while it works, else open or half-open (recovering). */
  get breakerState(): BreakerState {
    return this.breaker?.state ?? (this.writer.isHealthy ? 'closed' : 'open');
  }

  /** Times the journal failed since the start: two outages with a recovery between them are told apart by it. */
  get outages(): number {
    return this.breaker?.opened ?? (this.writer.isHealthy ? 0 : 1);
  }

  /** See JournalWriter.settled: what a state-changing request awaits before it answers. */
  settled(throughSeq?: number): Promise<void> | undefined {
    return this.writer.settled(throughSeq);
  }

  /** The last record's sequence number: a request takes it right after its change, for settled(). */
  get lastSeq(): number {
    return this.writer.lastSeq;
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
    this.isClosing = true;
    clearInterval(this.timer);
    // A recovery attempt under way ends first (it may still be writing its snapshot); a journal
    // still failed gets one last attempt, or the changes acknowledged since its failure
    // (async durability) would be lost with the process.
    await this.breaker?.stop(true);
    this.engine.recordEventsTo(undefined);
    try {
      // A failed journal takes no final snapshot, but one already under way finishes before the writer closes.
      if (this.isHealthy) await this.snapshot();
      else await this.snapshotting?.catch(() => undefined);
    } finally {
      try {
        await this.writer.close();
      } finally {
        await this.replicas.current?.close();
      }
    }
  }

  /** Whether snapshots are taken off the main thread right now. */
  get snapshotsOffThread(): boolean {
    return this.replicas.current?.isHealthy === true;
  }

  /**
   * Whether the snapshot worker works, as ops are told (ulc_dependency_up): a working one paused
   * for a journal outage counts, since nothing is wrong with it and the recovery starts its
   * successor; the journal's own gauges tell of the outage. One that failed, or whose successor
   * could not start, does not.
   */
  get isSnapshotWorkerUp(): boolean {
    return this.snapshotsOffThread || this.isReplicaPaused;
  }

  private maintain(): void {
    const isDue = Date.now() - this.lastSnapshotAt >= this.options.snapshotIntervalMs || this.journalBytes >= this.journalBytesDue;
    if (!isDue || !this.isHealthy) return;
    this.snapshot().catch((error: unknown) => this.log.error({ err: error }, 'snapshot failed'));
  }

  /** The journal no snapshot covers yet: written since the last rotation, plus what recovery replayed until a snapshot is taken. */
  get journalBytes(): number {
    return this.replayedBytes + this.writer.bytesSinceRotate;
  }

  /** The journalBytes that make the next snapshot due (see StoreOptions.snapshotJournalRatio), at most MAX_SEGMENT_BYTES. */
  get journalBytesDue(): number {
    return Math.min(MAX_SEGMENT_BYTES, Math.max(this.options.maxSegmentBytes, (this.options.snapshotJournalRatio ?? 0) * this.lastSnapshotBytes));
  }

  private async takeSnapshot(): Promise<void> {
    const seq = this.writer.lastSeq;
    // Nothing changed since the last one (an idle service, or a shutdown right after one): it
    // stands. Writing the same seq again would replace the one snapshot there is, with nothing
    // else left to start from if the new file then turned out bad.
    if (seq === this.lastSnapshotSeq) {
      this.lastSnapshotAt = Date.now();
      return;
    }
    const replica = this.replicas.current?.isHealthy === true ? this.replicas.current : undefined;
    // Without the worker, captured synchronously, so it holds exactly the events up to lastSeq.
    const state = replica === undefined ? this.engine.captureState() : undefined;
    this.lastSnapshotAt = Date.now();
    this.replayedBytes = 0;
    // Rotating writes every record up to seq, which also hands them to the worker before the request below.
    await this.writer.rotate();
    const name = state !== undefined ? await writeSnapshot(this.options.dataDir, seq, state) : await this.snapshotByReplica(replica!, seq);
    this.lastSnapshotBytes = await this.checkWhole(name);
    this.lastSnapshotSeq = seq;
    await this.deleteCovered(name, seq);
    this.restartReplicaIfLetGo();
  }

  /**
   * The journal breaker's half-open attempt: makes the durable state whole again, then the
   * journal goes on in a new segment. The journal failed with records it had been given and
   * never wrote (cut back off the segment, or dropped while it was failed), so the disk no longer
   * holds what the engine does; the engine's state is written as a snapshot numbered past every
   * record, which covers (and deletes) everything before it, and the journal starts after it.
   *
   * What that state is depends on what requests were told. With async durability every change
   * was answered before its write: the engine's state stands, acknowledged changes included.
   * With fsync durability a change is answered once on disk, and the requests whose records the
   * failed write held were told it failed: the engine goes back to what the disk holds (a
   * restart's state, rebuilt in a fresh engine; reference prices are kept), so none of them
   * comes back. Checks and changes are refused throughout (the breaker is not closed), and the
   * state is captured in the same synchronous step that renumbers the journal, so nothing falls
   * between the snapshot and the records after it.
   */
  private async recoverJournal(): Promise<void> {
    // A snapshot under way when the journal failed ends first: it writes and deletes files too.
    await this.snapshotting?.catch(() => undefined);
    // Its replica holds only what was written: it goes, and a new one starts from the new snapshot.
    const replica = this.replicas.current;
    if (replica !== undefined) {
      // Replaced once the journal recovers, as a restart would (restartReplicaIfLetGo): a worker
      // that hung never is. Decided at the outage's first attempt, for all of them.
      this.wantsReplica = replica.isHealthy || (!replica.isUnresponsive && this.replicaRestarts++ < MAX_REPLICA_RESTARTS);
      this.isReplicaPaused = replica.isHealthy;
      this.replicas.current = undefined;
      await replica.close();
    }
    const onDisk = this.options.durability === 'fsync' ? await this.durableState() : undefined;
    if (onDisk !== undefined) {
      this.engine.rewindTo(onDisk);
      warnIfReplacing(this.engine, this.log, 'rewound to what the disk holds');
    }
    const seq = this.writer.lastSeq + 1;
    const state = this.engine.captureState();
    this.replayedBytes = 0;
    await this.writer.restart(seq, async () => {
      const name = await writeSnapshot(this.options.dataDir, seq, state);
      this.lastSnapshotBytes = await this.checkWhole(name);
      this.lastSnapshotSeq = seq;
      this.lastSnapshotAt = Date.now();
      await this.deleteCovered(name, seq);
      // Synced, so a power cut cannot bring back the failed segment (perhaps with a torn tail) beside the next one.
      await fsyncDirectory(this.options.dataDir);
      // Before the new segment exists, so it is fed every record written there.
      if (!this.isClosing && this.wantsReplica) this.replicas.current = this.startReplicaOrNot();
      this.isReplicaPaused = false;
    });
  }

  /** A new snapshot worker, or none if it cannot start: snapshots are then taken here, and the journal goes on. */
  private startReplicaOrNot(): SnapshotReplica | undefined {
    try {
      return startReplica(this.options, this.log);
    } catch (error) {
      this.log.error({ err: error }, 'snapshot worker could not start: snapshots are taken on the main thread');
      return undefined;
    }
  }

  /** What the data directory holds, rebuilt in a fresh engine, once nothing is being written to it. */
  private async durableState(): Promise<EngineSnapshot> {
    const fresh = this.options.freshEngine?.();
    if (fresh === undefined) throw new Error('journal: recovery with fsync durability needs a fresh engine to rebuild the state from disk');
    await this.writer.idle();
    // Only what requests were told is durable: a failed write whose cut-back failed too may have
    // left whole records behind it, and their requests were told they failed.
    await recover(this.options.dataDir, fresh, this.log, { readOnly: true, throughSeq: this.writer.durableThrough });
    return fresh.captureState();
  }

  /** Journal segments before `seq + 1` and snapshots older than `name`: what the snapshot `name` covers. */
  private async deleteCovered(name: string, seq: number): Promise<void> {
    const files = await readdir(this.options.dataDir);
    const current = segmentName(seq + 1);
    for (const file of files) {
      const isCovered = (SEGMENT.test(file) && file < current) || (SNAPSHOT.test(file) && file < name);
      if (isCovered) await rm(join(this.options.dataDir, file), { force: true });
    }
  }

  /**
   * Nothing the snapshot replaces goes until it reads back whole, whoever wrote it (this thread
   * or the worker): a write cut short but reported done would otherwise take the journal that
   * can rebuild the state with it, and the next start would refuse the snapshot. Every byte's
   * CRC, not only the size, so bytes written in the wrong place are caught too; not readSnapshot,
   * whose parse would hold the event loop for about a second at a million positions (see
   * verifySnapshot). writeSnapshot read its file back before naming it, but what the deletion
   * relies on is the file under that name now, which this thread did not write if the worker did.
   * One found not whole goes instead: the next start would refuse it, and the older snapshot
   * and the journal still hold all it held. One that could not be read (EIO, EMFILE) stays: it
   * may be whole, and nothing it covers is deleted either way.
   */
  /** Reads the snapshot back as recovery will, and answers its size. */
  private async checkWhole(name: string): Promise<number> {
    try {
      return await verifySnapshot(this.options.dataDir, name);
    } catch (error) {
      if (error instanceof JournalCorruptError) await rm(join(this.options.dataDir, name), { force: true });
      throw error;
    }
  }

  /**
   * A worker that was let go for dying or falling behind is replaced once the main thread has
   * taken its snapshot: the new one recovers from that snapshot and is fed from then on, so one
   * bad moment does not put every later snapshot back on the event loop. Not a hung one (each
   * snapshot would wait out the timeout again), and not more than MAX_REPLICA_RESTARTS times.
   */
  private restartReplicaIfLetGo(): void {
    const current = this.replicas.current;
    if (this.isClosing || current === undefined || current.isHealthy || current.isUnresponsive) return;
    if (this.replicaRestarts >= MAX_REPLICA_RESTARTS) return;
    this.replicaRestarts++;
    this.replicas.current = startReplica(this.options, this.log);
    if (this.replicas.current !== undefined) this.log.info({ restarts: this.replicaRestarts }, 'snapshot worker restarted');
  }

  /** The worker's snapshot; if it fails, one taken here instead (of a later state, which covers seq too). */
  private async snapshotByReplica(replica: SnapshotReplica, seq: number): Promise<string> {
    try {
      return (await replica.snapshot(seq)).name;
    } catch (error) {
      // A worker let go has said why already; one that answered with a failure has not.
      if (replica.isHealthy) this.log.error({ err: error }, 'snapshot worker could not take the snapshot: taking it on the main thread');
      // Stopped first, so it cannot still be writing a snapshot of its own beside this one.
      await replica.stopped();
      // The state now may hold changes not yet written: they are written (and synced) before the
      // snapshot that holds them is; a journal that has failed or fails meanwhile rejects the drain.
      const lastSeq = this.writer.lastSeq;
      const state = this.engine.captureState();
      await this.writer.drain();
      return writeSnapshot(this.options.dataDir, lastSeq, state);
    }
  }
}


/** The snapshot worker, if configured; it may hold back as much journal as maxSegmentBytes (which triggers a snapshot anyway). */
function startReplica(options: StoreOptions, log: StoreLog): SnapshotReplica | undefined {
  const worker = options.snapshotWorker;
  if (worker === undefined) return undefined;
  return SnapshotReplica.start(
    { dataDir: options.dataDir, engineConfig: worker.engineConfig, limits: worker.limits },
    log,
    { maxBacklogBytes: options.maxSegmentBytes, ...(worker.timeoutMs === undefined ? {} : { timeoutMs: worker.timeoutMs }) },
    worker.script,
  );
}

/** A positions replace the journal or a stop left half applied rejects every check until a replace ends it: say so. */
function warnIfReplacing(engine: LimitEngine, log: StoreLog, how: string): void {
  if (engine.isReplacingPositions) log.warn({ state: how }, 'a positions replace is half applied: checks are rejected POSITIONS_REPLACING until a replace is sent again whole');
}
