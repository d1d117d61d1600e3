import type { Clock } from '../domain/clock.js';
import { LimitEngine } from '../domain/engine.js';
import type { EngineConfig } from '../domain/engine.js';
import { eachRecord } from './journal-format.js';
import { OrderAcceptedReader } from './record-decoding.js';
import type { JournalRecord } from './record-decoding.js';

/**
 * An engine kept equal to the service's by applying the service's journal writes to it, in
 * order: the snapshot worker's state (snapshot-worker.ts), and what `npm run bench:replica`
 * measures. The writes come straight from the service's memory, checksummed, so records are
 * parsed without the schema check recovery gives what it reads from disk (most of a replay's
 * cost), and an order_accepted record (nearly every one) is read from its bytes (OrderAcceptedReader).
 */
export class JournalReplica {
  readonly engine: LimitEngine;
  /** The last record applied (or recovered: the owner sets it after recovery). */
  lastSeq = 0;
  /**
   * The engine's "now": the time of the newest record applied (not this thread's wall clock,
   * which need not be the service's), -Infinity before any. Replay reads no clock.
   */
  private newestAt = Number.NEGATIVE_INFINITY;
  private readonly reader = new OrderAcceptedReader();

  constructor(engineConfig: EngineConfig, limits: readonly unknown[]) {
    const clock: Clock = { now: () => this.newestAt, monotonic: () => this.newestAt, isPast: (deadline) => this.newestAt >= deadline };
    this.engine = new LimitEngine(engineConfig, clock, limits);
  }

  /** One journal write: whole records laid end to end. Records up to lastSeq are skipped; a gap throws. */
  apply(bytes: Buffer): void {
    eachRecord('journal write', bytes, (start, end) => this.applyRecord(this.reader.read(bytes, start, end) ?? (JSON.parse(bytes.toString('utf8', start, end)) as JournalRecord)));
  }

  private applyRecord(record: JournalRecord): void {
    if (record.s <= this.lastSeq) return;
    if (record.s !== this.lastSeq + 1) throw new Error(`record ${record.s} follows ${this.lastSeq}: records are missing`);
    this.engine.replay(record.e);
    this.lastSeq = record.s;
    if (record.e.at > this.newestAt) this.newestAt = record.e.at;
  }
}
