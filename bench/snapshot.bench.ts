/**
 * What a snapshot costs the event loop (DESIGN §6: never blocked more than 10 ms): the state
 * of `npm run bench` (10,000 accounts × 100 symbols, 50,000 open orders) in a durable store,
 * snapshotted with `storage.snapshotsIn` main, then worker, while a 1 ms timer measures how
 * late the event loop runs.
 *
 *   npm run bench:snapshot              the full state
 *   npm run bench:snapshot -- --small   100 accounts
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { StoreLog } from '../src/store/durable-store.js';
import { DurableStore } from '../src/store/durable-store.js';
import { benchConfig, checkNext, loadPositions, makeEngine, OrderFlow, World } from './engine-fixture.js';
import { applicableLimits } from './limit-books.js';
import { mib, seededRandom } from './stats.js';

const isSmall = process.argv.includes('--small');
const log: StoreLog = { info: () => undefined, warn: () => undefined, error: (object, message) => console.error(message, object) };

async function measure(snapshotsIn: 'main' | 'worker'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ulc-snapshot-bench-'));
  const world = new World(seededRandom(42), isSmall ? 100 : undefined);
  const { engine, clock } = makeEngine(world);
  const store = await DurableStore.open(
    {
      dataDir: dir,
      durability: 'async',
      snapshotIntervalMs: 86_400_000,
      maxSegmentBytes: 4 * 1024 * 1024 * 1024,
      asyncFlushMs: 5,
      ...(snapshotsIn === 'worker' ? { snapshotWorker: { engineConfig: benchConfig(), limits: [] } } : {}),
    },
    engine,
    log,
  );
  // Set once the store is open, so it is journalled and the worker's replica has it too.
  engine.replaceLimits(applicableLimits(world));
  const started = performance.now();
  loadPositions(engine, world);
  const flow = new OrderFlow(engine, clock, world);
  for (let i = 0; i < 60_000; i++) {
    checkNext(engine, flow);
    if (i % 5_000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const loadedMs = performance.now() - started;
  // A first snapshot lets the worker catch up with the load; the second is the one measured.
  await store.snapshot();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const t0 = performance.now();
  await store.snapshot();
  const snapshotMs = performance.now() - t0;
  delay.disable();
  const file = readdirSync(dir).find((f) => f.startsWith('snapshot-'));
  const bytes = file === undefined ? 0 : statSync(join(dir, file)).size;
  console.log(
    `${snapshotsIn.padEnd(6)} ${engine.ledger.positionCount.toLocaleString('en-US')} positions, ${engine.ledger.openOrderCount.toLocaleString('en-US')} open orders ` +
      `(loaded in ${(loadedMs / 1000).toFixed(1)} s): snapshot of ${mib(bytes)} in ${snapshotMs.toFixed(0)} ms; ` +
      `event loop late by at most ${(delay.max / 1e6).toFixed(1)} ms (p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms); ` +
      `off the main thread: ${store.snapshotsOffThread}; rss ${mib(process.memoryUsage().rss)}`,
  );
  await store.close();
  engine.recordEventsTo(undefined);
  rmSync(dir, { recursive: true, force: true });
}

await measure('main');
await measure('worker');
