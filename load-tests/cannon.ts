import autocannon from 'autocannon';
import type { AutocannonInstance, AutocannonOptions, AutocannonResult } from 'autocannon';
import type { Target } from './processes.js';

/**
 * Latency histogram with logarithmic buckets 2 % wide from 5 µs: fine enough for a p99 at
 * a fraction of a millisecond, fixed in size however long the run. Values are milliseconds.
 */
export class LatencyHistogram {
  static readonly FIRST_MS = 0.005;
  static readonly GROWTH = 1.02;
  private static readonly BUCKETS = 1_100;
  readonly counts = new Float64Array(LatencyHistogram.BUCKETS);
  count = 0;
  sum = 0;
  max = 0;

  record(ms: number): void {
    const index = ms <= LatencyHistogram.FIRST_MS ? 0 : Math.ceil(Math.log(ms / LatencyHistogram.FIRST_MS) / Math.log(LatencyHistogram.GROWTH));
    this.counts[Math.min(index, LatencyHistogram.BUCKETS - 1)]!++;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  /** Upper edge of bucket `index`, in ms. */
  static upperEdge(index: number): number {
    return LatencyHistogram.FIRST_MS * LatencyHistogram.GROWTH ** index;
  }

  /** The `p`th percentile (0–100), as the upper edge of its bucket (at most 2 % high). */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(LatencyHistogram.upperEdge(i), this.max);
    }
    return this.max;
  }

  summary(): LatencySummary {
    const round = (ms: number) => Math.round(ms * 1000) / 1000;
    return {
      count: this.count,
      meanMs: round(this.count === 0 ? 0 : this.sum / this.count),
      p50Ms: round(this.percentile(50)),
      p90Ms: round(this.percentile(90)),
      p99Ms: round(this.percentile(99)),
      p999Ms: round(this.percentile(99.9)),
      maxMs: round(this.max),
    };
  }

  /** Non-empty buckets as [upper edge ms, count], for the report's distribution chart. */
  buckets(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > 0) out.push([LatencyHistogram.upperEdge(i), this.counts[i]!]);
    return out;
  }
}

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** One measured load run against one target. */
export interface RunResult {
  title: string;
  target: Target['name'];
  path: string;
  connections: number;
  /** Offered rate for paced runs; undefined for closed-loop (as fast as answered). */
  offeredRate: number | undefined;
  seconds: number;
  requests: number;
  /** Orders per request: 1 for single checks, the batch size for batches. */
  ordersPerRequest: number;
  requestsPerSecond: number;
  ordersPerSecond: number;
  statusCodes: Record<string, number>;
  non2xx: number;
  rateLimited: number;
  errors: number;
  timeouts: number;
  latency: LatencySummary;
  /** The service's decisions over the run (`decision/reason` → orders), from its /metrics. */
  decisions: Record<string, number> | undefined;
  /** The target's CPU time per request in µs over the run (noise-robust next to throughput). */
  cpuMicrosPerRequest: number;
  histogram: [number, number][];
  /** When it ran, in monotonic µs (the clock of V8 CPU profiles), to slice a profile by run. */
  window: [number, number];
}

export interface LoadSpec {
  title: string;
  target: Target;
  path: string;
  /** The body of each request (called once per request, so order ids stay unique). */
  body: (context: Record<string, unknown>) => string;
  ordersPerRequest?: number;
  /** Extra request headers (e.g. x-deadline-ms). */
  headers?: Record<string, string>;
  connections: number;
  durationS?: number;
  amount?: number;
  /** Fixed offered rate (req/s) across all connections, paced in lanes (see runLoad). */
  rate?: number;
}

function request(spec: LoadSpec): AutocannonOptions['requests'] {
  return [
    {
      method: 'POST',
      path: spec.path,
      headers: { ...spec.target.headers, ...spec.headers, 'content-type': 'application/json' },
      setupRequest: (req, context) => {
        req.body = spec.body(context);
        return req;
      },
    },
  ];
}

/** Latencies of the answers, and when the last one came (performance.now() ms). */
class Answers {
  readonly latency = new LatencyHistogram();
  lastAt = 0;
  /** Answers to requests sent before their paced lane's window closed. */
  inWindow = 0;

  record(ms: number, windowEndsAt: number): void {
    this.latency.record(ms);
    const now = performance.now();
    this.lastAt = now;
    if (now - ms < windowEndsAt) this.inWindow++;
  }
}

/** One autocannon run; `windowS` (paced lanes) is how long its requests count towards the rate. */
function start(options: AutocannonOptions, answers: Answers, windowS = Number.POSITIVE_INFINITY): { instance: AutocannonInstance; done: Promise<AutocannonResult> } {
  const windowEndsAt = performance.now() + windowS * 1_000;
  let instance: AutocannonInstance | undefined;
  const done = new Promise<AutocannonResult>((resolve, reject) => {
    instance = autocannon(options, (error, result) => (error === null ? resolve(result) : reject(error)));
  });
  instance!.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => answers.record(ms, windowEndsAt));
  return { instance: instance!, done };
}

function merge(results: AutocannonResult[]): { statusCodes: Record<string, number>; errors: number; timeouts: number; non2xx: number } {
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  let non2xx = 0;
  for (const result of results) {
    for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
    errors += result.errors;
    timeouts += result.timeouts;
    non2xx += result.non2xx;
  }
  return { statusCodes, errors, timeouts, non2xx };
}

/**
 * Runs one load spec. Closed loop (`connections` in flight, each sending as soon as answered),
 * or with `rate` a fixed offered rate: autocannon spends a connection's per-second budget in a
 * burst at the start of each second, so the rate is split over `connections` single-connection
 * lanes whose seconds start evenly staggered — a new burst every 1/connections s.
 */
export async function runLoad(spec: LoadSpec): Promise<RunResult> {
  const answers = new Answers();
  const histogram = answers.latency;
  const before = await spec.target.stats();
  const t0 = performance.now();
  const startUs = Number(process.hrtime.bigint() / 1_000n);
  const runs: Promise<AutocannonResult>[] = [];
  const base: AutocannonOptions = { url: spec.target.url, title: spec.title, requests: request(spec), timeout: 30 };
  if (spec.rate === undefined) {
    const options: AutocannonOptions = { ...base, connections: spec.connections };
    if (spec.amount !== undefined) options.amount = spec.amount;
    else options.duration = spec.durationS ?? 5;
    runs.push(start(options, answers).done);
  } else {
    const lanes = spec.connections;
    const perLane = spec.rate / lanes;
    const durationS = spec.durationS ?? 10;
    for (let lane = 0; lane < lanes; lane++) {
      runs.push(
        new Promise<void>((resolve) => setTimeout(resolve, (lane * 1_000) / lanes)).then(
          () => start({ ...base, connections: 1, overallRate: perLane, duration: durationS }, answers, durationS).done,
        ),
      );
    }
  }
  const results = await Promise.all(runs);
  // autocannon notices that a run is over only at its next once-a-second sample. A run of
  // `amount` requests, all answered, therefore lasts until its last answer (else every burst
  // would round up to whole seconds). Paced lanes each offer durationS, staggered over the first
  // second, and may send another second's budget before they notice: the achieved rate counts
  // only what each lane sent within its durationS (CPU per request still divides by every answer).
  const isAllAnswered = spec.amount !== undefined && histogram.count >= spec.amount;
  const seconds = spec.rate !== undefined ? (spec.durationS ?? 10) : ((isAllAnswered ? answers.lastAt : performance.now()) - t0) / 1_000;
  const counted = spec.rate !== undefined ? answers.inWindow : histogram.count;
  const endUs = Number(process.hrtime.bigint() / 1_000n);
  const after = await spec.target.stats();
  const merged = merge(results);
  const requests = histogram.count;
  const ordersPerRequest = spec.ordersPerRequest ?? 1;
  return {
    title: spec.title,
    target: spec.target.name,
    path: spec.path,
    connections: spec.connections,
    offeredRate: spec.rate,
    seconds: round(seconds, 3),
    requests,
    ordersPerRequest,
    requestsPerSecond: round(counted / seconds, 0),
    ordersPerSecond: round((counted * ordersPerRequest) / seconds, 0),
    ...merged,
    rateLimited: merged.statusCodes['429'] ?? 0,
    decisions: decisionsDelta(before.decisions, after.decisions),
    latency: histogram.summary(),
    cpuMicrosPerRequest: round(requests === 0 ? 0 : ((after.cpuSeconds - before.cpuSeconds) * 1e6) / requests, 1),
    histogram: histogram.buckets(),
    window: [startUs, endUs],
  };
}

function decisionsDelta(before: Record<string, number> | undefined, after: Record<string, number> | undefined): Record<string, number> | undefined {
  if (before === undefined || after === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) if (value - (before[key] ?? 0) > 0) out[key] = value - (before[key] ?? 0);
  return out;
}

export const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;
