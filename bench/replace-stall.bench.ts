/**
 * The longest event-loop block while PUT /v1/positions replaces N rows over N positions held,
 * with the journal on (async durability, snapshots in the worker, as production defaults): a
 * 1 ms ticker measures the loop, the request goes through `inject`. Run it on this build and on
 * another checkout's (`--against DIR`, its dist-bench built).
 *
 *   npm run bench:replace-stall [-- --rows 100000] [--against ../before]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareBuilds, longestLoopBlock } from './stall-harness.js';
import type { BuiltApp } from './stall-harness.js';
import { wholeNumberOption } from './options.js';

const REPS = 3;

/** N rows: accounts of 100 symbols each, in one strategy. */
const positions = (n: number, quantity: number) =>
  Array.from({ length: n }, (_, i) => ({ accountId: `ACC-${Math.floor(i / 100)}`, strategyId: 'S', symbol: `SYM-${i % 100}`, quantity, avgPrice: 10 }));

async function longestBlocks({ buildApp, parseConfig }: BuiltApp, rows: number): Promise<number[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ulc-replace-stall-'));
  const config = parseConfig({
    schemaVersion: 1,
    storage: { durability: 'async', dataDir },
    auth: { enabled: false },
    rateLimit: { enabled: false },
    capacity: { maxPositions: Math.max(1_000_000, 2 * rows), maxSymbols: 10_000 },
    server: { logLevel: 'silent', bodyLimitBytes: 64 * 1024 * 1024 },
  });
  const { server } = await buildApp(config, { httpWarmUpRequests: 20 });
  const held = await server.inject({ method: 'PUT', url: '/v1/positions', payload: { positions: positions(rows, 100) } });
  if (held.statusCode !== 200) throw new Error(`positions answered ${held.statusCode}: ${held.body.slice(0, 300)}`);
  const body = JSON.stringify({ positions: positions(rows, 200), replace: true });
  const blocks: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const { longest, result: response } = await longestLoopBlock(
      () => server.inject({ method: 'PUT', url: '/v1/positions', headers: { 'content-type': 'application/json' }, payload: body }),
      20,
    );
    if (response.statusCode !== 200) throw new Error(`replace answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
    blocks.push(longest);
  }
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
  return blocks;
}

async function main(): Promise<void> {
  const rows = wholeNumberOption('rows', 100_000);
  await compareBuilds(`PUT /v1/positions replacing ${rows} rows over ${rows} held (async journal); longest event-loop block, ms, of ${REPS} replaces`, (app) =>
    longestBlocks(app, rows),
  );
  process.exit(0);
}

await main();
