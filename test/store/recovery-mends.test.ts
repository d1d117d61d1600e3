import { appendFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LimitEngine } from '../../src/domain/engine.js';
import { DurableStore } from '../../src/store/durable-store.js';
import type { StoreLog } from '../../src/store/durable-store.js';
import { fsyncDirectory, truncateDurably } from '../../src/store/file-writes.js';
import type * as FileWrites from '../../src/store/file-writes.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

vi.mock('../../src/store/file-writes.js', async (importOriginal) => {
  const actual = await importOriginal<typeof FileWrites>();
  return { ...actual, fsyncDirectory: vi.fn(actual.fsyncDirectory), truncateDurably: vi.fn(actual.truncateDurably) };
});

const quiet: StoreLog = { info: () => undefined, warn: () => undefined, error: () => undefined };
const segments = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('journal-')).sort();

/** A data dir with a few journalled checks, closed cleanly. */
async function journalled(): Promise<{ dir: string; clock: FakeClock }> {
  const dir = mkdtempSync(join(tmpdir(), 'ulc-mend-'));
  const clock = new FakeClock();
  const engine = new LimitEngine(testConfig(), clock, []);
  const store = await DurableStore.open({ dataDir: dir, durability: 'fsync', snapshotIntervalMs: 3_600_000, maxSegmentBytes: 1 << 20, asyncFlushMs: 5 }, engine, quiet);
  for (let i = 0; i < 5; i++) engine.checkOrder(order({ orderId: `o-${i}` }));
  await store.settled();
  await store.close();
  return { dir, clock };
}

const reopen = async (dir: string, clock: FakeClock) => {
  const store = await DurableStore.open({ dataDir: dir, durability: 'fsync', snapshotIntervalMs: 3_600_000, maxSegmentBytes: 1 << 20, asyncFlushMs: 5 }, new LimitEngine(testConfig(), clock, []), quiet);
  await store.close();
  return store;
};

describe('recovery mending a torn journal tail', () => {
  it('cuts a torn last record off with a synced truncate', async () => {
    const { dir, clock } = await journalled();
    const last = join(dir, segments(dir).at(-1)!);
    const size = statSync(last).size;
    appendFileSync(last, Buffer.from([200, 0, 0, 0, 1, 2, 3]));
    vi.mocked(truncateDurably).mockClear();
    const store = await reopen(dir, clock);
    expect(store.recovery.dropped).toEqual([{ file: last, offset: size }]);
    expect(vi.mocked(truncateDurably)).toHaveBeenCalledWith(last, size);
    expect(statSync(last).size).toBe(size);
  });

  it('removes a last segment torn inside its header and syncs the directory', async () => {
    const { dir, clock } = await journalled();
    const newest = segments(dir).at(-1)!;
    const next = `journal-${String(Number(/\d{16}/.exec(newest)![0]) + 1_000).padStart(16, '0')}.log`;
    // The first bytes of a header: the crash came while the new segment's header was written.
    writeFileSync(join(dir, next), readFileSync(join(dir, newest)).subarray(0, 5));
    vi.mocked(fsyncDirectory).mockClear();
    const store = await reopen(dir, clock);
    expect(store.recovery.dropped).toEqual([{ file: join(dir, next), offset: 0 }]);
    const removedAt = vi.mocked(fsyncDirectory).mock.calls.findIndex(([synced]) => synced === dir);
    expect(removedAt).toBeGreaterThanOrEqual(0);
  });
});
