import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { JournalWriter } from '../../src/store/journal-writer.js';

const writer = (durability: 'fsync' | 'async') =>
  new JournalWriter({ dir: mkdtempSync(join(tmpdir(), 'ulc-writer-')), durability, asyncFlushMs: 5, asyncSyncMs: 1_000, maxPendingEvents: 10_000 }, 0, () => undefined);

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
});
