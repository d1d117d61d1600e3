import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { StateEvent } from '../domain/events.js';
import { fsyncDirectory, writeFully } from './file-writes.js';
import { decodeSegment, encodeHeader, frameRecord, HEADER_BYTES, JournalCorruptError, MAX_RECORD_BYTES, MAX_SEGMENT_BYTES, RECORD_HEADER_BYTES, sealRecord, splitAtRecords } from './journal-format.js';
import type { RecordRun } from './journal-format.js';
import { encodeRecordPayload, orderAcceptedBound, OrderAcceptedWriter } from './record-encoding.js';
import type { OrderAccepted } from './record-encoding.js';

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
  /** Told of every write once it succeeded: whole records, in journal order (the snapshot worker's feed). */
  onWritten?: (bytes: Buffer) => void;
  /**
   * A write that would take the open segment's records past this many bytes goes to a new
   * segment first (default MAX_SEGMENT_BYTES; the file is its 16-byte header larger): recovery
   * reads a segment whole, and Node reads no file over 2 GiB. Snapshots rotate long before,
   * unless they keep failing or fall far behind. A flush larger than the cap is cut into writes
   * at record boundaries; only a record larger than the cap (MAX_RECORD_BYTES is far below the
   * default) would make a segment pass it.
   */
  segmentCapBytes?: number;
}

export const segmentName = (firstSeq: number): string => `journal-${String(firstSeq).padStart(16, '0')}.log`;

/**
 * What settled() rejects with: records after `durableThrough` are not on disk and never will
 * be (with fsync durability they are rolled back by the journal's recovery), records up to it are.
 */
export class NotDurableError extends Error {
  constructor(
    failure: Error,
    readonly durableThrough: number,
  ) {
    super(failure.message, { cause: failure });
    this.name = 'NotDurableError';
  }
}

/** Restarts whose given-up records are remembered for settled(): a request spans a few at most. */
const LOST_RANGES_KEPT = 64;

/** Bytes of the buffers records are encoded into; a larger record gets a buffer of its own size. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Appends state events to the current journal segment. `append` (called from the engine's
 * hot path) encodes the record straight into a buffer, so nothing of the event (an order is
 * the request body) is kept until the flush; a flush writes everything encoded since the
 * last in one write (and, for fsync, one fsync): group commit.
 */
export class JournalWriter {
  private segment: FileHandle | undefined;
  /** The sequence number the open segment's header names. */
  private segmentFirstSeq = 0;
  /** Records encoded and not yet handed to a flush: filled chunks' tails, then chunk[start, used). */
  private filled: Buffer[] = [];
  private chunk: Buffer = Buffer.alloc(0);
  private start = 0;
  private used = 0;
  private readonly orderAccepted = new OrderAcceptedWriter();
  private pendingRecords = 0;
  /** Records up to this one are written (and, with fsync durability, synced). */
  private durableSeq: number;
  /** settled() callers, in the order of the record each waits for. */
  private waiters: { seq: number; resolve: () => void; reject: (error: Error) => void }[] = [];
  /**
   * Records each restart gave up, (after, through]: never written, so a request that asks about
   * one after the restart (it yielded between its change and its answer) is told it failed.
   */
  private readonly lost: { after: number; through: number; failure: Error }[] = [];
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
  /** Restarts so far: an operation queued before the latest one never runs (it was for the failed journal). */
  private restarts = 0;
  private bytesInSegment = 0;
  /** See bytesSinceRotate. */
  private sinceRotate = 0;
  lastSeq: number;

  constructor(
    private readonly options: JournalWriterOptions,
    lastSeq: number,
    private readonly onFailure: (error: Error) => void,
  ) {
    this.lastSeq = this.durableSeq = lastSeq;
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

  /** The last record acknowledged as written (and synced, with fsync durability). */
  get durableThrough(): number {
    return this.durableSeq;
  }

  /**
   * Starts a failed journal again. Records up to `seq` are given up: `persist` is to write a
   * snapshot of the state they made (the caller captures it in the same synchronous step as
   * this call, so it holds exactly what the journal had been given, and `seq` is past every
   * number already used) and delete every file it covers. Once it has, a new segment starts at
   * `seq + 1`. Records appended from this call on are numbered after `seq` and kept meanwhile,
   * then written to the new segment; if anything fails (persist, the new segment, a backlog)
   * the journal fails again, as it would at any other time, and the promise rejects.
   */
  restart(seq: number, persist: () => Promise<void>): Promise<void> {
    if (this.failure === undefined) return Promise.reject(new Error('journal: only a failed journal is restarted'));
    if (seq <= this.lastSeq) return Promise.reject(new Error(`journal: restart at ${seq}, records up to ${this.lastSeq} are numbered`));
    this.takeEncoded();
    this.rejectWaiters();
    // What was appended and never written; `seq` itself numbers no record (the snapshot's). An
    // attempt after a failed one gives up nothing more: only ranges that hold records are kept.
    if (this.lastSeq > this.durableSeq) this.lost.push({ after: this.durableSeq, through: this.lastSeq, failure: this.failure });
    if (this.lost.length > LOST_RANGES_KEPT) this.lost.shift();
    this.lastSeq = this.durableSeq = seq;
    this.failure = undefined;
    this.restarts++;
    // Behind whatever the failed journal still had queued (each of which ends at once: see
    // enqueue), so nothing else touches the old segment while it is let go. Flushes of the records appended
    // meanwhile queue behind this, so they go to the new segment once it is open.
    const attempt = this.queue.then(async () => {
      try {
        const previous = this.segment;
        this.segment = undefined;
        // Its bytes are given up (the snapshot holds their effect): an error closing it is not news.
        await previous?.close().catch(() => undefined);
        await persist();
        if (this.failure !== undefined) throw this.failure;
        this.segment = await this.openSegment(seq + 1);
        this.segmentFirstSeq = seq + 1;
        this.sinceRotate = this.bytesInSegment;
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
        throw this.failure ?? error;
      }
    });
    this.queue = attempt.catch(() => undefined);
    return attempt;
  }

  /**
   * Journal bytes written since the last rotation or restart, across the segments the cap cut it
   * into: a snapshot rotates as it starts, so this is the journal written since the last snapshot
   * began (the journal a start-up replayed is not counted, as it never was).
   */
  get bytesSinceRotate(): number {
    return this.sinceRotate;
  }

  /** Starts a new segment for records after `lastSeq`; earlier records finish in the old one. */
  rotate(): Promise<void> {
    const firstSeq = this.lastSeq + 1;
    this.flushNow(true);
    return this.enqueue(async () => {
      // Nothing was written since the open segment was started (an idle or a final snapshot): it stays.
      if (this.segment === undefined || this.segmentFirstSeq !== firstSeq) await this.startSegment(firstSeq);
      this.sinceRotate = this.bytesInSegment;
    });
  }

  /**
   * Closes the open segment and opens the one for records from `firstSeq` on. The previous
   * segment's tail is synced before the next segment exists: a crash in between must not leave
   * later records in a new segment behind an old one missing its last ones.
   */
  private async startSegment(firstSeq: number): Promise<void> {
    const previous = this.segment;
    if (previous !== undefined) {
      await previous.sync();
      this.segment = undefined;
      await previous.close();
    }
    this.segment = await this.openSegment(firstSeq);
    this.segmentFirstSeq = firstSeq;
  }

  /**
   * Opens the segment for records from `firstSeq` on. It may exist: a restart after a clean
   * shutdown or an idle snapshot finds the one the last rotation started, which recovery has
   * left as its header and whole records (a torn tail cut off, a segment torn inside its header
   * removed), so records go after them; only an empty file gets a header.
   */
  private async openSegment(firstSeq: number): Promise<FileHandle> {
    const path = join(this.options.dir, segmentName(firstSeq));
    const segment = await open(path, 'a+');
    try {
      const { size } = await segment.stat();
      if (size === 0) {
        await writeFully(segment, encodeHeader(firstSeq), 'journal');
        await segment.sync();
        await fsyncDirectory(this.options.dir); // a new file: its name is durable once the directory is
      } else {
        await checkHeader(segment, path, firstSeq);
      }
      this.bytesInSegment = Math.max(size - HEADER_BYTES, 0);
      return segment;
    } catch (error) {
      await segment.close();
      throw error;
    }
  }

  append(event: StateEvent): void {
    if (this.failure !== undefined) return;
    const seq = ++this.lastSeq;
    try {
      if (event.type !== 'order_accepted' || !this.putOrderAccepted(seq, event)) this.put(encodeRecordPayload(seq, event));
    } catch (error) {
      // Not encodable means not durable: the journal fails (closed), as a failed write does.
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (++this.pendingRecords > this.options.maxPendingEvents) {
      this.fail(new Error(`journal: ${this.pendingRecords} records waiting for the disk (max ${this.options.maxPendingEvents})`));
      return;
    }
    this.schedule();
  }

  /** Frames one record (length, CRC-32, payload; see journal-format) into the current chunk. */
  private put(payload: string): void {
    // Recovery takes a longer length field for garbage: such a record could never be read back.
    if (payload.length > MAX_RECORD_BYTES / 3 && Buffer.byteLength(payload, 'utf8') > MAX_RECORD_BYTES) {
      throw new Error(`journal: a record of ${Buffer.byteLength(payload, 'utf8')} bytes is over the ${MAX_RECORD_BYTES} a record may hold`);
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit; a long payload is measured rather than over-allocated.
    this.makeRoom(RECORD_HEADER_BYTES + (payload.length <= 4096 ? 3 * payload.length : Buffer.byteLength(payload, 'utf8')));
    this.used = frameRecord(this.chunk, this.used, payload);
  }

  /** Frames an order_accepted record written as bytes; false if it must take the string path (nothing kept). */
  private putOrderAccepted(seq: number, event: OrderAccepted): boolean {
    const bound = orderAcceptedBound(event);
    if (bound < 0) return false;
    this.makeRoom(RECORD_HEADER_BYTES + bound);
    const end = this.orderAccepted.write(this.chunk, this.used + RECORD_HEADER_BYTES, seq, event);
    if (end < 0) return false;
    this.used = sealRecord(this.chunk, this.used, end);
    return true;
  }

  /** Makes the current chunk have `bytes` free after `used`. */
  private makeRoom(bytes: number): void {
    if (this.chunk.length - this.used >= bytes) return;
    if (this.used > this.start) this.filled.push(this.chunk.subarray(this.start, this.used));
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
    this.start = this.used = 0;
  }

  /** Everything encoded since the last call, as one buffer; the chunk's later bytes stay free for new records. */
  private takeEncoded(): Buffer {
    const tail = this.chunk.subarray(this.start, this.used);
    this.start = this.used;
    const parts = this.filled;
    this.filled = [];
    this.pendingRecords = 0;
    if (parts.length === 0) return tail;
    if (tail.length > 0) parts.push(tail);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /**
   * With fsync durability: a promise for the records up to `throughSeq` (by default everything
   * appended so far) being on disk, or undefined when they are already (and always with async
   * durability). Rejects with a NotDurableError if they never will be: their write failed, the
   * journal failed before it, or a restart gave them up. A request passes the last seq its
   * change appended, taken when it made it: asked later, everything appended so far may hold
   * other requests' records, and the journal may have failed and restarted in between. Records
   * in a write under way when the journal fails wait for that write's outcome: it may still land.
   */
  settled(throughSeq = this.lastSeq): Promise<void> | undefined {
    if (this.options.durability !== 'fsync') return undefined;
    for (const lost of this.lost) if (throughSeq > lost.after && throughSeq <= lost.through) return Promise.reject(new NotDurableError(lost.failure, lost.after));
    if (throughSeq <= this.durableSeq) return undefined;
    if (this.failure !== undefined && this.flushesInFlight === 0) return Promise.reject(new NotDurableError(this.failure, this.durableSeq));
    return new Promise<void>((resolve, reject) => {
      const waiters = this.waiters;
      let at = waiters.length;
      while (at > 0 && waiters[at - 1]!.seq > throughSeq) at--;
      waiters.splice(at, 0, { seq: throughSeq, resolve, reject });
    });
  }

  /** Writes and fsyncs everything buffered, then closes the segment. */
  async close(): Promise<void> {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    if (this.syncTimer !== undefined) clearInterval(this.syncTimer);
    this.flushNow(true);
    try {
      await this.enqueue(async () => {
        await this.segment?.sync();
        await this.segment?.close();
        this.segment = undefined;
      });
    } finally {
      // A failed journal runs nothing it is queued (see enqueue): its file is let go here, after
      // every operation before this one has ended, and the failure is what close() reports.
      const segment = this.segment;
      this.segment = undefined;
      await segment?.close().catch(() => undefined);
    }
  }

  /** Resolves once nothing queued so far is running (a failed journal: nothing touches its files then). */
  async idle(): Promise<void> {
    await this.queue;
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
    if (this.pendingRecords === 0) return;
    const throughSeq = this.lastSeq;
    const firstSeq = throughSeq - this.pendingRecords + 1;
    const bytes = this.takeEncoded();
    // A flush larger than a segment holds (records piled up behind a slow disk) goes as several
    // writes, each of whole records and acknowledged on its own, so that no segment passes the cap.
    const cap = this.options.segmentCapBytes ?? MAX_SEGMENT_BYTES;
    const runs = bytes.length > cap ? splitAtRecords(bytes, firstSeq, cap) : [{ bytes, firstSeq, lastSeq: throughSeq }];
    for (const run of runs) this.write(run, cap);
  }

  /** One write of whole records, in a new segment if the open one would pass the cap with it. */
  private write(run: RecordRun, cap: number): void {
    const shouldSync = this.options.durability === 'fsync';
    this.flushesInFlight++;
    this.enqueue(async () => {
      if (this.bytesInSegment > 0 && this.bytesInSegment + run.bytes.length > cap) await this.startSegment(run.firstSeq);
      await this.commit(run.bytes, shouldSync);
      this.settle(run.lastSeq);
      // Only records as durable as configured reach the replica: a snapshot never holds a change
      // whose request was told it failed. (The chunk's bytes up to here are not written again.)
      this.options.onWritten?.(run.bytes);
    })
      // The journal has failed: its waiters are told once no write is under way (see fail).
      .catch(() => undefined)
      .finally(() => {
        this.flushesInFlight--;
        if (this.flushesInFlight === 0 && this.failure !== undefined) this.rejectWaiters();
        if (this.flushesInFlight === 0 && this.isFlushDeferred) {
          this.isFlushDeferred = false;
          this.flushNow();
        }
      });
  }

  /**
   * One group commit: every byte written, then (fsync durability) synced. If that fails, the
   * segment is cut back to where the last whole write ended, so that it ends at a record boundary
   * and holds nothing of this write: with fsync durability these records' requests are told they
   * failed, so none may come back after a restart (a torn tail would be dropped by recovery, but
   * whole records before it would be replayed); with async durability they are within the window
   * a crash may lose anyway. The journal fails either way (see enqueue), so nothing later is
   * acknowledged; if the cut fails too, recovery copes with what is left as described.
   */
  private async commit(bytes: Buffer, shouldSync: boolean): Promise<void> {
    const segment = this.segment;
    if (segment === undefined) throw new Error('journal: no open segment');
    const end = HEADER_BYTES + this.bytesInSegment;
    try {
      await writeFully(segment, bytes, 'journal');
      this.writes++;
      if (shouldSync) await segment.sync();
    } catch (error) {
      await segment
        .truncate(end)
        .then(() => segment.sync())
        .catch(() => undefined);
      throw error;
    }
    this.bytesInSegment += bytes.length;
    this.sinceRotate += bytes.length;
  }

  /** Records up to `seq` are durable: their waiters are answered. */
  private settle(seq: number): void {
    this.durableSeq = seq;
    let answered = 0;
    while (answered < this.waiters.length && this.waiters[answered]!.seq <= seq) this.waiters[answered++]!.resolve();
    this.waiters.splice(0, answered);
  }

  private enqueue(operation: () => Promise<unknown> | undefined): Promise<void> {
    const restarts = this.restarts;
    const next = this.queue.then(async () => {
      if (this.failure !== undefined) throw this.failure;
      if (restarts !== this.restarts) throw new Error('journal: restarted after this was queued');
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

  /**
   * A write under way may still land (the failure was a backlog, a record too large, or another
   * write): its records' waiters are answered when it ends, and the rest are told then, with
   * what the disk holds by that time.
   */
  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.takeEncoded();
    if (this.flushesInFlight === 0) this.rejectWaiters();
    this.onFailure(error);
  }

  /** Tells every waiter left that its records will never be on disk. */
  private rejectWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    const error = new NotDurableError(this.failure ?? new Error('journal: restarted'), this.durableSeq);
    for (const waiter of waiters) waiter.reject(error);
  }
}

/** An existing segment must be the one for `firstSeq`: another header means files were mixed up. */
async function checkHeader(segment: FileHandle, path: string, firstSeq: number): Promise<void> {
  const { buffer, bytesRead } = await segment.read(Buffer.alloc(HEADER_BYTES), 0, HEADER_BYTES, 0);
  const header = decodeSegment(path, buffer.subarray(0, bytesRead));
  if (header.tornAt !== undefined) throw new JournalCorruptError(path, 0, 'segment header cut short');
  if (header.firstSeq !== firstSeq) throw new JournalCorruptError(path, 8, `segment starts at record ${header.firstSeq}, its name at ${firstSeq}`);
}
