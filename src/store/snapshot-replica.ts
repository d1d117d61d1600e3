import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { StoreLog } from './recovery.js';
import type { ReplicaReply, ReplicaRequest, ReplicaSetup } from './snapshot-protocol.js';

/** How long a snapshot may take the worker before the store takes it itself (default). */
const SNAPSHOT_TIMEOUT_MS = 120_000;

/**
 * Journal writes are handed over together, at most this long after the first of them (or once
 * FEED_BYTES have gathered): each hand-over wakes the worker, which cost the service a few
 * percent of its CPU when it came with every 5 ms flush. Short enough that the worker's replay
 * comes in small bursts (~1 ms at 5,000 checks/s), not long ones that take a core from the
 * service at once. A snapshot request sends what is held first.
 */
export const FEED_MS = 25;
export const FEED_BYTES = 4 * 1024 * 1024;

/** Where the worker's script is once built; absent when running from TypeScript sources (tests). */
const SNAPSHOT_WORKER_SCRIPT = new URL('./snapshot-worker.js', import.meta.url);

interface Pending {
  timer: NodeJS.Timeout;
  resolve: (snapshot: { seq: number; name: string }) => void;
  reject: (error: Error) => void;
}

/**
 * The service's side of the snapshot worker (see snapshot-worker.ts): hands it every journal
 * write and asks it for snapshots. Once broken (the worker failed or exited) it stays broken,
 * and the store takes its snapshots on the main thread again.
 */
export class SnapshotReplica {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private brokenBy: Error | undefined;
  private terminating: Promise<unknown> | undefined;
  private timedOut = false;
  /** Bytes handed to the worker (or held for it) and not yet replayed: bounded by maxBacklogBytes. */
  private backlogBytes = 0;
  /** The writes not yet handed over, copied end to end into `held` (grown as needed). */
  private held = new Uint8Array(0);
  private heldBytes = 0;
  private feedTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly log: StoreLog,
    private readonly maxBacklogBytes: number,
    private readonly timeoutMs: number,
  ) {
    worker.on('message', (message: ReplicaReply) => this.receive(message));
    worker.on('error', (error: unknown) => this.break(error instanceof Error ? error : new Error(String(error))));
    worker.on('exit', (code) => this.break(new Error(`snapshot worker exited (code ${code})`)));
    worker.unref();
  }

  /** Starts the worker, which recovers from `dataDir` on its own; undefined if there is no built worker script. */
  static start(
    setup: ReplicaSetup,
    log: StoreLog,
    limits: { maxBacklogBytes: number; timeoutMs?: number },
    script: URL = SNAPSHOT_WORKER_SCRIPT,
  ): SnapshotReplica | undefined {
    if (!existsSync(fileURLToPath(script))) {
      log.warn({ script: script.href }, 'no snapshot worker script: snapshots are taken on the main thread');
      return undefined;
    }
    return new SnapshotReplica(new Worker(script, { workerData: setup }), log, limits.maxBacklogBytes, limits.timeoutMs ?? SNAPSHOT_TIMEOUT_MS);
  }

  /** Let go for not answering: a hung worker, which a new one would likely repeat. */
  get isUnresponsive(): boolean {
    return this.timedOut;
  }

  get isHealthy(): boolean {
    return this.brokenBy === undefined;
  }

  /**
   * A journal write, copied (the writer's buffer is shared) and held until the next hand-over.
   * Never throws: it runs inside the journal's write, and a replica's fault must not fail the
   * journal; the replica is let go instead (snapshots fall back to the main thread).
   */
  feed(bytes: Buffer): void {
    try {
      this.take(bytes);
    } catch (error) {
      this.break(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private take(bytes: Buffer): void {
    if (this.brokenBy !== undefined || bytes.length === 0) return;
    this.backlogBytes += bytes.length;
    if (this.backlogBytes > this.maxBacklogBytes) {
      // A replica that cannot keep up would hold ever more of the journal in memory: it goes.
      this.break(new Error(`snapshot worker fell behind: ${this.backlogBytes} bytes of journal not yet replayed (max ${this.maxBacklogBytes})`));
      return;
    }
    this.hold(bytes);
    // Held bytes count against the backlog bound: a small bound (maxSegmentBytes) hands over sooner.
    if (this.heldBytes >= Math.min(FEED_BYTES, this.maxBacklogBytes / 4)) this.handOver();
    else if (this.feedTimer === undefined) {
      this.feedTimer = setTimeout(() => this.handOver(), FEED_MS);
      this.feedTimer.unref();
    }
  }

  private hold(bytes: Buffer): void {
    const needed = this.heldBytes + bytes.length;
    if (needed > this.held.length) {
      const grown = new Uint8Array(Math.max(needed, 2 * this.held.length, 64 * 1024));
      grown.set(this.held.subarray(0, this.heldBytes));
      this.held = grown;
    }
    this.held.set(bytes, this.heldBytes);
    this.heldBytes = needed;
  }

  /** Everything held, as one buffer, moved to the worker rather than copied. */
  private handOver(): void {
    if (this.feedTimer !== undefined) clearTimeout(this.feedTimer);
    this.feedTimer = undefined;
    if (this.heldBytes === 0 || this.brokenBy !== undefined) return;
    const bytes = this.held.buffer.transfer(this.heldBytes);
    this.held = new Uint8Array(0);
    this.heldBytes = 0;
    this.post({ type: 'records', bytes }, [bytes]);
  }

  /** A snapshot that covers at least every record up to `minSeq`, written by the worker. */
  snapshot(minSeq: number): Promise<{ seq: number; name: string }> {
    if (this.brokenBy !== undefined) return Promise.reject(this.brokenBy);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // A worker that does not answer is let go, not asked again: it may be hung, or still writing.
      const timer = setTimeout(() => {
        this.timedOut = true;
        this.break(new Error(`snapshot worker did not answer in ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(id, { timer, resolve, reject });
      // An idle worker does not keep the process alive; one writing a snapshot (at shutdown, say) must.
      this.worker.ref();
      this.handOver();
      this.post({ type: 'snapshot', id, minSeq });
    });
  }

  async close(): Promise<void> {
    this.break(new Error('snapshot worker closed'));
    await this.stopped();
  }

  /** Resolves once the worker thread has stopped (after a break, which terminates it). */
  async stopped(): Promise<void> {
    await this.terminating;
  }

  private post(message: ReplicaRequest, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  private receive(message: ReplicaReply): void {
    switch (message.type) {
      case 'ready':
        this.log.info({ lastSeq: message.lastSeq }, 'snapshot worker recovered');
        return;
      case 'applied':
        this.backlogBytes -= message.bytes;
        return;
      case 'snapshot':
        this.settle(message.id)?.resolve({ seq: message.seq, name: message.name });
        return;
      case 'failed':
        this.settle(message.id)?.reject(new Error(`snapshot worker: ${message.message}`));
        return;
      case 'broken':
        this.break(new Error(`snapshot worker: ${message.message}`));
        return;
    }
  }

  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    if (pending !== undefined) clearTimeout(pending.timer);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    return pending;
  }

  /** Once broken, always: the worker is stopped, every pending request rejected. */
  private break(error: Error): void {
    if (this.brokenBy !== undefined) return;
    this.brokenBy = error;
    if (this.feedTimer !== undefined) clearTimeout(this.feedTimer);
    this.held = new Uint8Array(0);
    this.heldBytes = 0;
    // Referenced until it has stopped, so a shutdown waits for it rather than exiting under it.
    this.worker.ref();
    this.terminating = this.worker.terminate().catch(() => undefined);
    if (error.message !== 'snapshot worker closed') this.log.error({ err: error }, 'snapshot worker failed: snapshots are taken on the main thread');
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
  }
}
