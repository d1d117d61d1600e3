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
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { longestLoopBlock } from './loop-block.js';
import { stringOption, wholeNumberOption } from './options.js';

interface AppModule {
  buildApp: (config: unknown, options: { httpWarmUpRequests: number }) => Promise<{ server: FastifyInstance }>;
}
interface SchemaModule {
  AppConfigSchema: { parse: (input: unknown) => unknown };
}

const REPS = 3;

/** N rows: accounts of 100 symbols each, in one strategy. */
const positions = (n: number, quantity: number) =>
  Array.from({ length: n }, (_, i) => ({ accountId: `ACC-${Math.floor(i / 100)}`, strategyId: 'S', symbol: `SYM-${i % 100}`, quantity, avgPrice: 10 }));

async function longestBlocks(dist: string, rows: number): Promise<number[]> {
  const at = (path: string): string => pathToFileURL(resolve(dist, path)).href;
  const { buildApp } = (await import(at('src/app.js'))) as AppModule;
  const { AppConfigSchema } = (await import(at('src/config/schema.js'))) as SchemaModule;
  const dataDir = mkdtempSync(join(tmpdir(), 'ulc-replace-stall-'));
  const config = AppConfigSchema.parse({
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
  return blocks.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const rows = wholeNumberOption('rows', 100_000);
  const against = process.argv.includes('--against') ? stringOption('against') : undefined;
  const builds: [string, string][] = [['this', resolve(import.meta.dirname, '..')]];
  if (against !== undefined) builds.push(['other', resolve(against, 'dist-bench')]);
  console.log(`PUT /v1/positions replacing ${rows} rows over ${rows} held (async journal); longest event-loop block, ms, of ${REPS} replaces`);
  for (const [name, dist] of builds) {
    const blocks = await longestBlocks(dist, rows);
    console.log(`${name.padEnd(6)} median ${blocks[Math.floor(REPS / 2)]!.toFixed(1)} (min ${blocks[0]!.toFixed(1)}, max ${blocks[REPS - 1]!.toFixed(1)})`);
  }
  process.exit(0);
}

await main();
