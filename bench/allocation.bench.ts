/**
 * What a check allocates, from V8's sampling heap profiler: bytes per check, in total and by
 * allocation site, garbage included. Allocation drives how often the young generation is
 * collected, and unlike time it barely depends on the host, so a change shows here even when
 * the timing benches cannot see it. The figures are sampled (one sample per 256 bytes on
 * average), so they move by a few per cent between runs. (The profiler's view of what
 * survives a collection, `includeObjectsCollectedByMinorGC: false`, kept objects that are
 * garbage at once, such as each check's result: it is not reported.)
 *
 *   npm run bench:alloc [-- --accounts 10000] [--limits 1000] [--orders 100000]
 */
import type { HeapProfiler } from 'node:inspector';
import { Session } from 'node:inspector/promises';
import { checkNext, steadyFlow } from './engine-fixture.js';
import { wholeNumberOption } from './options.js';
import { collectGarbage } from './stats.js';

const WARMUP_ORDERS = 150_000;
const SAMPLING_INTERVAL_BYTES = 256;
const TOP_SITES = 10;

type ProfileNode = HeapProfiler.SamplingHeapProfileNode;

/**
 * Bytes per allocation site (function @ file:line), of what was allocated inside the check
 * only: under `checkOrder`, or under `checkAt` where the compiler inlined checkOrder away.
 */
function bySite(root: ProfileNode): Map<string, number> {
  const sites = new Map<string, number>();
  const visit = (node: ProfileNode, isInCheck: boolean): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    const isIn = isInCheck || functionName === 'checkOrder' || functionName === 'checkAt';
    if (isIn && node.selfSize > 0) {
      const site = `${functionName || '(anonymous)'} @ ${url.split('/').slice(-2).join('/') || '(native)'}:${lineNumber + 1}`;
      sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) visit(child, isIn);
  };
  visit(root, false);
  return sites;
}

async function main(): Promise<void> {
  const accounts = wholeNumberOption('accounts', 10_000);
  const limits = wholeNumberOption('limits', 1_000);
  const orders = wholeNumberOption('orders', 100_000);
  const { engine, flow } = steadyFlow(accounts, limits, WARMUP_ORDERS);

  // The flow runs as in the engine bench (time advances, windows are swept, orders retired),
  // so the windows and maps are at their steady size, churning rather than growing; only what
  // is allocated inside the check is counted (not the flow's order building and housekeeping).
  const session = new Session();
  session.connect();
  collectGarbage();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: SAMPLING_INTERVAL_BYTES,
    includeObjectsCollectedByMinorGC: true,
    includeObjectsCollectedByMajorGC: true,
  });
  let rejected = 0;
  for (let i = 0; i < orders; i++) if (!checkNext(engine, flow)) rejected++;
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  // A rejection allocates differently (violations, no open order): the figure is for the bench's accepting flow.
  if (rejected > orders / 100) throw new Error(`${rejected} of ${orders} sampled orders were rejected: not the bench's accepting flow`);
  const sites = bySite(profile.head);

  const perCheck = (bytes: number): string => (bytes / orders).toFixed(0).padStart(7);
  const total = [...sites.values()].reduce((a, b) => a + b, 0);
  console.log(`allocation per check: ${accounts} accounts, ${limits}-limit book, ${orders} checks sampled (every ~${SAMPLING_INTERVAL_BYTES} B)`);
  console.log(`allocated ${perCheck(total).trim()} B/check; top sites, B/check:`);
  for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, TOP_SITES)) console.log(`${perCheck(bytes)}  ${site}`);
}

await main();
