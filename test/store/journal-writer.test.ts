import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FileHandle } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { JournalWriter } from '../../src/store/journal-writer.js';

const writer = (durability: 'fsync' | 'async', onWritten?: (bytes: Buffer) => void) =>
  new JournalWriter(
    { dir: mkdtempSync(join(tmpdir(), 'ulc-writer-')), durability, asyncFlushMs: 5, asyncSyncMs: 1_000, maxPendingEvents: 10_000, ...(onWritten === undefined ? {} : { onWritten }) },
    0,
    () => undefined,
  );

describe('JournalWriter', () => {
  it('commits records appended while an fsync is in flight together (group commit)', async () => {
    const journal = writer('fsync');
    await journal.rotate();
    const acknowledged: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      journal.append({ type: 'session_reset', at: i });
      acknowledged.push(journal.settled()!);
      await nextTurn();
    }
    await Promise.all(acknowledged);
    expect(journal.lastSeq).toBe(40);
    // One request per event-loop turn: without group commit that is 40 writes and fsyncs.
    expect(journal.writes).toBeLessThan(20);
    await journal.close();
  });

  it('has nothing to wait for with async durability', async () => {
    const journal = writer('async');
    await journal.rotate();
    journal.append({ type: 'session_reset', at: 1 });
    expect(journal.settled()).toBeUndefined();
    await journal.drain();
    expect(journal.writes).toBe(1);
    await journal.close();
  });
  it('hands the snapshot replica only what is synced: a write whose fsync fails never reaches it', async () => {
    const handed: number[] = [];
    const journal = writer('fsync', (bytes) => handed.push(bytes.length));
    await journal.rotate();
    journal.append({ type: 'session_reset', at: 1 });
    await journal.settled();
    expect(handed).toHaveLength(1);
    const segment = (journal as unknown as { segment: FileHandle }).segment;
    vi.spyOn(segment, 'sync').mockRejectedValue(new Error('disk gone'));
    journal.append({ type: 'session_reset', at: 2 });
    await expect(journal.settled()).rejects.toThrow('disk gone');
    expect(handed).toHaveLength(1);
    expect(journal.isHealthy).toBe(false);
    await segment.close();
  });
});
