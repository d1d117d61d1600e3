import type { EngineConfig } from '../domain/engine.js';

/** What the snapshot worker starts from: the service's engine config and seed book. */
export interface ReplicaSetup {
  dataDir: string;
  engineConfig: EngineConfig;
  limits: readonly unknown[];
}

/** Service to worker: a journal write (whole records), or a snapshot covering at least `minSeq`. */
export type ReplicaRequest = { type: 'records'; bytes: ArrayBuffer } | { type: 'snapshot'; id: number; minSeq: number };

/**
 * Worker to service. `applied`: bytes of journal writes replayed, so the service knows the
 * backlog. `broken`: the replica cannot go on (it stops; snapshots fall back to the service).
 */
export type ReplicaReply =
  | { type: 'ready'; lastSeq: number }
  | { type: 'applied'; bytes: number }
  | { type: 'snapshot'; id: number; seq: number; name: string }
  | { type: 'failed'; id: number; message: string }
  | { type: 'broken'; message: string };
