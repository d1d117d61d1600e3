import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/**
 * Writes all of `bytes`: write(2) may take fewer than asked without an error (a nearly full
 * disk does) and Node does not retry, so what is left is written until none is, or until the
 * disk takes nothing at all.
 */
export async function writeFully(file: FileHandle, bytes: Buffer, what: string): Promise<void> {
  for (let written = 0; written < bytes.length; ) {
    const { bytesWritten } = await file.write(bytes.subarray(written));
    if (bytesWritten <= 0) throw new Error(`${what}: a write made no progress at byte ${written} of ${bytes.length}`);
    written += bytesWritten;
  }
}

/**
 * Syncs a directory's entries: a file created in it (or renamed into it) is on disk only
 * once the directory is too, or a power cut can lose the name along with what the file holds.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * Cuts a file to `length` bytes and syncs it, so the cut cannot come undone in a power cut:
 * recovery cuts a torn record off the journal and the service then appends where it ends.
 */
export async function truncateDurably(path: string, length: number): Promise<void> {
  const file = await open(path, 'r+');
  try {
    await file.truncate(length);
    await file.sync();
  } finally {
    await file.close();
  }
}
