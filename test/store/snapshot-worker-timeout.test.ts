/**
 * A snapshot worker that does not answer in time is let go for good: snapshotsOffThread (and so
 * ulc_dependency_up{dependency="snapshot_worker"}) turns false, and later snapshots, the one at
 * shutdown included, are taken on the main thread at once instead of waiting out the timeout.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LimitEngine } from '../../src/domain/engine.js';
import { DurableStore } from '../../src/store/durable-store.js';
import type { StoreLog } from '../../src/store/durable-store.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

const LIMITS = [{ id: 'pos', kind: 'position', thresholds: { hard: 1_000 } }];

class MemoryLog implements StoreLog {
  readonly errors: string[] = [];
  info(): void {}
  warn(): void {}
  error(object: object): void {
    this.errors.push(String((object as { err?: Error }).err?.message));
  }
}

describe('a snapshot worker that never answers', () => {
  it('is given up after one timeout (metric 0, later snapshots on the main thread at once)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-deaf-worker-'));
    const deaf = join(dir, 'deaf-worker.mjs');
    // Reads its messages (so it never falls behind by the backlog rule) but never answers.
    writeFileSync(deaf, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => undefined);\n");
    const clock = new FakeClock();
    const engine = new LimitEngine(testConfig(), clock, LIMITS);
    const log = new MemoryLog();
    const store = await DurableStore.open(
      {
        dataDir: dir,
        durability: 'async',
        snapshotIntervalMs: 3_600_000,
        maxSegmentBytes: 64 * 1024 * 1024,
        asyncFlushMs: 1,
        snapshotWorker: { engineConfig: testConfig(), limits: LIMITS, script: pathToFileURL(deaf), timeoutMs: 300 },
      },
      engine,
      log,
    );
    engine.checkOrder(order({ orderId: 'a' }));
    await store.snapshot();
    expect(log.errors).toEqual(['snapshot worker did not answer in 300 ms']);
    const healthyAfterTimeout = store.snapshotsOffThread;

    engine.checkOrder(order({ orderId: 'b' }));
    const started = Date.now();
    await store.snapshot();
    const secondMs = Date.now() - started;
    await store.close();

    expect({ healthyAfterTimeout, secondWaitedForTimeout: secondMs >= 290, errors: log.errors.length }).toEqual({
      healthyAfterTimeout: false,
      secondWaitedForTimeout: false,
      errors: 1,
    });
  });
});
