import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { open, readFile, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineSnapshot } from '../domain/engine.js';
import { JournalCorruptError } from './journal-format.js';

/**
 * A snapshot file: one JSON header line `{format, seq, crc32, bytes}` and the engine state as
 * JSON. Written to a temporary name, fsync'ed, then renamed, so a crash leaves either the old
 * snapshot or the new one, never half of one.
 */
export const SNAPSHOT_FORMAT = 1;

export const snapshotName = (seq: number): string => `snapshot-${String(seq).padStart(16, '0')}.json`;

export async function writeSnapshot(dir: string, seq: number, state: EngineSnapshot): Promise<string> {
  const body = Buffer.from(JSON.stringify(state), 'utf8');
  const header = JSON.stringify({ format: SNAPSHOT_FORMAT, seq, crc32: crc32(body), bytes: body.length });
  const name = snapshotName(seq);
  // Unique: a worker that was let go may still be writing the same seq's snapshot.
  const temporary = join(dir, `${name}.${randomUUID()}.tmp`);
  try {
    await writeSynced(temporary, [Buffer.from(header + '\n', 'utf8'), body]);
    await rename(temporary, join(dir, name));
  } catch (error) {
    // Else a full disk, retried by the maintenance timer, gains a state-sized file per attempt
    // until the next start (which removes any left, so a failure to remove it here is not the news).
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
  return name;
}

async function writeSynced(path: string, parts: readonly Buffer[]): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (const part of parts) await writeAll(file, part);
    await file.sync();
  } finally {
    await file.close();
  }
}

/**
 * write(2) may take fewer bytes than asked without an error (a nearly full disk does) and Node
 * does not retry: what is left is written until none is, or until the disk takes nothing.
 */
async function writeAll(file: FileHandle, bytes: Buffer): Promise<void> {
  for (let written = 0; written < bytes.length; ) {
    const { bytesWritten } = await file.write(bytes.subarray(written));
    if (bytesWritten <= 0) throw new Error(`snapshot write made no progress at byte ${written} of ${bytes.length}`);
    written += bytesWritten;
  }
}

export async function readSnapshot(dir: string, name: string): Promise<{ seq: number; state: EngineSnapshot }> {
  const path = join(dir, name);
  const bytes = await readFile(path);
  const newline = bytes.indexOf(0x0a);
  if (newline < 0) throw new JournalCorruptError(path, 0, 'snapshot has no header line');
  let header: { format?: unknown; seq?: unknown; crc32?: unknown; bytes?: unknown };
  try {
    header = JSON.parse(bytes.subarray(0, newline).toString('utf8')) as typeof header;
  } catch {
    throw new JournalCorruptError(path, 0, 'snapshot header is not JSON');
  }
  if (header.format !== SNAPSHOT_FORMAT) throw new JournalCorruptError(path, 0, `snapshot format ${String(header.format)}, this build reads ${SNAPSHOT_FORMAT}`);
  const body = bytes.subarray(newline + 1);
  if (body.length !== header.bytes || crc32(body) !== header.crc32) throw new JournalCorruptError(path, newline + 1, 'snapshot checksum mismatch');
  return { seq: Number(header.seq), state: JSON.parse(body.toString('utf8')) as EngineSnapshot };
}
