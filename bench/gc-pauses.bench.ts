/**
 * V8's collections while the engine bench's flow runs (10,000 accounts × 100 symbols, ~50,000
 * open orders churning, windows swept): how many young-generation collections, their total
 * and their longest pause, seen by a `gc` PerformanceObserver. A young-generation pause stops
 * the event loop for as long as copying what survives takes, so its longest is what the
 * service's 10 ms loop budget meets at this state. `npm run bench:gc` runs with the flags the
 * service ships with (package.json `config.nodeFlags`) and makes the server's scavenge choice
 * (src/gc-threads.ts; a `--parallel-scavenge` on the command line overrides it); run it with
 * others to compare young generation sizes or collectors (V8's young-generation mark-sweep,
 * `--minor-ms`, promotes pages whose objects mostly survive instead of copying them; it is
 * refused in NODE_OPTIONS):
 *
 *   npm run bench:gc [-- --orders 400000]
 *   npx tsc -p tsconfig.bench.json && npx node dist-bench/bench/gc-pauses.bench.js   (Node's defaults)
 *   npx node --max-semi-space-size=8 dist-bench/bench/gc-pauses.bench.js
 *   npx node --minor-ms dist-bench/bench/gc-pauses.bench.js
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { NodeGCPerformanceDetail } from 'node:perf_hooks';
import { applyScavengeThreads, describeScavengeThreads } from '../src/gc-threads.js';
import { ACCOUNTS, checkNext, steadyFlow } from './engine-fixture.js';
import { wholeNumberOption } from './options.js';

const WARMUP_ORDERS = 150_000;

async function main(): Promise<void> {
  const orders = wholeNumberOption('orders', 400_000);
  // As the server does at start-up: on a host of two cores or fewer, scavenges without helper threads.
  const scavenges = describeScavengeThreads(applyScavengeThreads());
  const { engine, flow } = steadyFlow(ACCOUNTS, 1_000, WARMUP_ORDERS);

  let young = 0;
  let youngMs = 0;
  let longestMs = 0;
  let major = 0;
  let majorLongestMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { kind } = (entry as unknown as { detail: NodeGCPerformanceDetail }).detail;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR || kind === constants.NODE_PERFORMANCE_GC_MINOR_MARK_SWEEP) {
        young++;
        youngMs += entry.duration;
        longestMs = Math.max(longestMs, entry.duration);
      } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        major++;
        majorLongestMs = Math.max(majorLongestMs, entry.duration);
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const started = performance.now();
  for (let i = 0; i < orders; i++) checkNext(engine, flow);
  const ms = performance.now() - started;
  // The observer hears of the last collections on a later turn.
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].filter((f) => f.includes('semi-space') || f === '--minor-ms');
  console.log(
    `gc over ${orders} checks of the engine bench's flow (${ms.toFixed(0)} ms; node ${flags.join(' ') || 'default young generation'}): ` +
      `${young} young-generation collections, ${youngMs.toFixed(0)} ms in all, longest ${longestMs.toFixed(1)} ms; ${major} full collections, longest ${majorLongestMs.toFixed(1)} ms; ${scavenges}`,
  );
}

await main();
