/**
 * What the service allocates per order over HTTP, from V8's sampling heap profiler, by site:
 * parsing, validation, rate limits, the engine, metrics, the answer and Node's own HTTP work.
 * Allocation sets how often the young generation is collected, and so the pauses a batch meets
 * and part of the throughput gap to a bare route; unlike time it barely depends on the host.
 * The service runs on this thread with the load tests' world (100 accounts × 50 symbols, about
 * 1,000 limits, market data and positions loaded); the client runs in a worker thread, another
 * V8 isolate, so none of its allocations are counted. Orders are not retired (the figures include
 * the open-order maps growing); the journal is off unless `--durability async|fsync`.
 *
 *   npm run bench:http-alloc [-- --size 100] [--orders 20000] [--warm-up 20000] [--durability off]
 *   npm run bench:http-alloc -- --size 1        single checks (POST /v1/checks)
 */
import { Session } from 'node:inspector/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { buildApp } from '../src/app.js';
import { AppConfigSchema } from '../src/config/schema.js';
import { send } from '../load-tests/processes.js';
import { OrderFlow, World } from '../load-tests/world.js';
import type { Durability } from '../load-tests/world.js';
import { bytesBySite, printSites } from './heap-sites.js';
import { stringOption, wholeNumberOption } from './options.js';

const SAMPLING_INTERVAL_BYTES = 256;
const TOP_SITES = 15;

interface ClientSetup {
  url: string;
  token: string;
  size: number;
  warmUp: number;
  orders: number;
}

/** The worker: sends `warmUp` orders, says so, waits for the go, sends `orders` more, one request at a time. */
async function client({ url, token, size, warmUp, orders }: ClientSetup): Promise<void> {
  const port = parentPort!;
  const flow = new OrderFlow(new World(), `h${process.pid}-`);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-deadline-ms': '30000' };
  const path = size === 1 ? '/v1/checks' : '/v1/checks/batch';
  const send = async (): Promise<void> => {
    const response = await fetch(url + path, { method: 'POST', headers, body: size === 1 ? flow.next() : flow.batch(size) });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${text.slice(0, 300)}`);
  };
  for (let sent = 0; sent < warmUp; sent += size) await send();
  const go = new Promise((resolve) => port.once('message', resolve));
  port.postMessage('warm');
  await go;
  for (let sent = 0; sent < orders; sent += size) await send();
  port.postMessage('done');
}

function durabilityOption(): Durability {
  const value = stringOption('durability', 'off');
  if (value !== 'off' && value !== 'async' && value !== 'fsync') throw new Error('--durability takes off, async or fsync');
  return value;
}

async function main(): Promise<void> {
  const size = wholeNumberOption('size', 100);
  const orders = wholeNumberOption('orders', 20_000);
  const warmUp = wholeNumberOption('warm-up', 20_000);
  const durability = durabilityOption();
  const world = new World();
  const loadConfig = world.config({ durability });
  // No info lines (one per replace, warm-up and start) among the figures.
  const config = { ...loadConfig, server: { ...loadConfig.server, logLevel: 'warn' as const } };
  const dataDir = durability === 'off' ? undefined : mkdtempSync(join(tmpdir(), 'ulc-http-alloc-'));
  const app = await buildApp(AppConfigSchema.parse(dataDir === undefined ? config : { ...config, storage: { ...config.storage, dataDir } }));
  try {
    const url = await app.server.listen({ host: '127.0.0.1', port: 0 });
    const to = { url, headers: { authorization: `Bearer ${world.gatewayToken}` } };
    await send(to, 'PUT', '/v1/market-data', world.marketData());
    await send(to, 'PUT', '/v1/positions', world.positions());
    const setup: ClientSetup = { url, token: world.gatewayToken, size, warmUp, orders };
    const worker = new Worker(new URL(import.meta.url), { workerData: setup });
    const failed = new Promise<never>((_, reject) => worker.once('error', reject));
    const next = (): Promise<unknown> => Promise.race([new Promise((resolve) => worker.once('message', resolve)), failed]);
    await next(); // warmed up
    const session = new Session();
    session.connect();
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: SAMPLING_INTERVAL_BYTES,
      includeObjectsCollectedByMinorGC: true,
      includeObjectsCollectedByMajorGC: true,
    });
    const done = next();
    worker.postMessage('go');
    await done;
    const { profile } = await session.post('HeapProfiler.stopSampling');
    session.disconnect();
    await worker.terminate();

    console.log(
      `HTTP allocation per order: ${size === 1 ? 'single checks' : `batches of ${size}`}, ${orders} orders sampled after ${warmUp}, ` +
        `journal ${durability}, the service's thread only (every ~${SAMPLING_INTERVAL_BYTES} B)`,
    );
    printSites(bytesBySite(profile.head), orders, 'order', TOP_SITES);
  } finally {
    await app.server.close();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
else await client(workerData as ClientSetup);
