/**
 * The longest event-loop block while a batch of orders that each breach a warning is checked
 * with violation streams (SSE) open: every breach is a notice to every stream. A 1 ms ticker
 * measures the loop; the batch goes through `inject`, the streams are real HTTP clients. Run it
 * on this build and on another checkout's (`--against DIR`, its dist-bench built).
 *
 *   npm run bench:stream-stall [-- --streams 64] [--orders 1000] [--against ../before]
 */
import { get } from 'node:http';
import { compareBuilds, longestLoopBlock } from './stall-harness.js';
import type { BuiltApp } from './stall-harness.js';
import { wholeNumberOption } from './options.js';

const REPS = 5;

async function longestBlocks({ buildApp, parseConfig }: BuiltApp, streams: number, orders: number): Promise<number[]> {
  const config = parseConfig({
    schemaVersion: 1,
    storage: { durability: 'off' },
    auth: { enabled: false },
    rateLimit: { enabled: false },
    server: { logLevel: 'silent', bodyLimitBytes: 8_388_608, maxBatchSize: 10_000, defaultDeadlineMs: 60_000 },
    limits: [{ id: 'warn-qty', kind: 'order_quantity', per: 'account', thresholds: { warn: 1, hard: 1e9 } }],
  });
  const { server } = await buildApp(config, { httpWarmUpRequests: 20 });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  for (let i = 0; i < streams; i++) get(`${url}/v1/violations/stream`, (response) => response.resume());
  await new Promise((done) => setTimeout(done, 500));
  const blocks: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const batch = Array.from({ length: orders }, (_, i) => ({ orderId: `o-${rep}-${i}`, accountId: `A-${i}`, strategyId: 'S', symbol: 'X', side: 'BUY', quantity: 100, price: 10 }));
    const { longest, result: response } = await longestLoopBlock(() => server.inject({ method: 'POST', url: '/v1/checks/batch', payload: { orders: batch } }), 50);
    if (response.statusCode !== 200) throw new Error(`batch answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
    blocks.push(longest);
  }
  server.server.closeAllConnections();
  await server.close();
  return blocks;
}

async function main(): Promise<void> {
  const streams = wholeNumberOption('streams', 64);
  const orders = wholeNumberOption('orders', 1_000);
  await compareBuilds(`${streams} violation streams, batches of ${orders} orders each breaching a warning; longest event-loop block, ms, of ${REPS} batches`, (app) =>
    longestBlocks(app, streams, orders),
  );
  process.exit(0);
}

await main();
