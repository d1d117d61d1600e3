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
import { Session } from 'node:inspector/promises';
import { checkNext, steadyFlow } from './engine-fixture.js';
import { bytesBySite, printSites } from './heap-sites.js';
import { wholeNumberOption } from './options.js';
import { collectGarbage } from './stats.js';

const WARMUP_ORDERS = 150_000;
const SAMPLING_INTERVAL_BYTES = 256;
const TOP_SITES = 10;

/** Frames the check runs in: checkOrder, or checkAt where the compiler inlined checkOrder away. */
const isCheck = (functionName: string): boolean => functionName === 'checkOrder' || functionName === 'checkAt';

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
  const sites = bytesBySite(profile.head, isCheck);
  console.log(`allocation per check: ${accounts} accounts, ${limits}-limit book, ${orders} checks sampled (every ~${SAMPLING_INTERVAL_BYTES} B)`);
  printSites(sites, orders, 'check', TOP_SITES);
}

await main();
