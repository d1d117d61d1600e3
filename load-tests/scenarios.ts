import { round, runLoad } from './cannon.js';
import type { LoadSpec, RunResult } from './cannon.js';
import { send, startService } from './processes.js';
import type { ServiceTarget, Target } from './processes.js';
import { ACCOUNTS, OrderFlow } from './world.js';
import type { Durability, World } from './world.js';

export const SCENARIOS = ['baseline', 'burst', 'sustained', 'concurrency', 'batch', 'soak', 'durability'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Durations {
  /** Seconds of each closed-loop throughput run. */
  throughputS: number;
  /** Seconds at the fixed offered rate. */
  sustainedS: number;
  sustainedRate: number;
  concurrencyS: number;
  soakS: number;
  soakRate: number;
  /** Seconds between memory samples in the soak. */
  soakSampleS: number;
  /** Orders in the burst (10,000 within 1 s is the goal). */
  burstOrders: number;
}

export const SHORT: Durations = {
  throughputS: 5,
  sustainedS: 10,
  sustainedRate: 5_000,
  concurrencyS: 5,
  soakS: 60,
  soakRate: 5_000,
  soakSampleS: 2,
  burstOrders: 10_000,
};

export interface Context {
  readonly world: World;
  readonly service: ServiceTarget;
  readonly baseline: Target;
  readonly durations: Durations;
  /** Order flows per target: one id space each; the service's is retired between runs. */
  readonly flows: { service: OrderFlow; baseline: OrderFlow };
  retiredUpTo: number;
  readonly durability: Durability | undefined;
  readonly serviceNodeFlags: readonly string[] | undefined;
  readonly log: (line: string) => void;
}

export interface MemorySample {
  seconds: number;
  rssBytes: number;
  heapUsedBytes: number;
  openOrders: number;
}

export interface ScenarioResult {
  name: ScenarioName;
  runs: RunResult[];
  /** Headline figures, each also a ratio to the baseline measured in the same run where one applies. */
  figures: Record<string, number | string | boolean>;
  memory?: MemorySample[];
  /** A summary table for the Markdown report (after the notes). */
  table?: { columns: string[]; rows: (string | number)[][] };
  /** Latency charts for the HTML report, each over the runs with these titles; one chart of every run when absent. */
  charts?: { title: string; runTitles: string[] }[];
  notes: string[];
}

export type Kind = 'single' | 'batch-100' | 'batch-1000';

/** The load of one kind of request on a target, from `flow`: what every scenario and load:ab run. */
export function loadSpec(target: Target, kind: Kind, flow: OrderFlow, extra: Partial<LoadSpec> = {}): LoadSpec {
  const size = kind === 'single' ? 1 : kind === 'batch-100' ? 100 : 1_000;
  return {
    title: `${kind} ${target.name}`,
    target,
    path: size === 1 ? '/v1/checks' : '/v1/checks/batch',
    body: size === 1 ? () => flow.next() : () => flow.batch(size),
    ordersPerRequest: size,
    // A gateway sending batches gives them a budget that fits them (the 50 ms default is for one order).
    ...(size === 1 ? {} : { headers: { 'x-deadline-ms': '5000' } }),
    connections: size === 1 ? 20 : 8,
    ...extra,
  };
}

function spec(ctx: Context, target: Target, kind: Kind, extra: Partial<LoadSpec>, flow: OrderFlow = ctx.flows[target.name]): LoadSpec {
  return loadSpec(target, kind, flow, { durationS: ctx.durations.throughputS, ...extra });
}

/**
 * Closes every order the service accepted so far (3 in 4 cancelled, 1 in 4 filled) between
 * runs, untimed, so each run starts from a like state rather than from every earlier order.
 */
export async function retire(ctx: Context): Promise<void> {
  ctx.retiredUpTo = await retireOrders(ctx.service, ctx.flows.service, ctx.retiredUpTo);
}

/** Closes a flow's orders `from` … its last issued on `service`; returns up to where it retired. */
async function retireOrders(service: Target, flow: OrderFlow, from: number): Promise<number> {
  const to = flow.issued;
  for (let at = from; at < to; at += 10_000) {
    await send(service, 'POST', '/v1/executions', { events: flow.executions(at, Math.min(at + 10_000, to)) });
  }
  return to;
}

async function measure(ctx: Context, load: LoadSpec, afterRun?: () => Promise<void>): Promise<RunResult> {
  const run = await runLoad(load);
  ctx.log(
    `  ${run.title.padEnd(28)} ${String(run.requestsPerSecond).padStart(7)} req/s ${String(run.ordersPerSecond).padStart(8)} orders/s` +
      `  p50 ${run.latency.p50Ms} ms  p99 ${run.latency.p99Ms} ms  cpu ${run.cpuMicrosPerRequest} µs/req  non2xx ${run.non2xx}`,
  );
  if (afterRun !== undefined) await afterRun();
  else if (load.target.name === 'service') await retire(ctx);
  return run;
}

/** Un-measured load on both targets, so neither is measured while V8 still compiles it. */
export async function warmUp(ctx: Context): Promise<void> {
  for (const target of [ctx.baseline, ctx.service]) {
    for (const kind of ['single', 'batch-100'] as const) {
      await runLoad(spec(ctx, target, kind, { durationS: 1 }));
      if (target.name === 'service') await retire(ctx);
    }
  }
}

const ratio = (service: number, baseline: number): number => (baseline === 0 ? 0 : round(service / baseline, 3));
const meanOf = (runs: RunResult[], pick: (r: RunResult) => number): number => runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;

/** Baseline, service, baseline: the service's figure against the mean of the two around it. */
async function sideBySide(ctx: Context, kind: Kind, extra: Partial<LoadSpec> = {}): Promise<{ runs: RunResult[]; figures: Record<string, number> }> {
  const before = await measure(ctx, spec(ctx, ctx.baseline, kind, { ...extra, title: `${kind} baseline (before)` }));
  const service = await measure(ctx, spec(ctx, ctx.service, kind, extra));
  const after = await measure(ctx, spec(ctx, ctx.baseline, kind, { ...extra, title: `${kind} baseline (after)` }));
  const baselineOps = meanOf([before, after], (r) => r.ordersPerSecond);
  return {
    runs: [before, service, after],
    figures: {
      [`${kind}.service.ordersPerSecond`]: service.ordersPerSecond,
      [`${kind}.baseline.ordersPerSecond`]: round(baselineOps, 0),
      [`${kind}.throughputRatio`]: ratio(service.ordersPerSecond, baselineOps),
      [`${kind}.cpuPerRequestRatio`]: ratio(service.cpuMicrosPerRequest, meanOf([before, after], (r) => r.cpuMicrosPerRequest)),
      [`${kind}.service.p99Ms`]: service.latency.p99Ms,
      [`${kind}.rateLimited`]: service.rateLimited,
    },
  };
}

export async function baselineScenario(ctx: Context): Promise<ScenarioResult> {
  const single = await sideBySide(ctx, 'single');
  const batch = await sideBySide(ctx, 'batch-100');
  return {
    name: 'baseline',
    runs: [...single.runs, ...batch.runs],
    figures: { ...single.figures, ...batch.figures },
    notes: ['Closed loop: 20 connections for single checks, 8 for batches. Ratios: service ÷ mean of the bare baseline measured right before and after it.'],
  };
}

export async function burstScenario(ctx: Context): Promise<ScenarioResult> {
  const amount = ctx.durations.burstOrders;
  const extra = { amount, connections: 100, durationS: undefined };
  const baseline = await measure(ctx, { ...spec(ctx, ctx.baseline, 'single', extra), title: 'burst baseline' });
  const service = await measure(ctx, { ...spec(ctx, ctx.service, 'single', extra), title: 'burst service' });
  return {
    name: 'burst',
    runs: [baseline, service],
    figures: {
      orders: amount,
      'service.seconds': service.seconds,
      // Every check answered with a 2xx, and the last within a second.
      'service.withinOneSecond': service.seconds <= 1 && service.requests === amount && service.non2xx === 0 && service.errors === 0,
      'baseline.seconds': baseline.seconds,
      throughputRatio: ratio(service.requestsPerSecond, baseline.requestsPerSecond),
      'service.p99Ms': service.latency.p99Ms,
      'service.maxMs': service.latency.maxMs,
      rateLimited: service.rateLimited,
    },
    notes: [`${amount} single checks over 100 connections, as fast as answered.`],
  };
}

export async function sustainedScenario(ctx: Context): Promise<ScenarioResult> {
  const { sustainedRate: rate, sustainedS: durationS } = ctx.durations;
  const extra = { rate, durationS, connections: 50 };
  const baseline = await measure(ctx, { ...spec(ctx, ctx.baseline, 'single', extra), title: `sustained ${rate}/s baseline` });
  const service = await measure(ctx, { ...spec(ctx, ctx.service, 'single', extra), title: `sustained ${rate}/s service` });
  return {
    name: 'sustained',
    runs: [baseline, service],
    figures: {
      offeredRate: rate,
      seconds: durationS,
      'service.requestsPerSecond': service.requestsPerSecond,
      'service.p50Ms': service.latency.p50Ms,
      'service.p90Ms': service.latency.p90Ms,
      'service.p99Ms': service.latency.p99Ms,
      'service.p999Ms': service.latency.p999Ms,
      'service.maxMs': service.latency.maxMs,
      'baseline.p50Ms': baseline.latency.p50Ms,
      'baseline.p99Ms': baseline.latency.p99Ms,
      p99Ratio: ratio(service.latency.p99Ms, baseline.latency.p99Ms),
      rateLimited: service.rateLimited,
    },
    notes: [`${rate} req/s offered for ${durationS} s in 50 single-connection lanes whose seconds are staggered by 20 ms.`],
  };
}

export async function concurrencyScenario(ctx: Context): Promise<ScenarioResult> {
  const runs: RunResult[] = [];
  for (const target of [ctx.baseline, ctx.service]) {
    const flow = ctx.flows[target.name];
    let next = 0;
    runs.push(
      await measure(ctx, {
        ...spec(ctx, target, 'single', { connections: 1_000, durationS: ctx.durations.concurrencyS }),
        title: `concurrency ${target.name}`,
        // Each connection is one strategy's gateway session: 10 connections per strategy.
        body: (context) => flow.nextFor((context.strategy ??= next++ % ACCOUNTS) as number),
      }),
    );
  }
  const [baseline, service] = runs as [RunResult, RunResult];
  return {
    name: 'concurrency',
    runs,
    figures: {
      strategies: ACCOUNTS,
      connections: 1_000,
      'service.requestsPerSecond': service.requestsPerSecond,
      throughputRatio: ratio(service.requestsPerSecond, baseline.requestsPerSecond),
      'service.p50Ms': service.latency.p50Ms,
      'service.p99Ms': service.latency.p99Ms,
      'baseline.p99Ms': baseline.latency.p99Ms,
      errors: service.errors,
      rateLimited: service.rateLimited,
    },
    notes: ['1,000 connections, 100 strategies (10 connections each), closed loop.'],
  };
}

/** The largest event-loop stall a 10,000-order batch causes, seen by the server and by a probe. */
async function eventLoopDuringBatch(ctx: Context, orders: number): Promise<Record<string, number>> {
  let serverMaxMs = 0;
  let probeMaxMs = 0;
  let batchMs = 0;
  let accepted = 0;
  for (let rep = 0; rep < 3; rep++) {
    const body = ctx.flows.service.batch(orders);
    const idle = await ctx.service.metrics(); // also resets the server's event-loop histogram
    let isDone = false;
    const probe = (async () => {
      let max = 0;
      for (let i = 0; i < 100_000 && !isDone; i++) {
        const t0 = performance.now();
        await (await fetch(`${ctx.service.url}/healthz`, { signal: AbortSignal.timeout(30_000) })).arrayBuffer();
        max = Math.max(max, performance.now() - t0);
      }
      return max;
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const t0 = performance.now();
    const response = await fetch(`${ctx.service.url}/v1/checks/batch`, {
      method: 'POST',
      headers: { ...ctx.service.headers, 'content-type': 'application/json', 'x-deadline-ms': '30000' },
      body,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    batchMs = Math.max(batchMs, performance.now() - t0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    isDone = true;
    probeMaxMs = Math.max(probeMaxMs, await probe);
    const after = await ctx.service.metrics();
    if (response.status !== 200) throw new Error(`batch of ${orders}: ${response.status} ${text.slice(0, 500)}`);
    accepted += (JSON.parse(text) as { summary: { accepted: number } }).summary.accepted;
    // monitorEventLoopDelay reports the time between its 10 ms timer ticks: the stall is what exceeds the idle tick.
    const idleTick = Math.min(idle.value('nodejs_eventloop_lag_min_seconds'), after.value('nodejs_eventloop_lag_min_seconds'));
    serverMaxMs = Math.max(serverMaxMs, (after.value('nodejs_eventloop_lag_max_seconds') - idleTick) * 1_000);
    await retire(ctx);
  }
  ctx.log(`  event loop, ${orders}-order batch: server max stall ${round(serverMaxMs, 1)} ms, probe max ${round(probeMaxMs, 1)} ms, batch ${round(batchMs, 1)} ms`);
  return {
    [`batch-${orders}.eventLoopMaxStallMs`]: round(serverMaxMs, 1),
    [`batch-${orders}.probeMaxMs`]: round(probeMaxMs, 1),
    [`batch-${orders}.requestMs`]: round(batchMs, 1),
    [`batch-${orders}.accepted`]: accepted,
  };
}

export async function batchScenario(ctx: Context): Promise<ScenarioResult> {
  const hundred = await sideBySide(ctx, 'batch-100');
  const thousand = await sideBySide(ctx, 'batch-1000');
  const eventLoop = await eventLoopDuringBatch(ctx, 10_000);
  return {
    name: 'batch',
    runs: [...hundred.runs, ...thousand.runs],
    figures: { ...hundred.figures, ...thousand.figures, ...eventLoop },
    notes: [
      'Batches of 100 and 1,000 orders, closed loop over 8 connections, non-atomic.',
      'Event loop: three 10,000-order batches; the server-side stall is nodejs_eventloop_lag_max_seconds (monitorEventLoopDelay, 10 ms resolution) above its idle tick; the probe is a GET /healthz loop on another connection.',
    ],
  };
}

/**
 * A long run on a fresh service at a fixed rate with ever-new order ids while executions flow
 * (every 250 ms, orders older than ~1,000 are cancelled or filled), sampling RSS and heap.
 */
export async function soakScenario(ctx: Context): Promise<ScenarioResult> {
  const { soakS, soakRate, soakSampleS } = ctx.durations;
  // Closed order ids are remembered for the late-fill window, so memory can only level off after it.
  const ttlS = Math.max(5, Math.round(soakS / 6));
  const service = await startService({
    world: ctx.world,
    openOrderTtlMs: ttlS * 1_000,
    lateFillWindowMs: ttlS * 1_000,
    ...(ctx.durability === undefined ? {} : { durability: ctx.durability }),
    ...(ctx.serviceNodeFlags === undefined ? {} : { nodeFlags: ctx.serviceNodeFlags }),
  });
  try {
    const flow = new OrderFlow(ctx.world, `${ctx.flows.service.prefix}soak-`);
    const samples: MemorySample[] = [];
    const t0 = performance.now();
    const sample = async () => {
      const m = await service.metrics();
      samples.push({
        seconds: round((performance.now() - t0) / 1_000, 1),
        rssBytes: m.value('process_resident_memory_bytes'),
        heapUsedBytes: m.value('nodejs_heap_size_used_bytes'),
        openOrders: m.value('ulc_open_orders'),
      });
    };
    await sample();
    let executed = 0;
    let executions = 0;
    let isDone = false;
    const executionsLoop = (async () => {
      while (!isDone && performance.now() - t0 < (soakS + 30) * 1_000) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        const upTo = flow.issued - 1_000;
        for (let from = executed; from < upTo; from += 10_000) {
          await send(service, 'POST', '/v1/executions', { events: flow.executions(from, Math.min(from + 10_000, upTo)) });
          executions += Math.min(from + 10_000, upTo) - from;
        }
        executed = Math.max(executed, upTo);
      }
    })();
    const sampler = setInterval(() => void sample().catch(() => undefined), soakSampleS * 1_000);
    let run: RunResult;
    try {
      run = await runLoad({
        title: `soak ${soakRate}/s service`,
        target: service,
        path: '/v1/checks',
        body: () => flow.next(),
        connections: 50,
        rate: soakRate,
        durationS: soakS,
      });
    } finally {
      clearInterval(sampler);
      isDone = true;
      await executionsLoop;
    }
    await sample();
    const metrics = await service.metrics();
    ctx.log(`  soak: ${run.requests} checks, ${executions} executions, p99 ${run.latency.p99Ms} ms`);
    const memory = memoryTrend(samples);
    return {
      name: 'soak',
      runs: [run],
      figures: {
        seconds: soakS,
        offeredRate: soakRate,
        checks: run.requests,
        executions,
        'service.p50Ms': run.latency.p50Ms,
        'service.p99Ms': run.latency.p99Ms,
        ...memory,
        openOrdersAtEnd: metrics.value('ulc_open_orders'),
        rejected: metrics.sum('ulc_checks_total', 'decision="REJECT"'),
        rateLimited: run.rateLimited,
      },
      memory: samples,
      notes: [
        `Fresh service process, openOrderTtlMs and lateFillWindowMs ${ttlS * 1_000} (closed ids are remembered that long for late fills, so state is flat after about two TTLs). RSS start = mean of the samples in 35–50 % of the run; end = mean of the last 15 %.`,
        'Executions: 3 in 4 orders cancelled, 1 in 4 filled, each about 1,000 orders after it was sent.',
      ],
    };
  } finally {
    await service.stop();
  }
}

/** The journal modes the durability scenario compares, in the order it runs them. */
export const DURABILITIES = ['off', 'async', 'fsync'] as const satisfies readonly Durability[];

/**
 * Single checks and batches of 100 against three fresh service processes in turn, one per
 * journal mode (each with its own empty temp data directory), with the bare baseline measured
 * before, between and after them: each mode's ratio to bare uses the baseline runs on either side.
 */
export async function durabilityScenario(ctx: Context): Promise<ScenarioResult> {
  const runs: RunResult[] = [];
  const kinds = ['single', 'batch-100'] as const;
  type Pair = Record<(typeof kinds)[number], RunResult>;
  // Un-measured, so the first bare runs are not measured cold when this scenario runs alone.
  for (const kind of kinds) await runLoad(spec(ctx, ctx.baseline, kind, { durationS: 1 }));
  const bare = async (label: string): Promise<Pair> => {
    const pair = {} as Pair;
    for (const kind of kinds) pair[kind] = await measure(ctx, spec(ctx, ctx.baseline, kind, { title: `${kind} baseline (${label})` }));
    runs.push(pair.single, pair['batch-100']);
    return pair;
  };
  const bares: Pair[] = [await bare('before off')];
  const measured: { mode: Durability; startMs: number; pair: Pair }[] = [];
  for (const [i, mode] of DURABILITIES.entries()) {
    const service = await startService({ world: ctx.world, durability: mode, ...(ctx.serviceNodeFlags === undefined ? {} : { nodeFlags: ctx.serviceNodeFlags }) });
    try {
      const flow = new OrderFlow(ctx.world, `${ctx.flows.service.prefix}dur-${mode}-`);
      let retiredUpTo = 0;
      const retireHere = async () => {
        retiredUpTo = await retireOrders(service, flow, retiredUpTo);
      };
      for (const kind of kinds) {
        await runLoad(spec(ctx, service, kind, { durationS: 1 }, flow));
        await retireHere();
      }
      const pair = {} as Pair;
      for (const kind of kinds) pair[kind] = await measure(ctx, spec(ctx, service, kind, { title: `${kind} service (${mode})` }, flow), retireHere);
      runs.push(pair.single, pair['batch-100']);
      measured.push({ mode, startMs: service.startMs, pair });
    } finally {
      await service.stop();
    }
    bares.push(await bare(i === DURABILITIES.length - 1 ? `after ${mode}` : `between ${mode} and ${DURABILITIES[i + 1]!}`));
  }
  const off = measured[0]!.pair;
  const figures: Record<string, number> = {};
  const rows: (string | number)[][] = [];
  for (const [i, { mode, startMs, pair }] of measured.entries()) {
    const around = [bares[i]!, bares[i + 1]!];
    const single = pair.single;
    const batch = pair['batch-100'];
    const toBare = {
      single: ratio(single.requestsPerSecond, meanOf(around.map((b) => b.single), (r) => r.requestsPerSecond)),
      batch: ratio(batch.ordersPerSecond, meanOf(around.map((b) => b['batch-100']), (r) => r.ordersPerSecond)),
    };
    const toOff = { single: ratio(single.requestsPerSecond, off.single.requestsPerSecond), batch: ratio(batch.ordersPerSecond, off['batch-100'].ordersPerSecond) };
    Object.assign(figures, {
      [`${mode}.startMs`]: Math.round(startMs),
      [`${mode}.single.requestsPerSecond`]: single.requestsPerSecond,
      [`${mode}.single.p50Ms`]: single.latency.p50Ms,
      [`${mode}.single.p99Ms`]: single.latency.p99Ms,
      [`${mode}.single.cpuMicrosPerRequest`]: single.cpuMicrosPerRequest,
      [`${mode}.batch-100.ordersPerSecond`]: batch.ordersPerSecond,
      [`${mode}.batch-100.p99Ms`]: batch.latency.p99Ms,
      [`${mode}.single.ratioToOff`]: toOff.single,
      [`${mode}.batch-100.ratioToOff`]: toOff.batch,
      [`${mode}.single.throughputRatio`]: toBare.single,
      [`${mode}.batch-100.throughputRatio`]: toBare.batch,
      [`${mode}.non2xx`]: single.non2xx + batch.non2xx,
      [`${mode}.rateLimited`]: single.rateLimited + batch.rateLimited,
    });
    rows.push([
      mode,
      single.requestsPerSecond,
      single.latency.p50Ms,
      single.latency.p99Ms,
      single.cpuMicrosPerRequest,
      batch.ordersPerSecond,
      batch.latency.p99Ms,
      toOff.single,
      toOff.batch,
      toBare.single,
      toBare.batch,
    ]);
  }
  const bareSingle = bares.map((b) => b.single);
  const bareBatch = bares.map((b) => b['batch-100']);
  const mean = (list: RunResult[], pick: (r: RunResult) => number, digits: number) => round(meanOf(list, pick), digits);
  Object.assign(figures, {
    'baseline.single.requestsPerSecond': mean(bareSingle, (r) => r.requestsPerSecond, 0),
    'baseline.single.p50Ms': mean(bareSingle, (r) => r.latency.p50Ms, 3),
    'baseline.single.p99Ms': mean(bareSingle, (r) => r.latency.p99Ms, 3),
    'baseline.batch-100.ordersPerSecond': mean(bareBatch, (r) => r.ordersPerSecond, 0),
    // How much the bare baseline moved over the scenario: (max − min) ÷ mean of its single-check runs.
    'baseline.single.spread': round((Math.max(...bareSingle.map((r) => r.requestsPerSecond)) - Math.min(...bareSingle.map((r) => r.requestsPerSecond))) / meanOf(bareSingle, (r) => r.requestsPerSecond), 3),
  });
  rows.push([
    'bare Fastify (mean of 4)',
    figures['baseline.single.requestsPerSecond']!,
    figures['baseline.single.p50Ms']!,
    figures['baseline.single.p99Ms']!,
    mean(bareSingle, (r) => r.cpuMicrosPerRequest, 1),
    figures['baseline.batch-100.ordersPerSecond']!,
    mean(bareBatch, (r) => r.latency.p99Ms, 3),
    '–',
    '–',
    1,
    1,
  ]);
  const titles = (kind: string) => runs.filter((r) => r.title.startsWith(`${kind} `) && (r.target === 'service' || r.title.endsWith('(before off)'))).map((r) => r.title);
  return {
    name: 'durability',
    runs,
    figures,
    table: {
      columns: ['durability', 'single req/s', 'single p50 ms', 'single p99 ms', 'single CPU µs/req', 'batch-100 orders/s', 'batch-100 p99 ms', 'single ÷ off', 'batch ÷ off', 'single ÷ bare', 'batch ÷ bare'],
      rows,
    },
    charts: [
      { title: 'durability: single-check latency by percentile', runTitles: titles('single') },
      { title: 'durability: batch-100 latency by percentile', runTitles: titles('batch-100') },
    ],
    notes: [
      `A fresh service process per journal mode (${DURABILITIES.join(', ')}, in that order), each with its own empty temp data directory, warmed for 1 s per kind un-measured; the run's shared service and its --durability are not used here.`,
      'Closed loop as in the baseline scenario: 20 connections for single checks, 8 for batches of 100. The bare baseline runs before, between and after the three services.',
      '÷ off: the mode against the off service of this run. ÷ bare: against the mean of the bare runs right before and after that service.',
    ],
  };
}

/** RSS and heap at the start (after warm-in) and the end, and their growth. */
export function memoryTrend(samples: MemorySample[]): Record<string, number> {
  const last = samples[samples.length - 1];
  if (last === undefined) return {};
  const span = last.seconds;
  const mean = (from: number, to: number, pick: (s: MemorySample) => number) => {
    const window = samples.filter((s) => s.seconds >= from * span && s.seconds <= to * span);
    const chosen = window.length === 0 ? [last] : window;
    return chosen.reduce((sum, s) => sum + pick(s), 0) / chosen.length;
  };
  const rssStart = mean(0.35, 0.5, (s) => s.rssBytes);
  const rssEnd = mean(0.85, 1, (s) => s.rssBytes);
  const heapStart = mean(0.35, 0.5, (s) => s.heapUsedBytes);
  const heapEnd = mean(0.85, 1, (s) => s.heapUsedBytes);
  const mb = (bytes: number) => round(bytes / 1_048_576, 1);
  return {
    'rss.firstMB': mb(samples[0]!.rssBytes),
    'rss.startMB': mb(rssStart),
    'rss.endMB': mb(rssEnd),
    'rss.maxMB': mb(Math.max(...samples.map((s) => s.rssBytes))),
    'rss.growth': round(rssEnd / rssStart - 1, 3),
    'heap.startMB': mb(heapStart),
    'heap.endMB': mb(heapEnd),
    'heap.growth': round(heapEnd / heapStart - 1, 3),
  };
}

export const RUNNERS: Record<ScenarioName, (ctx: Context) => Promise<ScenarioResult>> = {
  baseline: baselineScenario,
  burst: burstScenario,
  sustained: sustainedScenario,
  concurrency: concurrencyScenario,
  batch: batchScenario,
  soak: soakScenario,
  durability: durabilityScenario,
};

