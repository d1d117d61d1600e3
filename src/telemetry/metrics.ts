import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BatchResult, CheckResult, LimitEngine } from '../domain/engine.js';
import { TRADING_STATE_RANK } from '../domain/enums.js';
import type { TradingState } from '../domain/enums.js';

/** Sub-millisecond resolution: the engine answers in microseconds, HTTP in tens of them. */
const LATENCY_BUCKETS = [2e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2];

type CounterChild = ReturnType<Counter<string>['labels']>;

/**
 * Prometheus metrics with closed-enum labels only (decision, reason, kind, severity, state),
 * never ids. Children are bound once per label set so the hot path does no label hashing.
 */
export class Telemetry {
  readonly registry = new Registry();
  private readonly checks: Counter<'decision' | 'reason'>;
  private readonly checkDuration: Histogram;
  private readonly batchSize: Histogram;
  private readonly violations: Counter<'kind' | 'severity'>;
  private readonly deadlineExceeded: Counter;
  readonly rateLimited: Counter;
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_class'>;
  private readonly children = new Map<string, CounterChild>();
  private readonly dependencies = new Map<string, () => boolean>();

  constructor(engine: () => LimitEngine, options: { defaultMetrics: boolean }) {
    const registers = [this.registry];
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    this.checks = new Counter({
      name: 'ulc_checks_total',
      help: 'Orders checked, by decision and first reason',
      labelNames: ['decision', 'reason'],
      registers,
    });
    this.checkDuration = new Histogram({
      name: 'ulc_check_duration_seconds',
      help: 'Engine time per check request (one order, or one whole batch)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.batchSize = new Histogram({
      name: 'ulc_batch_size',
      help: 'Orders per batch request',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 5000, 10000],
      registers,
    });
    this.violations = new Counter({
      name: 'ulc_violations_total',
      help: 'Limit violations raised on orders, by kind and severity',
      labelNames: ['kind', 'severity'],
      registers,
    });
    this.deadlineExceeded = new Counter({ name: 'ulc_deadline_exceeded_total', help: 'Orders rejected because their deadline was spent', registers });
    this.rateLimited = new Counter({ name: 'ulc_rate_limited_total', help: 'Requests refused with 429', registers });
    this.httpDuration = new Histogram({
      name: 'ulc_http_request_duration_seconds',
      help: 'HTTP request duration from arrival to response, by route pattern',
      labelNames: ['method', 'route', 'status_class'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const dependencies = this.dependencies;
    new Gauge({
      name: 'ulc_dependency_up',
      help: 'Whether a dependency is usable (1) or failed and fenced off (0)',
      labelNames: ['dependency'],
      registers,
      collect() {
        for (const [dependency, isUp] of dependencies) this.set({ dependency }, isUp() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'ulc_active_violations',
      help: 'Active (unresolved) violations',
      registers,
      collect() {
        this.set(engine().violations.activeCount);
      },
    });
    new Gauge({
      name: 'ulc_open_orders',
      help: 'Open (reserved) orders',
      registers,
      collect() {
        this.set(engine().ledger.openOrderCount);
      },
    });
    new Gauge({
      name: 'ulc_limit_book_version',
      help: 'Version of the limit book in force',
      registers,
      collect() {
        this.set(engine().book.version);
      },
    });
    new Gauge({
      name: 'ulc_limit_book_limits',
      help: 'Limits in the book in force',
      registers,
      collect() {
        this.set(engine().book.limits.length);
      },
    });
    new Gauge({
      name: 'ulc_trading_states',
      help: 'Scopes currently in each non-ACTIVE trading state',
      labelNames: ['state'],
      registers,
      collect() {
        const counts: Record<TradingState, number> = { ACTIVE: 0, REDUCE_ONLY: 0, HALTED: 0 };
        for (const entry of engine().tradingStates.list()) counts[entry.state]++;
        for (const state of Object.keys(TRADING_STATE_RANK) as TradingState[]) if (state !== 'ACTIVE') this.set({ state }, counts[state]);
      },
    });
  }

  /** `route` is the route's pattern (`/v1/limits/:id`), never the raw URL, so labels stay bounded. */
  recordHttp(method: string, route: string | undefined, statusCode: number, elapsedMs: number): void {
    this.httpDuration.observe({ method, route: route ?? 'unmatched', status_class: `${Math.floor(statusCode / 100)}xx` }, elapsedMs / 1000);
  }

  /** Exports whether a dependency is usable (1) or failed and fenced off (0): the journal today. */
  watchDependency(name: string, isUp: () => boolean): void {
    this.dependencies.set(name, isUp);
  }

  recordCheck(result: CheckResult, elapsedMs: number): void {
    this.countResult(result);
    this.checkDuration.observe(elapsedMs / 1000);
  }

  recordBatch(batch: BatchResult, elapsedMs: number): void {
    for (const result of batch.results) this.countResult(result);
    this.batchSize.observe(batch.results.length);
    this.checkDuration.observe(elapsedMs / 1000);
  }

  private countResult(result: CheckResult): void {
    const reason = result.reasons[0] ?? 'NONE';
    const key = result.decision + reason;
    let child = this.children.get(key);
    if (child === undefined) {
      child = this.checks.labels(result.decision, reason);
      this.children.set(key, child);
    }
    child.inc();
    if (reason === 'DEADLINE_EXCEEDED') this.deadlineExceeded.inc();
    for (const violation of result.violations) this.violations.labels(violation.kind, violation.severity).inc();
  }
}
