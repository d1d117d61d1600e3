/**
 * The snapshot worker: a replica of the engine on its own thread. It recovers from the data
 * directory as the service did, then applies every journal write the service hands it, and
 * on request captures and writes a snapshot, so that serialising the whole state (about a
 * second at a million positions) never holds the service's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { JournalReplica } from './journal-replica.js';
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
const replica = new JournalReplica(setup.engineConfig, setup.limits);
let isRecovered = false;
/** Writes that arrived while recovering, and snapshot requests waiting for their records. */
const early: Buffer[] = [];
const waiting: { id: number; minSeq: number }[] = [];
let chain: Promise<void> = Promise.resolve();

const reply = (message: ReplicaReply): void => port.postMessage(message);

function apply(bytes: Buffer): void {
  replica.apply(bytes);
  reply({ type: 'applied', bytes: bytes.length });
}

/** Snapshots run one at a time, in request order, each once its records are in. */
function serveWaiting(): void {
  while (waiting.length > 0 && waiting[0]!.minSeq <= replica.lastSeq) {
    const { id } = waiting.shift()!;
    const seq = replica.lastSeq;
    const state = replica.engine.captureState();
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

recover(setup.dataDir, replica.engine, silent, { readOnly: true }).then(
  (report) => {
    try {
      replica.lastSeq = report.lastSeq;
      isRecovered = true;
      for (const bytes of early.splice(0)) apply(bytes);
      reply({ type: 'ready', lastSeq: replica.lastSeq });
      serveWaiting();
    } catch (error) {
      fail(error);
    }
  },
  fail,
);
