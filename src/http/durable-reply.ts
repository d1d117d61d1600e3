import type { FastifyReply } from 'fastify';
import { ProblemError } from './problems.js';

/** What routes need of the durable store: whether it can take changes, and when they are on disk. */
export interface StoreGate {
  readonly isHealthy: boolean;
  /** Times the journal failed: a request that spans turns of the event loop sees whether one began meanwhile. */
  readonly outages: number;
  /** The last journal record's sequence number, taken right after a change: what settled() is asked about. */
  readonly lastSeq: number;
  settled(throughSeq?: number): Promise<void> | undefined;
}

export const NO_STORE: StoreGate = { isHealthy: true, outages: 0, lastSeq: 0, settled: () => undefined };

/**
 * Whether the journal has failed since `outages` was read: unhealthy now, or failed and recovered
 * meanwhile (with fsync durability the recovery may have put the engine back to what the disk
 * holds, so a change made in parts must not go on across it).
 */
export const journalFailedSince = (store: StoreGate, outages: number): boolean => !store.isHealthy || store.outages !== outages;

/** State cannot be made durable: refuse the change instead of acknowledging what may be lost. */
export function assertWritable(store: StoreGate): void {
  if (!store.isHealthy) throw new ProblemError('unavailable', 'the journal cannot be written: state changes are refused until it recovers');
}

/**
 * Sends the answer to a state-changing request once its changes are as durable as configured:
 * at once for async durability, after the group-commit fsync for fsync durability. `throughSeq`
 * is the last record the change appended, taken when it was made (by default now: the request
 * made it in this same turn).
 */
export function sendDurably(reply: FastifyReply, store: StoreGate, body: unknown, throughSeq = store.lastSeq): FastifyReply | Promise<FastifyReply> {
  const settled = store.settled(throughSeq);
  if (settled === undefined) return reply.send(body);
  return settled.then(
    () => reply.send(body),
    (error: unknown) => {
      throw new ProblemError('unavailable', `the change could not be made durable: ${(error as Error).message}`);
    },
  );
}
