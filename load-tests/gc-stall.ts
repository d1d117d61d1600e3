/**
 * Where the service's event-loop stalls come from, against a service started with `--trace-gc`.
 *
 * Batches (the default): 10,000-order batches one after another (durability off), the flow's
 * executions closing each batch's orders before the next, as the batch scenario's retire does.
 * Per batch it prints the request's time, the loop's longest stall (as the batch scenario reads
 * it) and the pause of every garbage collection V8 ran meanwhile (S: young generation, M: full;
 * with durability off there is no snapshot worker, so every one is the main thread's): the
 * stall follows the longest.
 *
 * Paced (`--paced RATE`, a multiple of 50): single checks offered at RATE a second for
 * `--seconds`, as the sustained scenario sends them, after `--warm-up` seconds of the same
 * (20 by default; 0 for none), durability as shipped unless `--durability` says otherwise. It prints the latency percentiles beside each isolate's collections, the
 * busiest first (under single checks the main thread: the snapshot worker allocates far less):
 * how often, how long at the median, the 90th percentile and the longest pause, and the share
 * of the run spent in those pauses (the collecting thread's pause only: a full collection's
 * incremental marking steps before it are not counted).
 *
 *   npm run load:gc-stall [-- --batches 5] [--service-dist DIR] [--semi-space-mb 16]
 *   npm run load:gc-stall -- --paced 5000 [--seconds 30] [--warm-up 20] [--durability off|async|fsync] [--service-dist DIR] [--semi-space-mb 16]
 */
import { parseArgs } from 'node:util';
import { runLoad } from './cannon.js';
import { gcPauses, isolatesByCollections, summarisePauses } from './gc-trace.js';
import type { GcPause } from './gc-trace.js';
import { productionNodeFlags, send, startService } from './processes.js';
import type { ServiceTarget } from './processes.js';
import { loadSpec } from './scenarios.js';
import { OrderFlow, World } from './world.js';
import type { Durability } from './world.js';

const ORDERS = 10_000;
/** Connections of a paced run, each a lane of its own at rate / LANES (see runLoad). */
const LANES = 50;
/** Bounds what the tap keeps: a paced run of at most this long at one line per collection. */
const MAX_PACED_SECONDS = 600;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      batches: { type: 'string' },
      paced: { type: 'string' },
      seconds: { type: 'string' },
      'warm-up': { type: 'string' },
      durability: { type: 'string' },
      'service-dist': { type: 'string' },
      'semi-space-mb': { type: 'string' },
    },
  });
  const semi = values['semi-space-mb'];
  const flags = [...(semi === undefined ? productionNodeFlags() : [`--max-semi-space-size=${wholeNumber('--semi-space-mb', semi, 1_024)}`]), '--trace-gc'];
  const dist = values['service-dist'] === undefined ? {} : { dist: values['service-dist'] };
  const world = new World();
  if (values.paced !== undefined) {
    if (values.batches !== undefined) throw new Error('--batches is for batches, not --paced');
    const rate = wholeNumber('--paced', values.paced, 1_000_000);
    if (rate % LANES !== 0) throw new Error(`--paced must be a multiple of ${LANES} (one lane a connection, each at a whole rate), got ${rate}`);
    const seconds = wholeNumber('--seconds', values.seconds ?? '30', MAX_PACED_SECONDS);
    const warmUp = values['warm-up'] === '0' ? 0 : wholeNumber('--warm-up', values['warm-up'] ?? '20', MAX_PACED_SECONDS);
    const durability = values.durability === undefined ? {} : { durability: durabilityOf(values.durability) };
    await paced(await startService({ world, nodeFlags: flags, ...dist, ...durability }), world, { rate, seconds, warmUp });
    return;
  }
  if (values.seconds !== undefined || values['warm-up'] !== undefined || values.durability !== undefined) {
    throw new Error('--seconds, --warm-up and --durability are for --paced; batches run with durability off');
  }
  const batches = wholeNumber('--batches', values.batches ?? '5', 100);
  const service = await startService({ world, durability: 'off', nodeFlags: flags, ...dist });
  const trace = tap(service);
  try {
    const flow = new OrderFlow(world, 'G-');
    for (let i = 0; i < batches; i++) {
      process.stdout.write(`${await oneBatch(service, trace, flow.batch(ORDERS))}\n`);
      await send(service, 'POST', '/v1/executions', { events: flow.executions(flow.issued - ORDERS, flow.issued) });
    }
  } finally {
    await service.stop();
  }
}

function wholeNumber(name: string, value: string, max: number): number {
  const n = Number(value);
  if (!(Number.isInteger(n) && n > 0 && n <= max)) throw new Error(`${name} must be 1 to ${max}, got ${value}`);
  return n;
}

function durabilityOf(value: string): Durability {
  if (value !== 'off' && value !== 'async' && value !== 'fsync') throw new Error(`--durability takes off, async or fsync, got ${value}`);
  return value;
}

/** The service's stdout from now on, whole (the target's own `output` keeps only its last chunks). */
function tap(service: ServiceTarget): string[] {
  const chunks: string[] = [];
  service.process.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return chunks;
}

async function oneBatch(service: ServiceTarget, trace: string[], body: string): Promise<string> {
  const idle = await service.metrics(); // also resets the loop-delay histogram
  const mark = trace.length;
  const started = performance.now();
  const response = await fetch(`${service.url}/v1/checks/batch`, {
    method: 'POST',
    headers: { ...service.headers, 'content-type': 'application/json', 'x-deadline-ms': '30000' },
    body,
    signal: AbortSignal.timeout(60_000),
  });
  await response.arrayBuffer();
  const ms = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 50));
  const after = await service.metrics();
  const tick = Math.min(idle.value('nodejs_eventloop_lag_min_seconds'), after.value('nodejs_eventloop_lag_min_seconds'));
  const stallMs = (after.value('nodejs_eventloop_lag_max_seconds') - tick) * 1_000;
  const pauses = gcPauses(trace.slice(mark).join('')).map(({ kind, ms }) => `${kind === 'full' ? 'M' : 'S'}${ms.toFixed(1)}`);
  return `batch of ${ORDERS}: ${response.status} in ${ms.toFixed(0)} ms, loop stall ${stallMs.toFixed(1)} ms; collections: ${pauses.join(' ') || 'none'}`;
}

async function paced(service: ServiceTarget, world: World, { rate, seconds, warmUp }: { rate: number; seconds: number; warmUp: number }): Promise<void> {
  try {
    const flow = new OrderFlow(world, 'P-');
    // Untimed first: a service just started is still compiling, growing its heap and (durability
    // on) its snapshot worker still catching up, all of which reach a short run's tail.
    if (warmUp > 0) await runLoad(loadSpec(service, 'single', flow, { rate, durationS: warmUp, connections: LANES }));
    const trace = tap(service);
    const run = await runLoad(loadSpec(service, 'single', flow, { rate, durationS: seconds, connections: LANES }));
    const { p50Ms, p90Ms, p99Ms, p999Ms, maxMs } = run.latency;
    process.stdout.write(
      `${rate} checks/s offered for ${seconds} s: ${run.requests} answered (${run.requestsPerSecond} a second), non-2xx ${run.non2xx}, ` +
        `errors ${run.errors}, timeouts ${run.timeouts}; p50 ${p50Ms} ms, p90 ${p90Ms}, p99 ${p99Ms}, p99.9 ${p999Ms}, max ${maxMs}\n`,
    );
    const pauses = gcPauses(trace.join(''));
    isolatesByCollections(pauses).forEach((isolate, i) => {
      process.stdout.write(`${i === 0 ? `isolate ${isolate}, the busiest (taken as the main thread)` : `isolate ${isolate}`}:\n`);
      for (const kind of ['scavenge', 'minor-ms', 'full'] as const) {
        const line = pauseLine(pauses, isolate, kind, seconds);
        if (line !== undefined) process.stdout.write(`  ${line}\n`);
      }
    });
  } finally {
    await service.stop();
  }
}

function pauseLine(pauses: readonly GcPause[], isolate: string, kind: GcPause['kind'], seconds: number): string | undefined {
  const ms = pauses.filter((p) => p.isolate === isolate && p.kind === kind).map((p) => p.ms);
  if (ms.length === 0) return undefined;
  const s = summarisePauses(ms, seconds);
  const name = { scavenge: 'young (scavenge)', 'minor-ms': 'young (mark-sweep)', full: 'full' }[kind];
  return (
    `${name}: ${s.count} (${s.perSecond.toFixed(2)}/s), median ${s.medianMs.toFixed(2)} ms, p90 ${s.p90Ms.toFixed(2)}, ` +
    `longest ${s.maxMs.toFixed(2)}, ${s.totalMs.toFixed(0)} ms in all (${(100 * s.share).toFixed(2)} % of the run)`
  );
}

await main();
