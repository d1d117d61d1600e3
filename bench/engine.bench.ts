/**
 * Engine benchmark (DESIGN §6): one order against books of 10 to 10,000 limits over
 * 10,000 accounts × 100 symbols of positions. Engine alone, no HTTP.
 *
 *   npm run bench            full run (about a minute on 2 cores)
 *   npm run bench -- --quick a short run for a smoke test
 */
import type { LimitEngine } from '../src/domain/engine.js';
import type { Order } from '../src/domain/orders.js';
import { ACCOUNTS, loadPositions, makeEngine, OrderFlow, SYMBOLS, World } from './engine-fixture.js';
import { limitBook } from './limit-books.js';
import type { LatencySummary } from './stats.js';
import { collectGarbage, mib, seededRandom, summarise } from './stats.js';

const isQuick = process.argv.includes('--quick');
const BOOK_SIZES = [10, 100, 1_000, 10_000];
const WARMUP_ORDERS = isQuick ? 20_000 : 100_000;
const BOOK_WARMUP_ORDERS = isQuick ? 5_000 : 20_000;
const TIMED_ORDERS = isQuick ? 10_000 : 50_000;
const BATCH_SIZE = 100;
const BATCHES = isQuick ? 100 : 500;
const BUDGET_MEDIAN_NS = 2_000;
const BUDGET_GROWTH = 2;

interface BookFigures {
  limits: number;
  evaluatedMean: number;
  evaluatedMin: number;
  evaluatedMax: number;
  single: LatencySummary;
  batchOrdersPerSecond: number;
  rejected: number;
}

interface Baseline {
  single: LatencySummary;
  batchOrdersPerSecond: number;
}

function main(): void {
  const started = performance.now();
  const world = new World(seededRandom(42));
  const { engine, clock } = makeEngine(world);
  const loadStarted = performance.now();
  loadPositions(engine, world);
  const loadMs = performance.now() - loadStarted;
  const flow = new OrderFlow(engine, clock, world);
  engine.replaceLimits(limitBook(BOOK_SIZES[0]!, world));
  for (let i = 0; i < WARMUP_ORDERS; i++) check(engine, flow, flow.next());
  collectGarbage();
  const memory = process.memoryUsage();

  console.log(`engine bench${isQuick ? ' (--quick)' : ''}: node ${process.version}, ${TIMED_ORDERS} timed orders and ${BATCHES} batches of ${BATCH_SIZE} per book`);
  console.log(
    `state: ${ACCOUNTS} accounts x ${SYMBOLS} symbols = ${engine.ledger.positionCount} positions (loaded in ${loadMs.toFixed(0)} ms), ` +
      `${engine.ledger.openOrderCount} open orders; rss ${mib(memory.rss)}, heap used ${mib(memory.heapUsed)} of ${mib(memory.heapTotal)}`,
  );

  const before = measureBaseline(engine, flow);
  const rows: BookFigures[] = [];
  for (const size of BOOK_SIZES) rows.push(measureBook(engine, flow, world, size));
  const after = measureBaseline(engine, flow);
  report(rows, before, after, engine);
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** One untimed check that keeps the flow's bookkeeping (reservations, retirements, time). */
function check(engine: LimitEngine, flow: OrderFlow, order: Order): void {
  if (engine.checkOrder(order).decision === 'ACCEPT') flow.accepted(order);
  flow.advance(1);
}

function measureBook(engine: LimitEngine, flow: OrderFlow, world: World, size: number): BookFigures {
  engine.replaceLimits(limitBook(size, world));
  for (let i = 0; i < BOOK_WARMUP_ORDERS; i++) check(engine, flow, flow.next());

  collectGarbage();
  const samples = new Float64Array(TIMED_ORDERS);
  let evaluatedSum = 0;
  let evaluatedMin = Number.POSITIVE_INFINITY;
  let evaluatedMax = 0;
  let rejected = 0;
  for (let i = 0; i < TIMED_ORDERS; i++) {
    const order = flow.next();
    const t0 = process.hrtime.bigint();
    const result = engine.checkOrder(order);
    const t1 = process.hrtime.bigint();
    samples[i] = Number(t1 - t0);
    evaluatedSum += result.evaluated;
    if (result.evaluated < evaluatedMin) evaluatedMin = result.evaluated;
    if (result.evaluated > evaluatedMax) evaluatedMax = result.evaluated;
    if (result.decision === 'ACCEPT') flow.accepted(order);
    else rejected++;
    flow.advance(1);
  }

  collectGarbage();
  let batchNs = 0;
  for (let b = 0; b < BATCHES; b++) {
    const batch: Order[] = [];
    for (let i = 0; i < BATCH_SIZE; i++) batch.push(flow.next());
    const t0 = process.hrtime.bigint();
    const { results } = engine.checkBatch(batch);
    batchNs += Number(process.hrtime.bigint() - t0);
    for (let i = 0; i < BATCH_SIZE; i++) {
      if (results[i]!.decision === 'ACCEPT') flow.accepted(batch[i]!);
      else rejected++;
    }
    flow.advance(BATCH_SIZE);
  }

  return {
    limits: size,
    evaluatedMean: evaluatedSum / TIMED_ORDERS,
    evaluatedMin,
    evaluatedMax,
    single: summarise(samples),
    batchOrdersPerSecond: (BATCHES * BATCH_SIZE) / (batchNs / 1e9),
    rejected,
  };
}

/**
 * What the machine does right now without the engine: build the same order and look its
 * account up in the ledger's 10,000-entry map, timed the same way. Engine figures divided by
 * this survive a noisy neighbour better than raw nanoseconds.
 */
function measureBaseline(engine: LimitEngine, flow: OrderFlow): Baseline {
  const accounts = engine.ledger.accounts;
  let found = 0;
  collectGarbage();
  const samples = new Float64Array(TIMED_ORDERS);
  for (let i = 0; i < TIMED_ORDERS; i++) {
    const t0 = process.hrtime.bigint();
    const order = flow.next();
    if (accounts.get(order.accountId) !== undefined) found++;
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  let batchNs = 0;
  for (let b = 0; b < BATCHES; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BATCH_SIZE; i++) if (accounts.get(flow.next().accountId) !== undefined) found++;
    batchNs += Number(process.hrtime.bigint() - t0);
  }
  if (found === 0) throw new Error('baseline found no accounts');
  return { single: summarise(samples), batchOrdersPerSecond: (BATCHES * BATCH_SIZE) / (batchNs / 1e9) };
}

function report(rows: BookFigures[], before: Baseline, after: Baseline, engine: LimitEngine): void {
  const baseMedian = (before.single.median + after.single.median) / 2;
  const header = ['limits', 'applicable', 'median ns', 'p99 ns', 'mean ns', 'batch100 orders/s', 'median/baseline'];
  const lines: string[][] = rows.map((r) => [
    r.limits.toLocaleString('en-US'),
    r.evaluatedMin === r.evaluatedMax ? String(r.evaluatedMin) : `${r.evaluatedMean.toFixed(1)} (${r.evaluatedMin}-${r.evaluatedMax})`,
    r.single.median.toFixed(0),
    r.single.p99.toFixed(0),
    r.single.mean.toFixed(0),
    Math.round(r.batchOrdersPerSecond).toLocaleString('en-US'),
    (r.single.median / baseMedian).toFixed(1),
  ]);
  for (const [label, b] of [
    ['baseline (before)', before],
    ['baseline (after)', after],
  ] as const) {
    lines.push([label, '-', b.single.median.toFixed(0), b.single.p99.toFixed(0), b.single.mean.toFixed(0), Math.round(b.batchOrdersPerSecond).toLocaleString('en-US'), '1.0']);
  }
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const format = (cells: readonly string[]): string => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  console.log('');
  console.log(format(header));
  for (const line of lines) console.log(format(line));
  console.log('');

  const rejected = rows.reduce((sum, r) => sum + r.rejected, 0);
  if (rejected > 0) console.log(`WARNING: ${rejected} timed orders were rejected; the bench expects every order to ACCEPT`);
  const byLimits = new Map(rows.map((r) => [r.limits, r]));
  const at1k = byLimits.get(1_000)!.single.median;
  const growth = byLimits.get(10_000)!.single.median / byLimits.get(10)!.single.median;
  const sameApplicable = byLimits.get(10_000)!.single.median / byLimits.get(100)!.single.median;
  console.log(`median 10,000 / 10 limits: ${growth.toFixed(2)}x (10 limits is a 10-limit subset; 10,000 / 100 limits, both ~20 applicable: ${sameApplicable.toFixed(2)}x)`);
  console.log(`open orders at end: ${engine.ledger.openOrderCount}, positions: ${engine.ledger.positionCount}, active violations: ${engine.violations.activeCount}`);
  const isMedianOk = at1k <= BUDGET_MEDIAN_NS;
  const isGrowthOk = growth <= BUDGET_GROWTH;
  console.log(
    `budget (DESIGN §6): median at 1,000 limits ${at1k.toFixed(0)} ns ${isMedianOk ? '<=' : '>'} ${BUDGET_MEDIAN_NS} ns: ${isMedianOk ? 'PASS' : 'FAIL'}; ` +
      `growth 10 -> 10,000 limits ${growth.toFixed(2)}x ${isGrowthOk ? '<=' : '>'} ${BUDGET_GROWTH}x: ${isGrowthOk ? 'PASS' : 'FAIL'}`,
  );
}

main();
