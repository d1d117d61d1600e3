import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineSnapshot } from '../domain/engine.js';
import { fsyncDirectory, writeFully } from './file-writes.js';
import { JournalCorruptError } from './journal-format.js';

/**
 * A snapshot file: one JSON header line `{format, seq, crc32, bytes}` and the engine state as
 * JSON. Written to a temporary name, fsync'ed, read back, then renamed, so a crash or a disk
 * that takes less than it is given leaves either the old snapshot or the new one, never half of one.
 */
export const SNAPSHOT_FORMAT = 1;

export const snapshotName = (seq: number): string => `snapshot-${String(seq).padStart(16, '0')}.json`;

export async function writeSnapshot(dir: string, seq: number, state: EngineSnapshot): Promise<string> {
  const body = Buffer.from(JSON.stringify(state), 'utf8');
  const header = JSON.stringify({ format: SNAPSHOT_FORMAT, seq, crc32: crc32(body), bytes: body.length });
  const name = snapshotName(seq);
  // Unique: a worker that was let go may still be writing the same seq's snapshot.
  const temporaryName = `${name}.${randomUUID()}.tmp`;
  const temporary = join(dir, temporaryName);
  try {
    await writeSynced(temporary, [Buffer.from(header + '\n', 'utf8'), body]);
    // Read back before it can replace anything: an idle service snapshots the same seq again,
    // and a bad file renamed over a good one of that seq would leave no snapshot to start from.
    await verifySnapshot(dir, temporaryName);
    await rename(temporary, join(dir, name));
  } catch (error) {
    // Else a full disk, retried by the maintenance timer, gains a state-sized file per attempt
    // until the next start (which removes any left, so a failure to remove it here is not the news).
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
  await fsyncDirectory(dir);
  return name;
}

async function writeSynced(path: string, parts: readonly Buffer[]): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (const part of parts) await writeFully(file, part, 'snapshot');
    await file.sync();
  } finally {
    await file.close();
  }
}

export async function readSnapshot(dir: string, name: string): Promise<{ seq: number; state: EngineSnapshot }> {
  const path = join(dir, name);
  const bytes = await readFile(path);
  const { header, bodyAt } = parseHeader(path, bytes);
  const body = bytes.subarray(bodyAt);
  checkBody(path, header, bodyAt, body.length, crc32(body));
  return { seq: Number(header.seq), state: JSON.parse(body.toString('utf8')) as EngineSnapshot };
}

const VERIFY_CHUNK_BYTES = 1024 * 1024;

/**
 * Checks a snapshot on disk as recovery will (header, length, CRC-32 of every byte) short of
 * parsing its state, which readSnapshot does. Measured at a million positions (156 MiB, the
 * state of `npm run bench:snapshot`): this takes ~45 ms with the event loop late by under 2 ms;
 * readSnapshot held the loop for 0.8-1.3 s, which the snapshot worker exists to avoid.
 * Answers the file's size in bytes.
 */
export async function verifySnapshot(dir: string, name: string): Promise<number> {
  const path = join(dir, name);
  const file = await open(path, 'r');
  try {
    // One buffer for every chunk: a new one each time (a read stream) made the collector late the loop by 20-80 ms.
    const chunk = Buffer.allocUnsafe(VERIFY_CHUNK_BYTES);
    const first = await file.read(chunk, 0, chunk.length, 0);
    // The header is a short line: the first chunk holds it whole.
    const { header, bodyAt } = parseHeader(path, chunk.subarray(0, first.bytesRead));
    let crc = crc32(chunk.subarray(bodyAt, first.bytesRead));
    let at = first.bytesRead;
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, chunk.length, at);
      if (bytesRead === 0) break;
      crc = crc32(chunk.subarray(0, bytesRead), crc);
      at += bytesRead;
    }
    checkBody(path, header, bodyAt, at - bodyAt, crc);
    return at;
  } finally {
    await file.close();
  }
}

interface SnapshotHeader {
  format?: unknown;
  seq?: unknown;
  crc32?: unknown;
  bytes?: unknown;
}

function parseHeader(path: string, bytes: Buffer): { header: SnapshotHeader; bodyAt: number } {
  const newline = bytes.indexOf(0x0a);
  if (newline < 0) throw new JournalCorruptError(path, 0, 'snapshot has no header line');
  let header: SnapshotHeader;
  try {
    header = JSON.parse(bytes.subarray(0, newline).toString('utf8')) as SnapshotHeader;
  } catch {
    throw new JournalCorruptError(path, 0, 'snapshot header is not JSON');
  }
  if (header.format !== SNAPSHOT_FORMAT) throw new JournalCorruptError(path, 0, `snapshot format ${String(header.format)}, this build reads ${SNAPSHOT_FORMAT}`);
  return { header, bodyAt: newline + 1 };
}

function checkBody(path: string, header: SnapshotHeader, bodyAt: number, bodyBytes: number, crc: number): void {
  if (bodyBytes !== header.bytes || crc !== header.crc32) throw new JournalCorruptError(path, bodyAt, 'snapshot checksum mismatch');
}
