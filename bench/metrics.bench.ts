/**
 * What the Prometheus instrumentation adds to one check (DESIGN §7: "measure what the
 * metrics cost on the hot path"): Telemetry.recordCheck and recordHttp per request, next to
 * a baseline loop that touches the same result objects without recording, in the same run.
 *
 *   npm run bench:metrics
 */
import type { CheckResult } from '../src/domain/engine.js';
import { LimitEngine } from '../src/domain/engine.js';
import { systemClock } from '../src/domain/clock.js';
import { Telemetry } from '../src/telemetry/metrics.js';
import { benchConfig } from './engine-fixture.js';
import { summarise } from './stats.js';

const ROUNDS = 200_000;
// An empty engine: only its gauges are read, at scrape time.
const engine = new LimitEngine(benchConfig(), systemClock);
const telemetry = new Telemetry(() => engine, { defaultMetrics: false });

const results: CheckResult[] = [
  { orderId: 'a', decision: 'ACCEPT', reasons: [], violations: [], evaluated: 20, bookVersion: 1 },
  { orderId: 'b', decision: 'REJECT', reasons: ['LIMIT_BREACH'], violations: [], evaluated: 20, bookVersion: 1 },
];

let sink = 0;
function timeLoop(record: (result: CheckResult, i: number) => void): Float64Array {
  const samples = new Float64Array(ROUNDS / 100);
  for (let s = 0; s < samples.length; s++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) record(results[i & 1]!, i);
    samples[s] = Number(process.hrtime.bigint() - start) / 100;
  }
  return samples;
}

const baseline = (result: CheckResult, i: number) => {
  sink += result.evaluated + i;
};
const instrumented = (result: CheckResult, i: number) => {
  telemetry.recordCheck(result, 0.01 + i * 1e-6);
  telemetry.recordHttp('POST', '/v1/checks', 200, 0.05);
};

for (let warm = 0; warm < 3; warm++) {
  timeLoop(baseline);
  timeLoop(instrumented);
}
const base = summarise(timeLoop(baseline));
const metrics = summarise(timeLoop(instrumented));
console.log(`metrics per check request (recordCheck + recordHttp), ${ROUNDS} calls, ns/call:`);
console.log(`  baseline      median ${base.median.toFixed(1)}  p99 ${base.p99.toFixed(1)}`);
console.log(`  instrumented  median ${metrics.median.toFixed(1)}  p99 ${metrics.p99.toFixed(1)}`);
console.log(`  added by metrics: ${(metrics.median - base.median).toFixed(1)} ns per request (median)`);
if (sink === -1) console.log(sink);
