import { open } from 'node:fs/promises';

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
