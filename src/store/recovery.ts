import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LimitEngine } from '../domain/engine.js';
import { StateEventSchema } from '../domain/events.js';
import type { StateEvent } from '../domain/events.js';
import { fsyncDirectory, truncateDurably } from './file-writes.js';
import { decodeSegment, HEADER_BYTES, JournalCorruptError } from './journal-format.js';
import { readSnapshot } from './snapshot-file.js';

export interface StoreLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface RecoveryReport {
  snapshotSeq: number | undefined;
  replayed: number;
  lastSeq: number;
  /** Torn last records that were dropped: a write cut short by a crash. */
  dropped: { file: string; offset: number }[];
  /** The size of the snapshot started from (0 without one): what the next one is paced by (see DurableStore). */
  snapshotBytes: number;
  /** The sizes of the segments records were replayed from: the journal no snapshot covers yet. */
  journalBytes: number;
}

export const SEGMENT = /^journal-\d{16}\.log$/;
export const SNAPSHOT = /^snapshot-\d{16}\.json$/;

/**
 * Rebuilds an engine from `dir`: the newest snapshot, then every journal record after it.
 * The service's own recovery (not `readOnly`) also mends what a crash leaves: temporary
 * files go and a torn last record is cut off. A read-only reader (the snapshot worker, which
 * reads while the service appends) takes an incomplete last record as not written yet.
 * `throughSeq` stops the replay after that record (what the journal had acknowledged).
 */
export async function recover(dir: string, engine: LimitEngine, log: StoreLog, options: { readOnly: boolean; throughSeq?: number }): Promise<RecoveryReport> {
  const throughSeq = options.throughSeq ?? Number.POSITIVE_INFINITY;
  const files = (await readdir(dir)).sort();
  if (!options.readOnly) for (const file of files) if (file.endsWith('.tmp')) await rm(join(dir, file), { force: true });
  const snapshots = files.filter((f) => SNAPSHOT.test(f));
  const segments = files.filter((f) => SEGMENT.test(f));
  let seq = 0;
  let snapshotSeq: number | undefined;
  let snapshotBytes = 0;
  const newest = snapshots.at(-1);
  if (newest !== undefined) {
    const snapshot = await readSnapshot(dir, newest);
    engine.restoreState(snapshot.state);
    seq = snapshotSeq = snapshot.seq;
    snapshotBytes = (await stat(join(dir, newest))).size;
  }
  let replayed = 0;
  let journalBytes = 0;
  const dropped: RecoveryReport['dropped'] = [];
  for (const [index, file] of segments.entries()) {
    const path = join(dir, file);
    const bytes = await readFile(path);
    const decoded = decodeSegment(path, bytes);
    const replayedBefore = replayed;
    for (const { offset, payload } of decoded.records) {
      const record = parseRecord(path, offset, payload);
      if (record.s <= seq) continue;
      if (record.s > throughSeq) break;
      if (record.s !== seq + 1) throw new JournalCorruptError(path, offset, `record ${record.s} follows ${seq}: records are missing`);
      engine.replay(record.e);
      seq = record.s;
      replayed++;
    }
    if (replayed > replayedBefore) journalBytes += bytes.length;
    if (decoded.tornAt !== undefined && !options.readOnly) {
      if (index !== segments.length - 1) throw new JournalCorruptError(path, decoded.tornAt, 'incomplete record before the last segment');
      log.warn({ file: path, offset: decoded.tornAt }, 'dropping a torn last journal record (a write cut short by a crash)');
      // A segment cut short inside its header holds nothing: it goes, so it cannot sit mid-journal
      // later. Both mends are synced: undone by a power cut after new records were appended, the
      // torn record would sit mid-journal and the next start would refuse the journal as corrupt.
      if (decoded.tornAt < HEADER_BYTES) {
        await rm(path, { force: true });
        await fsyncDirectory(dir);
      } else {
        await truncateDurably(path, decoded.tornAt);
      }
      dropped.push({ file: path, offset: decoded.tornAt });
    }
  }
  return { snapshotSeq, replayed, lastSeq: seq, dropped, snapshotBytes, journalBytes };
}

/** A journal record's payload: `{s: seq, e: event}`. */
function parseRecord(path: string, offset: number, payload: string): { s: number; e: StateEvent } {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    throw new JournalCorruptError(path, offset, 'record is not JSON');
  }
  const record = json as { s?: unknown; e?: unknown };
  const event = StateEventSchema.safeParse(record.e);
  if (typeof record.s !== 'number' || !event.success) throw new JournalCorruptError(path, offset, 'record is not a state event');
  return { s: record.s, e: event.data };
}
