import { mkdtempSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';

type Write = (data: unknown, ...rest: unknown[]) => Promise<{ bytesWritten: number }>;
type Read = (...args: unknown[]) => Promise<unknown>;

/**
 * Node's FileHandle class is not exported: its prototype is taken from a handle (on a probe file
 * in `dir`, or in a directory of its own). A spy on it reaches every file the process has open.
 */
export async function fileHandlePrototype(dir = mkdtempSync(join(tmpdir(), 'ulc-probe-'))): Promise<{ write: Write; read: Read; sync: () => Promise<void> }> {
  const probe = await open(join(dir, 'probe'), 'w');
  await probe.close();
  return Object.getPrototypeOf(probe) as { write: Write; read: Read; sync: () => Promise<void> };
}

export const ENOSPC = (): Error => Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });

/**
 * A full disk: every file write fails with ENOSPC (the journal's and snapshots' alike; reads and
 * fsyncs still work) until the returned function is called.
 */
export async function fillDisk(): Promise<() => void> {
  const spy = vi.spyOn(await fileHandlePrototype(), 'write').mockRejectedValue(ENOSPC());
  return () => spy.mockRestore();
}

/**
 * A disk that fills up after `writes` more file writes: those succeed, every later one fails with
 * ENOSPC until the returned function is called.
 */
export async function fillDiskAfter(writes: number): Promise<() => void> {
  const proto = await fileHandlePrototype();
  const write = proto.write;
  let left = writes;
  const spy = vi.spyOn(proto, 'write').mockImplementation(function (this: unknown, ...args: unknown[]) {
    if (left-- > 0) return write.apply(this, args as [unknown]);
    return Promise.reject(ENOSPC());
  });
  return () => spy.mockRestore();
}
