import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { StateEvent } from '../domain/events.js';
import { encodeHeader, encodeRecord } from './journal-format.js';

export type Durability = 'fsync' | 'async';

export interface JournalWriterOptions {
  dir: string;
  durability: Durability;
  /** async: how often buffered records are written to the OS (the window a crash can lose). */
  asyncFlushMs: number;
  /** async: how often written records are also fsync'ed (the window a power cut can lose). */
  asyncSyncMs: number;
  /** Records waiting for the disk before the journal declares itself failed. */
  maxPendingEvents: number;
}

export const segmentName = (firstSeq: number): string => `journal-${String(firstSeq).padStart(16, '0')}.log`;

interface Pending {
  seq: number;
  event: StateEvent;
}

/**
 * Appends state events to the current journal segment. `append` only buffers (it is called
 * from the engine's hot path); serialising and writing happen in a flush, one write (and, for
 * fsync, one fsync) for everything buffered since the last: group commit.
 */
export class JournalWriter {
  private segment: FileHandle | undefined;
  private pending: Pending[] = [];
  private waiters: (() => void)[] = [];
  private failures: ((error: Error) => void)[] = [];
  private queue: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly syncTimer: NodeJS.Timeout | undefined;
  private isFlushScheduled = false;
  /** Flushes written but not yet finished; while one runs, new records wait and go together. */
  private flushesInFlight = 0;
  private isFlushDeferred = false;
  /** Writes done (each one fsync with fsync durability): what group commit keeps low. */
  writes = 0;
  private failure: Error | undefined;
  private bytesInSegment = 0;
  lastSeq: number;

  constructor(
    private readonly options: JournalWriterOptions,
    lastSeq: number,
    private readonly onFailure: (error: Error) => void,
  ) {
    this.lastSeq = lastSeq;
    if (options.durability === 'async') {
      this.syncTimer = setInterval(() => {
        this.enqueue(() => this.segment?.sync()).catch(() => undefined);
      }, options.asyncSyncMs);
      this.syncTimer.unref();
    }
  }

  get isHealthy(): boolean {
    return this.failure === undefined;
  }

  get segmentBytes(): number {
    return this.bytesInSegment;
  }

  /** Starts a new segment for records after `lastSeq`; earlier records finish in the old one. */
  rotate(): Promise<void> {
    const firstSeq = this.lastSeq + 1;
    this.flushNow(true);
    return this.enqueue(async () => {
      const previous = this.segment;
      const segment = await open(join(this.options.dir, segmentName(firstSeq)), 'a');
      await segment.write(encodeHeader(firstSeq));
      await segment.sync();
      this.segment = segment;
      this.bytesInSegment = 0;
      if (previous !== undefined) {
        await previous.sync();
        await previous.close();
      }
    });
  }

  append(event: StateEvent): void {
    if (this.failure !== undefined) return;
    this.pending.push({ seq: ++this.lastSeq, event });
    if (this.pending.length > this.options.maxPendingEvents) {
      this.fail(new Error(`journal: ${this.pending.length} records waiting for the disk (max ${this.options.maxPendingEvents})`));
      return;
    }
    this.schedule();
  }

  /**
   * With fsync durability: a promise for everything appended so far being on disk, or
   * undefined when nothing waits (async durability, or nothing new). Rejects if the write fails.
   */
  settled(): Promise<void> | undefined {
    if (this.options.durability !== 'fsync') return undefined;
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.pending.length === 0 && !this.isFlushScheduled && !this.isFlushDeferred) return undefined;
    return new Promise<void>((resolve, reject) => {
      this.waiters.push(resolve);
      this.failures.push(reject);
    });
  }

  /** Writes and fsyncs everything buffered, then closes the segment. */
  async close(): Promise<void> {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    if (this.syncTimer !== undefined) clearInterval(this.syncTimer);
    this.flushNow(true);
    await this.enqueue(async () => {
      await this.segment?.sync();
      await this.segment?.close();
      this.segment = undefined;
    });
  }

  /** Resolves once every record appended so far is written (and synced). */
  async drain(): Promise<void> {
    this.flushNow(true);
    await this.enqueue(() => this.segment?.sync());
  }

  private schedule(): void {
    if (this.isFlushScheduled) return;
    this.isFlushScheduled = true;
    if (this.options.durability === 'fsync') {
      // Everything appended in this turn of the event loop (and in the ~1 ms it takes to get
      // here) shares one write and one fsync.
      setImmediate(() => this.flushNow());
    } else {
      this.flushTimer = setTimeout(() => this.flushNow(), this.options.asyncFlushMs);
      this.flushTimer.unref();
    }
  }

  /**
   * Group commit: while a write (and fsync) is in flight, records appended meanwhile wait and
   * then share the next one, so the disk sees one fsync per round trip, not one per request.
   * `force` (rotate, drain, close) queues a flush at once, behind any in flight.
   */
  private flushNow(force = false): void {
    this.isFlushScheduled = false;
    if (this.flushesInFlight > 0 && !force) {
      this.isFlushDeferred = true;
      return;
    }
    if (this.pending.length === 0 && this.waiters.length === 0) return;
    const batch = this.pending;
    const waiters = this.waiters;
    const failures = this.failures;
    this.pending = [];
    this.waiters = [];
    this.failures = [];
    const shouldSync = this.options.durability === 'fsync';
    this.flushesInFlight++;
    this.enqueue(async () => {
      if (batch.length > 0) {
        const bytes = Buffer.concat(batch.map((p) => encodeRecord(JSON.stringify({ s: p.seq, e: p.event }))));
        if (this.segment === undefined) throw new Error('journal: no open segment');
        await this.segment.write(bytes);
        this.writes++;
        this.bytesInSegment += bytes.length;
        if (shouldSync) await this.segment.sync();
      }
      for (const resolve of waiters) resolve();
    })
      .catch((error: unknown) => {
        for (const reject of failures) reject(error as Error);
      })
      .finally(() => {
        this.flushesInFlight--;
        if (this.flushesInFlight === 0 && this.isFlushDeferred) {
          this.isFlushDeferred = false;
          this.flushNow();
        }
      });
  }

  private enqueue(operation: () => Promise<unknown> | undefined): Promise<void> {
    const next = this.queue.then(async () => {
      if (this.failure !== undefined) throw this.failure;
      try {
        await operation();
      } catch (error) {
        this.fail(error as Error);
        throw error;
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.pending = [];
    for (const reject of this.failures) reject(error);
    this.waiters = [];
    this.failures = [];
    this.onFailure(error);
  }
}
