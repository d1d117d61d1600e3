import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/domain/engine.js';
import { LimitEngine } from '../../src/domain/engine.js';
import { RecordedHistogram } from '../../src/telemetry/recorded-histogram.js';
import { LATENCY_BUCKETS, Telemetry } from '../../src/telemetry/metrics.js';
import { testAppConfig } from '../support/app-fixtures.js';
import { engineConfigOf } from '../../src/app.js';

const BOUNDS = [2e-6, 5e-6, 1e-5, 1e-4, 1e-3, 1e-2];
const VALUES = [0, 1e-6, 2e-6, 3e-6, 5e-6, 1e-5, 0.5, 0.002, 1e-4, 7e-3, 1e-2, 11, 2e-6];

/** The text of the families named, in registry order. */
async function families(registry: Registry, names: readonly string[]): Promise<string> {
  const text = await registry.metrics();
  return text
    .split('\n\n')
    .map((block) => block.trim())
    .filter((block) => names.some((name) => block.includes(`# TYPE ${name} `)))
    .join('\n\n');
}

describe('RecordedHistogram', () => {
  it('exports exactly what a prom-client Histogram exports for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const plain = new RecordedHistogram('h_plain', 'plain', BOUNDS, ours, false);
    const labelled = new RecordedHistogram('h_labelled', 'labelled "help"', BOUNDS, ours, true);
    const plainRef = new Histogram({ name: 'h_plain', help: 'plain', buckets: BOUNDS, registers: [theirs] });
    const labelledRef = new Histogram({ name: 'h_labelled', help: 'labelled "help"', buckets: BOUNDS, labelNames: ['route', 'code'], registers: [theirs] });
    // Before any observation: the plain one exports zeros, the labelled one nothing.
    expect(await ours.metrics()).toBe(await theirs.metrics());

    const plainCell = plain.cell();
    const cells = new Map<string, ReturnType<typeof labelled.cell>>();
    VALUES.forEach((value, i) => {
      plainCell.observe(value);
      plainRef.observe(value);
      const labels = { route: i % 3 === 0 ? '/a' : '/b\\"x', code: i % 2 === 0 ? '2xx' : '4xx' };
      const key = JSON.stringify(labels);
      if (!cells.has(key)) cells.set(key, labelled.cell(labels));
      cells.get(key)!.observe(value);
      labelledRef.observe(labels, value);
    });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
  });

  it('refuses a value that is not a finite number, as prom-client does', () => {
    const cell = new RecordedHistogram('h', 'h', BOUNDS, new Registry(), false).cell();
    expect(() => cell.observe(Number.NaN)).toThrow(TypeError);
    expect(cell.count).toBe(0);
  });
});

describe('Telemetry recording', () => {
  const result = (decision: 'ACCEPT' | 'REJECT', reasons: CheckResult['reasons'], violations: CheckResult['violations'] = []): CheckResult => ({
    orderId: 'o',
    decision,
    reasons,
    violations,
    evaluated: 3,
    bookVersion: 1,
  });
  const violation = (kind: CheckResult['violations'][number]['kind'], severity: CheckResult['violations'][number]['severity']) => ({
    violationId: 'v',
    limitId: 'l',
    kind,
    severity,
    action: 'BLOCK' as const,
    value: 1,
    threshold: 0,
    key: 'k',
    message: 'm',
  });

  it('shows the same families as recording straight into prom-client would, across scrapes', async () => {
    const config = testAppConfig();
    const engine = new LimitEngine(engineConfigOf(config), { now: () => 0, monotonic: () => 0, isPast: (deadline) => 0 >= deadline });
    const telemetry = new Telemetry(() => engine, { defaultMetrics: false });

    const reference = new Registry();
    const registers = [reference];
    const checks = new Counter({ name: 'ulc_checks_total', help: 'Orders checked, by decision and first reason', labelNames: ['decision', 'reason'], registers });
    const checkDuration = new Histogram({
      name: 'ulc_check_duration_seconds',
      help: 'Engine time per check request (one order, or one whole batch)',
      buckets: [...LATENCY_BUCKETS],
      registers,
    });
    const batchSize = new Histogram({ name: 'ulc_batch_size', help: 'Orders per batch request', buckets: [1, 10, 50, 100, 250, 500, 1000, 5000, 10000], registers });
    const violations = new Counter({ name: 'ulc_violations_total', help: 'Limit violations raised on orders and on values fed to value limits, by kind and severity', labelNames: ['kind', 'severity'], registers });
    const deadline = new Counter({ name: 'ulc_deadline_exceeded_total', help: 'Orders rejected because their deadline was spent', registers });
    const http = new Histogram({
      name: 'ulc_http_request_duration_seconds',
      help: 'HTTP request duration from arrival to response, by route pattern',
      labelNames: ['method', 'route', 'status_class'],
      buckets: [...LATENCY_BUCKETS],
      registers,
    });
    const names = ['ulc_checks_total', 'ulc_check_duration_seconds', 'ulc_batch_size', 'ulc_violations_total', 'ulc_deadline_exceeded_total', 'ulc_http_request_duration_seconds'];
    const referenceCount = (r: CheckResult) => {
      const reason = r.reasons[0] ?? 'NONE';
      checks.labels(r.decision, reason).inc();
      if (reason === 'DEADLINE_EXCEEDED') deadline.inc();
      for (const v of r.violations) violations.labels(v.kind, v.severity).inc();
    };
    const check = (r: CheckResult, ms: number) => {
      telemetry.recordCheck(r, ms);
      referenceCount(r);
      checkDuration.observe(ms / 1000);
    };
    const httpCall = (method: string, route: string | undefined, status: number, ms: number) => {
      telemetry.recordHttp(method, route, status, ms);
      http.observe({ method, route: route ?? 'unmatched', status_class: `${Math.floor(status / 100)}xx` }, ms / 1000);
    };

    expect(await families(telemetry.registry, names)).toBe(await families(reference, names));
    check(result('ACCEPT', []), 0.004);
    check(result('REJECT', ['LIMIT_BREACH'], [violation('position', 'HARD_BREACH'), violation('order_quantity', 'WARNING')]), 0.02);
    httpCall('POST', '/v1/checks', 200, 0.07);
    httpCall('GET', undefined, 404, 0.01);
    expect(await families(telemetry.registry, names)).toBe(await families(reference, names));

    check(result('REJECT', ['DEADLINE_EXCEEDED']), 0.5);
    check(result('ACCEPT', []), 3);
    const batch = [result('ACCEPT', []), result('REJECT', ['BATCH_REJECTED']), result('REJECT', ['LIMIT_BREACH'], [violation('position', 'HARD_BREACH')])];
    telemetry.recordBatch({ results: batch, summary: { total: 3, accepted: 1, rejected: 2 } }, 0.3);
    for (const r of batch) referenceCount(r);
    batchSize.observe(3);
    checkDuration.observe(0.3 / 1000);
    httpCall('POST', '/v1/checks/batch', 429, 0.2);
    httpCall('POST', '/v1/checks', 200, 100);
    httpCall('POST', '/v1/checks', 503, 1);
    expect(await families(telemetry.registry, names)).toBe(await families(reference, names));
    expect(await families(telemetry.registry, names)).toBe(await families(reference, names));
  });
});
