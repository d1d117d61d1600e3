import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { BatchResult, CheckResult, ExecutionOutcome, LimitEngine } from '../domain/engine.js';
import type { ExecutionEvent } from '../domain/orders.js';
import { TRADING_STATE_RANK } from '../domain/enums.js';
import type { TradingState } from '../domain/enums.js';
import { BREAKER_STATE_VALUE } from '../store/circuit-breaker.js';
import type { BreakerState } from '../store/circuit-breaker.js';
import { RecordedHistogram } from './recorded-histogram.js';
import type { HistogramCell } from './recorded-histogram.js';

/**
 * Sub-millisecond resolution: the engine answers in microseconds, HTTP in tens of them. The
 * coarse tail up to 10 s keeps what is slow (a maximal batch, a GC pause, a snapshot stall)
 * visible to histogram_quantile, which cannot report more than the highest finite bucket.
 */
export const LATENCY_BUCKETS = [2e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A counter's label set and what it counted since the last scrape. */
interface CounterCell<L extends string> {
  readonly labels: Record<L, string>;
  pending: number;
}

/** HTTP duration cells by route pattern, then method, then status class (1xx … 5xx, other). */
type HttpCells = Map<string, Map<string, (HistogramCell | undefined)[]>>;

/**
 * Prometheus metrics with closed-enum labels only (decision, reason, kind, severity, state),
 * never ids. The hot path only adds to plain numbers kept per label set (found by small map
 * lookups, no label hashing or validation); counters take them in when scraped (their
 * `collect`), histograms are read straight from them. What /metrics shows is unchanged.
 */
export class Telemetry {
  readonly registry = new Registry();
  private readonly checkDuration: HistogramCell;
  private readonly batchSize: HistogramCell;
  private readonly deadlineExceeded: Counter;
  readonly rateLimited: Counter;
  private readonly httpDuration: RecordedHistogram;
  /** Check counts by decision, then first reason ('NONE' when none), in first-use order. */
  private readonly checkCells = new Map<string, Map<string, CounterCell<'decision' | 'reason'>>>();
  private readonly checkCellOrder: CounterCell<'decision' | 'reason'>[] = [];
  private readonly violationCells = new Map<string, Map<string, CounterCell<'kind' | 'severity'>>>();
  private readonly violationCellOrder: CounterCell<'kind' | 'severity'>[] = [];
  private readonly executionCells = new Map<string, Map<string, CounterCell<'type' | 'outcome'>>>();
  private readonly executionCellOrder: CounterCell<'type' | 'outcome'>[] = [];
  private pendingDeadlineExceeded = 0;
  private readonly httpCells: HttpCells = new Map();
  private readonly dependencies = new Map<string, () => boolean>();
  private readonly breakers = new Map<string, () => BreakerState>();

  constructor(engine: () => LimitEngine, options: { defaultMetrics: boolean }) {
    const registers = [this.registry];
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    cellCounter(this.registry, 'ulc_checks_total', 'Orders checked, by decision and first reason', ['decision', 'reason'], this.checkCellOrder);
    this.checkDuration = new RecordedHistogram(
      'ulc_check_duration_seconds',
      'Engine time per check request (one order, or one whole batch)',
      LATENCY_BUCKETS,
      this.registry,
      false,
    ).cell();
    this.batchSize = new RecordedHistogram('ulc_batch_size', 'Orders per batch request', [1, 10, 50, 100, 250, 500, 1000, 5000, 10000], this.registry, false).cell();
    cellCounter(
      this.registry,
      'ulc_violations_total',
      'Limit violations raised on orders and on values fed to value limits, by kind and severity',
      ['kind', 'severity'],
      this.violationCellOrder,
    );
    const pendingDeadlineExceeded = (): number => {
      const pending = this.pendingDeadlineExceeded;
      this.pendingDeadlineExceeded = 0;
      return pending;
    };
    this.deadlineExceeded = new Counter({
      name: 'ulc_deadline_exceeded_total',
      help: 'Orders rejected because their deadline was spent',
      registers,
      collect() {
        const pending = pendingDeadlineExceeded();
        if (pending > 0) this.inc(pending);
      },
    });
    this.rateLimited = new Counter({ name: 'ulc_rate_limited_total', help: 'Requests refused with 429', registers });
    cellCounter(
      this.registry,
      'ulc_executions_total',
      'Executions received, by type and outcome (unknown_order: no open or recently closed order had that id)',
      ['type', 'outcome'],
      this.executionCellOrder,
    );
    this.httpDuration = new RecordedHistogram(
      'ulc_http_request_duration_seconds',
      'HTTP request duration from arrival to response, by route pattern',
      LATENCY_BUCKETS,
      this.registry,
      true,
    );
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
    const breakers = this.breakers;
    new Gauge({
      name: 'ulc_dependency_breaker_state',
      help: "A dependency's circuit breaker: 0 closed (in use), 1 open (failed, refused until a recovery attempt), 2 half-open (recovering)",
      labelNames: ['dependency'],
      registers,
      collect() {
        for (const [dependency, state] of breakers) this.set({ dependency }, BREAKER_STATE_VALUE[state()]);
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
      name: 'ulc_positions_replacing',
      help: 'Whether a positions replace is half applied (1): checks are rejected POSITIONS_REPLACING until one ends',
      registers,
      collect() {
        this.set(engine().isReplacingPositions ? 1 : 0);
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
        this.set(engine().book.size);
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
    const pattern = route ?? 'unmatched';
    let byMethod = this.httpCells.get(pattern);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.httpCells.set(pattern, byMethod);
    }
    let byClass = byMethod.get(method);
    if (byClass === undefined) {
      byClass = [];
      byMethod.set(method, byClass);
    }
    // Node sends only status codes 100–999: at most ten classes, each with its one cell.
    const statusClass = Math.floor(statusCode / 100);
    const cell = (byClass[statusClass] ??= this.httpDuration.cell({ method, route: pattern, status_class: `${statusClass}xx` }));
    cell.observe(elapsedMs / 1000);
  }

  /** Exports whether a dependency is usable (1) or failed and fenced off (0): the journal, and the snapshot worker. */
  watchDependency(name: string, isUp: () => boolean): void {
    this.dependencies.set(name, isUp);
  }

  /** Exports a dependency's circuit breaker state (the journal's). */
  watchBreaker(name: string, state: () => BreakerState): void {
    this.breakers.set(name, state);
  }

  /** `elapsedMs` undefined: refused before the engine saw it (the journal is down), counted with no engine time. */
  recordCheck(result: CheckResult, elapsedMs?: number): void {
    this.countResult(result);
    if (elapsedMs !== undefined) this.checkDuration.observe(elapsedMs / 1000);
  }

  /** As recordCheck, for a whole batch. */
  recordBatch(batch: BatchResult, elapsedMs?: number): void {
    // Indexed loops here and in countResult: once per batch, this method is rarely optimised,
    // and an unoptimised for-of allocates an iterator and a result object per element.
    const results = batch.results;
    for (let i = 0; i < results.length; i++) this.countResult(results[i]!);
    this.batchSize.observe(batch.results.length);
    if (elapsedMs !== undefined) this.checkDuration.observe(elapsedMs / 1000);
  }

  recordExecution(type: ExecutionEvent['type'], outcome: ExecutionOutcome['outcome']): void {
    cellOf(this.executionCells, this.executionCellOrder, type, outcome, executionLabels).pending++;
  }

  /** A violation, raised on an order or by a value fed to a value limit (POST /v1/limits/{id}/evaluate). */
  recordViolation(violation: { readonly kind: string; readonly severity: string }): void {
    cellOf(this.violationCells, this.violationCellOrder, violation.kind, violation.severity, violationLabels).pending++;
  }

  private countResult(result: CheckResult): void {
    const reason = result.reasons[0] ?? 'NONE';
    cellOf(this.checkCells, this.checkCellOrder, result.decision, reason, checkLabels).pending++;
    if (reason === 'DEADLINE_EXCEEDED') this.pendingDeadlineExceeded++;
    const violations = result.violations;
    for (let i = 0; i < violations.length; i++) this.recordViolation(violations[i]!);
  }
}

const checkLabels = (decision: string, reason: string) => ({ decision, reason });
const violationLabels = (kind: string, severity: string) => ({ kind, severity });
const executionLabels = (type: string, outcome: string) => ({ type, outcome });

/** The counter cell of two label values, made (and appended to `order`) on first use. */
function cellOf<L extends string>(
  cells: Map<string, Map<string, CounterCell<L>>>,
  order: CounterCell<L>[],
  first: string,
  second: string,
  labels: (first: string, second: string) => Record<L, string>,
): CounterCell<L> {
  let inner = cells.get(first);
  if (inner === undefined) {
    inner = new Map();
    cells.set(first, inner);
  }
  let cell = inner.get(second);
  if (cell === undefined) {
    cell = { labels: labels(first, second), pending: 0 };
    inner.set(second, cell);
    order.push(cell);
  }
  return cell;
}

/** A labelled counter fed by cells (counted on the hot path without prom-client), taken in at each scrape. */
function cellCounter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], cells: readonly CounterCell<L>[]): void {
  new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      takeIn(this, cells);
    },
  });
}

/** At scrape time: adds what each cell counted since the last scrape to the counter. */
function takeIn<L extends string>(counter: Counter<L>, cells: readonly CounterCell<L>[]): void {
  for (const cell of cells) {
    if (cell.pending === 0) continue;
    counter.inc(cell.labels, cell.pending);
    cell.pending = 0;
  }
}
