import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, vi } from 'vitest';
import { testApp } from './app-fixtures.js';

type TestApp = Awaited<ReturnType<typeof testApp>>;

/**
 * Apps journalling with fsync durability to a data directory, snapshots on the main thread, the
 * breaker retrying every 100 ms: what the journal-failure tests open, and reopen on the same
 * directory as a restart. Each is closed after its test, and the disk spies restored.
 */
export function fsyncApps(maxBatchSize = 100): { newDataDir: () => string; open: (dataDir: string) => Promise<TestApp> } {
  const apps: TestApp[] = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const app of apps.splice(0)) await app.server.close().catch(() => undefined);
  });
  return {
    newDataDir: () => mkdtempSync(join(tmpdir(), 'ulc-breaker-')),
    open: async (dataDir) => {
      const app = await testApp({
        server: { logLevel: 'info', defaultDeadlineMs: 60_000, maxBatchSize },
        storage: { durability: 'fsync', dataDir, snapshotsIn: 'main', recoveryIntervalMs: 100 },
      });
      apps.push(app);
      return app;
    },
  };
}
