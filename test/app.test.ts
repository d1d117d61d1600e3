import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testApp } from './support/app-fixtures.js';

describe('the composition root', () => {
  it.each([
    [undefined, 1],
    [3, 3],
    [0, 0],
  ])('gives the store the snapshot trigger of the storage config (snapshotJournalRatio %s: %s times the last snapshot)', async (configured, ratio) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ulc-app-'));
    const storage = { durability: 'async', dataDir, snapshotsIn: 'main', maxSegmentBytes: 100 } as const;
    const app = await testApp({ storage: configured === undefined ? storage : { ...storage, snapshotJournalRatio: configured } });
    try {
      const store = app.store!;
      expect(store.journalBytesDue).toBe(100);
      app.engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 100, avgPrice: 95 }], false);
      await store.snapshot();
      const snapshot = readdirSync(dataDir).find((f) => f.startsWith('snapshot-'))!;
      expect(store.journalBytesDue).toBe(Math.max(100, ratio * statSync(join(dataDir, snapshot)).size));
    } finally {
      await app.server.close();
    }
  });
});
