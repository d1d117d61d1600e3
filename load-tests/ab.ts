/**
 * Two sides of the service in one sitting (two builds, or one build under two sets of Node
 * flags): both started once on the load tests' world (durability as shipped), then round after
 * round a short closed-loop (or paced) run against the bare route, then against each side, the
 * sides' order alternating. The host is shared and noisy, and its load swings more between runs
 * minutes apart than most changes move a figure; turns seconds apart, and the ratio of the sides
 * within each round, are what a change can be read from. Per side it prints the median over the rounds of requests a second, of its
 * ratio to the bare route's run of that round, and of the CPU a request of the whole process, of
 * its main thread, of the main thread in the kernel, of the snapshot worker, of V8's helper threads
 * and of libuv's pool (from /proc, per thread; Linux only), and the sides' ratio round by round.
 *
 * The other side is another build (`--against`), this build with other Node flags
 * (`--other-node-flags`, in place of package.json's config.nodeFlags, split on spaces: a flag's
 * value cannot hold one), or both.
 *
 *   npm run load:ab -- --against <other build's dist> [--rounds 8] [--seconds 3] [--batch] [--rate 5000]
 *   npm run load:ab -- --other-node-flags="--max-semi-space-size=16 --heap-growing-percent=100" (with the =)
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from '../bench/stats.js';
import { runLoad } from './cannon.js';
import { productionNodeFlags, startBaseline, startService } from './processes.js';
import { loadSpec } from './scenarios.js';
import { threadTimes } from './thread-times.js';
import type { ThreadTimes } from './thread-times.js';
import type { Target } from './processes.js';
import { OrderFlow, World } from './world.js';

interface Side {
  readonly name: string;
  readonly target: Target;
  readonly flow: OrderFlow;
  readonly rounds: Measured[];
}

interface Measured {
  requestsPerSecond: number;
  /** This run's requests a second over the bare route's in the same round. */
  ratio: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU microseconds a request, by thread as threadTimes counts it (NaN off Linux). */
  cpuUs: ThreadTimes;
}

async function measure(side: Side, options: { seconds: number; batch: boolean; rate: number | undefined }, bare?: Measured): Promise<Measured> {
  const pid = side.target.process.pid!;
  const spec = loadSpec(side.target, options.batch ? 'batch-100' : 'single', side.flow, {
    title: side.name,
    durationS: options.seconds,
    ...(options.rate === undefined ? {} : { rate: options.rate }),
  });
  const before = threadTimes(pid);
  const run = await runLoad(spec);
  const after = threadTimes(pid);
  const cpuUs = { ...after };
  for (const key of Object.keys(cpuUs) as (keyof ThreadTimes)[]) cpuUs[key] = run.requests === 0 ? Number.NaN : ((after[key] - before[key]) * 1_000) / run.requests;
  return {
    requestsPerSecond: run.requestsPerSecond,
    ratio: bare === undefined ? 1 : run.requestsPerSecond / bare.requestsPerSecond,
    p50Ms: run.latency.p50Ms,
    p99Ms: run.latency.p99Ms,
    cpuUs,
  };
}

const fixed = (value: number, digits: number): string => (Number.isNaN(value) ? '-' : value.toFixed(digits));

function summary(side: Side): string {
  const of = (pick: (m: Measured) => number): number => median(side.rounds.map(pick));
  const cpu = (key: keyof ThreadTimes): string => fixed(of((m) => m.cpuUs[key]), 1);
  return (
    `${side.name.padEnd(6)} ${fixed(of((m) => m.requestsPerSecond), 0).padStart(7)} req/s, ${fixed(of((m) => m.ratio), 3)} of the bare route; ` +
    `CPU µs a request ${cpu('all')} (main thread ${cpu('main')}, in the kernel ${cpu('mainKernel')}; ` +
    `snapshot worker ${cpu('workers')}, V8 helpers ${cpu('v8Helpers')}, libuv pool ${cpu('libuvPool')}); ` +
    `p50 ${fixed(of((m) => m.p50Ms), 3)} ms, p99 ${fixed(of((m) => m.p99Ms), 3)} ms`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      against: { type: 'string' },
      'other-node-flags': { type: 'string' },
      rounds: { type: 'string', default: '8' },
      seconds: { type: 'string', default: '3' },
      batch: { type: 'boolean', default: false },
      rate: { type: 'string' },
    },
  });
  const otherFlags = values['other-node-flags']?.split(/\s+/).filter((flag) => flag !== '');
  if (otherFlags !== undefined && (otherFlags.length === 0 || otherFlags.some((flag) => !flag.startsWith('-')))) {
    throw new Error(`--other-node-flags must be Node flags, each starting with -, got "${values['other-node-flags']}"`);
  }
  if (values.against === undefined && otherFlags === undefined) {
    throw new Error('--against <dist> (another build: a folder like dist/, with server.js) or --other-node-flags="<flags>" (this build with them) is required');
  }
  const against = values.against === undefined ? undefined : resolve(values.against);
  if (against !== undefined && !existsSync(resolve(against, 'server.js'))) throw new Error(`${against}/server.js is missing: build that checkout first`);
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 100)) throw new Error(`--rounds must be 1 to 100, got ${values.rounds}`);
  if (!(seconds >= 1 && seconds <= 60)) throw new Error(`--seconds must be 1 to 60, got ${values.seconds}`);
  if (rate !== undefined && !(Number.isInteger(rate) && rate >= 1 && rate <= 100_000)) throw new Error(`--rate must be 1 to 100000 requests a second, got ${values.rate}`);
  const options = { seconds, batch: values.batch, rate };

  const world = new World();
  const started: Target[] = [];
  try {
    const thisSide = await startService({ world });
    started.push(thisSide);
    const otherSide = await startService({ world, ...(against === undefined ? {} : { dist: against }), ...(otherFlags === undefined ? {} : { nodeFlags: otherFlags }) });
    started.push(otherSide);
    const bareTarget = await startBaseline();
    started.push(bareTarget);
    const sides: Side[] = [
      { name: 'this', target: thisSide, flow: new OrderFlow(world, 'ab-this-'), rounds: [] },
      { name: 'other', target: otherSide, flow: new OrderFlow(world, 'ab-other-'), rounds: [] },
    ];
    const bare: Side = { name: 'bare', target: bareTarget, flow: new OrderFlow(world, 'ab-bare-'), rounds: [] };
    // A first run each, untimed: connections, the JIT and the first young collections.
    for (const side of [...sides, bare]) await measure(side, { ...options, seconds: 1 });
    console.log(
      `${values.batch ? 'batches of 100, 8 connections' : 'single checks, 20 connections'}${rate === undefined ? ', closed loop' : `, paced at ${rate} req/s`}; ` +
        `${rounds} rounds of ${seconds} s a side; this = node ${productionNodeFlags().join(' ')} dist; ` +
        `other = node ${(otherFlags ?? productionNodeFlags()).join(' ')} ${against ?? 'dist'}`,
    );
    console.log(`this: ${thisSide.scavenges}; other: ${otherSide.scavenges}`);
    for (let round = 0; round < rounds; round++) {
      const bareRun = await measure(bare, options);
      bare.rounds.push(bareRun);
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) side.rounds.push(await measure(side, options, bareRun));
      const [a, b] = sides.map((side) => side.rounds.at(-1)!);
      console.log(`round ${round + 1}: bare ${fixed(bareRun.requestsPerSecond, 0)} req/s; this ${fixed(a!.requestsPerSecond, 0)}, other ${fixed(b!.requestsPerSecond, 0)}; this / other ${fixed(a!.requestsPerSecond / b!.requestsPerSecond, 3)}`);
    }
    for (const side of [...sides, bare]) console.log(summary(side));
    const ratios = sides[0]!.rounds.map((m, i) => m.requestsPerSecond / sides[1]!.rounds[i]!.requestsPerSecond);
    console.log(`this / other, req/s: median ${fixed(median(ratios), 3)} (rounds ${ratios.map((r) => fixed(r, 3)).join(' ')}; faster in ${ratios.filter((r) => r > 1).length} of ${ratios.length})`);
  } finally {
    for (const target of started.reverse()) await target.stop();
  }
}

await main();
