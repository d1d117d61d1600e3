/**
 * The snapshot worker: a replica of the engine on its own thread. It recovers from the data
 * directory as the service did, then applies every journal write the service hands it, and
 * on request captures and writes a snapshot, so that serialising the whole state (about a
 * second at a million positions) never holds the service's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { LimitEngine } from '../domain/engine.js';
import type { Clock } from '../domain/clock.js';
import { eachRecord } from './journal-format.js';
import { OrderAcceptedReader } from './record-decoding.js';
import type { JournalRecord } from './record-decoding.js';
import { recover } from './recovery.js';
import type { StoreLog } from './recovery.js';
import { writeSnapshot } from './snapshot-file.js';
import type { ReplicaReply, ReplicaRequest, ReplicaSetup } from './snapshot-protocol.js';

const port = ((): MessagePort => {
  if (parentPort === null) throw new Error('snapshot-worker runs as a worker thread');
  return parentPort;
})();
const setup = workerData as ReplicaSetup;

const silent: StoreLog = { info: () => undefined, warn: () => undefined, error: () => undefined };
/**
 * Replay reads no clock; a capture reads it to leave out window entries already past their
 * window. Here "now" is the time of the newest record applied (not this thread's wall clock,
 * which need not be the service's), and before any, -Infinity: the capture keeps every entry,
 * and whoever counts them later drops the stale ones, as with any snapshot.
 */
let newestAt = Number.NEGATIVE_INFINITY;
const replayClock: Clock = { now: () => newestAt, monotonic: () => newestAt, isPast: (deadline) => newestAt >= deadline };
const engine = new LimitEngine(setup.engineConfig, replayClock, setup.limits);
let lastSeq = 0;
let isRecovered = false;
/** Writes that arrived while recovering, and snapshot requests waiting for their records. */
const early: Buffer[] = [];
const waiting: { id: number; minSeq: number }[] = [];
let chain: Promise<void> = Promise.resolve();

const reply = (message: ReplicaReply): void => port.postMessage(message);

/**
 * The service's own writes, straight from its memory and checksummed: parsed without the
 * schema check that recovery gives what it reads from disk (most of a replay's cost), and an
 * order_accepted record (nearly every one) read from its bytes without JSON.parse.
 */
function apply(bytes: Buffer): void {
  eachRecord('journal write', bytes, (start, end) => applyRecord(reader.read(bytes, start, end) ?? (JSON.parse(bytes.toString('utf8', start, end)) as JournalRecord)));
  reply({ type: 'applied', bytes: bytes.length });
}

const reader = new OrderAcceptedReader();

function applyRecord(record: JournalRecord): void {
  if (record.s <= lastSeq) return;
  if (record.s !== lastSeq + 1) throw new Error(`record ${record.s} follows ${lastSeq}: records are missing`);
  engine.replay(record.e);
  lastSeq = record.s;
  if (record.e.at > newestAt) newestAt = record.e.at;
}

/** Snapshots run one at a time, in request order, each once its records are in. */
function serveWaiting(): void {
  while (waiting.length > 0 && waiting[0]!.minSeq <= lastSeq) {
    const { id } = waiting.shift()!;
    const seq = lastSeq;
    const state = engine.captureState();
    chain = chain.then(async () => {
      try {
        reply({ type: 'snapshot', id, seq, name: await writeSnapshot(setup.dataDir, seq, state) });
      } catch (error) {
        reply({ type: 'failed', id, message: error instanceof Error ? error.message : String(error) });
      }
    });
  }
}

function fail(error: unknown): void {
  reply({ type: 'broken', message: error instanceof Error ? error.message : String(error) });
  port.close();
}

port.on('message', (message: ReplicaRequest) => {
  try {
    if (message.type === 'records') {
      const bytes = Buffer.from(message.bytes);
      if (isRecovered) apply(bytes);
      else early.push(bytes);
    } else {
      waiting.push({ id: message.id, minSeq: message.minSeq });
    }
    if (isRecovered) serveWaiting();
  } catch (error) {
    fail(error);
  }
});

recover(setup.dataDir, engine, silent, { readOnly: true }).then(
  (report) => {
    try {
      lastSeq = report.lastSeq;
      isRecovered = true;
      for (const bytes of early.splice(0)) apply(bytes);
      reply({ type: 'ready', lastSeq });
      serveWaiting();
    } catch (error) {
      fail(error);
    }
  },
  fail,
);
