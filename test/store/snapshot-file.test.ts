import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LimitEngine } from '../../src/domain/engine.js';
import { JournalCorruptError } from '../../src/store/journal-format.js';
import { readSnapshot, writeSnapshot } from '../../src/store/snapshot-file.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { ENOSPC, fileHandlePrototype } from '../support/disk-faults.js';
import { FakeClock } from '../support/fake-clock.js';


const engineWithOrders = (count: number): LimitEngine => {
  const engine = new LimitEngine(testConfig(), new FakeClock(), []);
  for (let i = 0; i < count; i++) engine.checkOrder(order({ orderId: `o-${i}`, symbol: `S${i % 500}` }));
  return engine;
};

const temporaryFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * Two snapshots of one sequence number written at once (a snapshot worker that was let go may
 * still be writing while the store writes its own: with nothing journalled in between, both
 * cover the same seq) must leave a readable snapshot: each writes a temporary file of its own.
 */
describe('two snapshots of one seq written at once', () => {
  it('leave a readable snapshot and both succeed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-snapshot-file-'));
    const big = engineWithOrders(2_000);
    const small = engineWithOrders(0);
    const outcomes = await Promise.allSettled([writeSnapshot(dir, 7, big.captureState()), writeSnapshot(dir, 7, small.captureState())]);
    const readable = await readSnapshot(dir, 'snapshot-0000000000000007.json').then(
      () => 'ok',
      (error: unknown) => String(error),
    );
    expect({ outcomes: outcomes.map((o) => o.status), readable, files: readdirSync(dir) }).toEqual({
      outcomes: ['fulfilled', 'fulfilled'],
      readable: 'ok',
      files: ['snapshot-0000000000000007.json'],
    });
  });
});

describe('a snapshot written to a disk that takes fewer bytes than asked', () => {
  it('writes every byte: write(2) on a nearly full disk returns a short count, not an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-snapshot-file-'));
    const proto = await fileHandlePrototype(dir);
    const realWrite = proto.write;
    // Each write takes half of what it is given (at least a byte), as the kernel may.
    vi.spyOn(proto, 'write').mockImplementation(function (this: unknown, data: unknown, ...rest: unknown[]) {
      if (!Buffer.isBuffer(data)) return realWrite.call(this, data, ...rest);
      const [offset = 0, length = data.length - offset, position] = rest as [number?, number?, (number | null)?];
      return realWrite.call(this, data, offset, Math.max(1, length >> 1), position);
    });
    const state = engineWithOrders(200).captureState();
    await writeSnapshot(dir, 3, state);
    vi.restoreAllMocks();
    const read = await readSnapshot(dir, 'snapshot-0000000000000003.json');
    expect(read).toEqual({ seq: 3, state });
  });

  it('fails, rather than retrying for ever, when the disk takes no bytes at all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-snapshot-file-'));
    vi.spyOn(await fileHandlePrototype(dir), 'write').mockResolvedValue({ bytesWritten: 0 });
    await expect(writeSnapshot(dir, 3, engineWithOrders(10).captureState())).rejects.toThrow('no progress');
  });
});

describe('a snapshot that does not read back whole', () => {
  it('fails, and leaves the snapshot of the same seq it would have replaced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-snapshot-file-'));
    const before = engineWithOrders(10).captureState();
    await writeSnapshot(dir, 3, before);
    const proto = await fileHandlePrototype(dir);
    const realWrite = proto.write;
    // A write that says it took everything and took half: what checking bytesWritten cannot catch.
    vi.spyOn(proto, 'write').mockImplementation(async function (this: unknown, data: unknown, ...rest: unknown[]) {
      if (!Buffer.isBuffer(data) || data.length < 2) return realWrite.call(this, data, ...rest);
      await realWrite.call(this, data.subarray(0, data.length >> 1));
      return { bytesWritten: data.length };
    });
    await expect(writeSnapshot(dir, 3, engineWithOrders(200).captureState())).rejects.toThrow(JournalCorruptError);
    vi.restoreAllMocks();
    expect(await readSnapshot(dir, 'snapshot-0000000000000003.json')).toEqual({ seq: 3, state: before });
    expect(temporaryFiles(dir)).toEqual([]);
  });
});

describe('a snapshot that cannot be written (disk full)', () => {
  it('removes its temporary file when a write fails, and rethrows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-snapshot-file-'));
    vi.spyOn(await fileHandlePrototype(dir), 'write').mockRejectedValue(ENOSPC());
    await expect(writeSnapshot(dir, 3, engineWithOrders(10).captureState())).rejects.toThrow('ENOSPC');
    // Else each retry by the maintenance timer adds a state-sized file to the full disk.
    expect(temporaryFiles(dir)).toEqual([]);
  });

  it('removes its temporary file when the fsync fails, and rethrows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-snapshot-file-'));
    vi.spyOn(await fileHandlePrototype(dir), 'sync').mockRejectedValue(ENOSPC());
    await expect(writeSnapshot(dir, 3, engineWithOrders(10).captureState())).rejects.toThrow('ENOSPC');
    expect(temporaryFiles(dir)).toEqual([]);
  });

  it('removes its temporary file when the rename fails, and rethrows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-snapshot-file-'));
    // A directory where the snapshot goes: rename(2) refuses to put a file over it.
    mkdirSync(join(dir, 'snapshot-0000000000000003.json'));
    await expect(writeSnapshot(dir, 3, engineWithOrders(10).captureState())).rejects.toThrow();
    expect(temporaryFiles(dir)).toEqual([]);
  });
});
