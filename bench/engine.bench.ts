/**
 * Engine benchmark (DESIGN §6): one order against books of 10 to 10,000 limits over
 * 10,000 accounts × 100 symbols of positions. Engine alone, no HTTP.
 *
 *   npm run bench            full run (about a minute on 2 cores)
 *   npm run bench -- --quick a short run for a smoke test
 */
import { execFileSync } from 'node:child_process';
import type { LimitEngine } from '../src/domain/engine.js';
import { OPEN_BUY, POSITION, STRIDE } from '../src/domain/exposure-ledger.js';
import type { Order } from '../src/domain/orders.js';
import { ACCOUNTS, checkNext, loadPositions, makeEngine, OrderFlow, steadyFlow, SYMBOLS, World } from './engine-fixture.js';
import { limitBook } from './limit-books.js';
import { dependentLoadNs } from './memory-latency.js';
import type { LatencySummary } from './stats.js';
import { collectGarbage, mib, seededRandom, summarise } from './stats.js';

const isQuick = process.argv.includes('--quick');
const BOOK_SIZES = [10, 100, 1_000, 10_000];
const ROUNDS = isQuick ? 1 : 2;
/** Past the first window sweep (every 100,000 orders), so the heap has reached its steady size. */
const WARMUP_ORDERS = 150_000;
const BOOK_WARMUP_ORDERS = isQuick ? 5_000 : 20_000;
const TIMED_ORDERS = isQuick ? 10_000 : 50_000;
const BATCH_SIZE = 100;
const BATCHES = isQuick ? 100 : 500;
const BUDGET_MEDIAN_NS = 2_000;
/** A tenth of the bench's accounts: state that mostly stays in the caches. */
const SMALL_STATE_ACCOUNTS = 1_000;
const SMALL_STATE_FLAG = '--small-state';
const BUDGET_GROWTH = 2;

/** One book, one round: raw samples, combined across rounds later. */
interface BookRun {
  samples: Float64Array;
  evaluated: Uint32Array;
  batchOrders: number;
  batchNs: number;
  rejected: number;
}

interface BookFigures {
  limits: number;
  evaluatedMean: number;
  evaluatedMin: number;
  evaluatedMax: number;
  single: LatencySummary;
  roundMedians: number[];
  batchOrdersPerSecond: number;
  rejected: number;
}

interface Baseline {
  samples: Float64Array;
  /** One random account's 100 packed position rows read once: the memory walk gross_notional cannot avoid. */
  walkSamples: Float64Array;
  batchOrders: number;
  batchNs: number;
}

interface BaselineFigures {
  single: LatencySummary;
  walk: LatencySummary;
  roundMedians: number[];
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
  for (let i = 0; i < WARMUP_ORDERS; i++) checkNext(engine, flow);
  collectGarbage();
  const memory = process.memoryUsage();

  console.log(
    `engine bench${isQuick ? ' (--quick)' : ''}: node ${process.version}; per book and round ${TIMED_ORDERS} timed orders ` +
      `and ${BATCHES} batches of ${BATCH_SIZE}; ${ROUNDS} round(s), book order reversed each round`,
  );
  console.log(
    `state: ${ACCOUNTS} accounts x ${SYMBOLS} symbols = ${engine.ledger.positionCount} positions (loaded in ${loadMs.toFixed(0)} ms), ` +
      `${engine.ledger.openOrderCount} open orders; rss ${mib(memory.rss)}, heap used ${mib(memory.heapUsed)} of ${mib(memory.heapTotal)}`,
  );

  const missNs = [dependentLoadNs()];
  const baselines: Baseline[] = [measureBaseline(engine, flow)];
  const runs = new Map<number, BookRun[]>(BOOK_SIZES.map((size) => [size, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const sizes = round % 2 === 0 ? BOOK_SIZES : [...BOOK_SIZES].reverse();
    for (const size of sizes) runs.get(size)!.push(measureBook(engine, flow, world, size));
    baselines.push(measureBaseline(engine, flow));
  }
  missNs.push(dependentLoadNs());
  const rows = BOOK_SIZES.map((size) => combine(size, runs.get(size)!));
  report(rows, combineBaselines(baselines), engine, missNs);
  reportSmallState(rows.find((r) => r.limits === 1_000)!);
  const end = process.memoryUsage();
  console.log(`rss at end ${mib(end.rss)}, heap used ${mib(end.heapUsed)}; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
}


function measureBook(engine: LimitEngine, flow: OrderFlow, world: World, size: number): BookRun {
  engine.replaceLimits(limitBook(size, world));
  for (let i = 0; i < BOOK_WARMUP_ORDERS; i++) checkNext(engine, flow);

  collectGarbage();
  const samples = new Float64Array(TIMED_ORDERS);
  const evaluated = new Uint32Array(TIMED_ORDERS);
  let rejected = 0;
  for (let i = 0; i < TIMED_ORDERS; i++) {
    const order = flow.next();
    const t0 = process.hrtime.bigint();
    const result = engine.checkOrder(order);
    const t1 = process.hrtime.bigint();
    samples[i] = Number(t1 - t0);
    evaluated[i] = result.evaluated;
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
  return { samples, evaluated, batchOrders: BATCHES * BATCH_SIZE, batchNs, rejected };
}

/**
 * What the machine does right now without the engine: build the same order and look its
 * account up in the ledger's 10,000-entry map, timed the same way. Engine figures divided by
 * this survive a noisy neighbour better than raw nanoseconds. The walk over one random
 * account's 100 positions shows what memory latency alone costs gross_notional here.
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
  const walkSamples = new Float64Array(TIMED_ORDERS);
  let notional = 0;
  for (let i = 0; i < TIMED_ORDERS; i++) {
    const accountId = flow.next().accountId;
    const t0 = process.hrtime.bigint();
    const group = accounts.get(accountId);
    if (group !== undefined) {
      const { rows, markets } = group;
      for (let slot = 0, base = 0; slot < markets.length; slot++, base += STRIDE) {
        notional += Math.abs(rows[base + POSITION]! + rows[base + OPEN_BUY]!) * markets[slot]!.refPrice;
      }
    }
    walkSamples[i] = Number(process.hrtime.bigint() - t0);
  }
  if (found === 0 || notional === 0) throw new Error('baseline found no accounts');
  return { samples, walkSamples, batchOrders: BATCHES * BATCH_SIZE, batchNs };
}

function concat(parts: readonly Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

/** All rounds of one book as one distribution. */
function combine(limits: number, runs: readonly BookRun[]): BookFigures {
  let evaluatedSum = 0;
  let evaluatedCount = 0;
  let evaluatedMin = Number.POSITIVE_INFINITY;
  let evaluatedMax = 0;
  for (const run of runs) {
    for (const e of run.evaluated) {
      evaluatedSum += e;
      evaluatedCount++;
      if (e < evaluatedMin) evaluatedMin = e;
      if (e > evaluatedMax) evaluatedMax = e;
    }
  }
  const batchOrders = runs.reduce((n, r) => n + r.batchOrders, 0);
  const batchNs = runs.reduce((n, r) => n + r.batchNs, 0);
  return {
    limits,
    evaluatedMean: evaluatedSum / evaluatedCount,
    evaluatedMin,
    evaluatedMax,
    single: summarise(concat(runs.map((r) => r.samples))),
    roundMedians: runs.map((r) => summarise(Float64Array.from(r.samples)).median),
    batchOrdersPerSecond: batchOrders / (batchNs / 1e9),
    rejected: runs.reduce((n, r) => n + r.rejected, 0),
  };
}

function combineBaselines(runs: readonly Baseline[]): BaselineFigures {
  return {
    single: summarise(concat(runs.map((r) => r.samples))),
    walk: summarise(concat(runs.map((r) => r.walkSamples))),
    roundMedians: runs.map((r) => summarise(Float64Array.from(r.samples)).median),
    batchOrdersPerSecond: runs.reduce((n, r) => n + r.batchOrders, 0) / (runs.reduce((n, r) => n + r.batchNs, 0) / 1e9),
  };
}

/**
 * The same book and flow on a tenth of the state (1,000 accounts × 100 symbols), which mostly
 * stays in the caches: what a check costs apart from waiting on memory, beside the full state's.
 * In a process of its own: beside the full state's heap, collections and write barriers would
 * cost it more than they cost it alone.
 */
function reportSmallState(full: BookFigures): void {
  const args = [...process.execArgv, import.meta.filename, SMALL_STATE_FLAG, ...(isQuick ? ['--quick'] : [])];
  const small = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })) as { median: number; evaluatedMean: number };
  console.log(
    `small state: at ${SMALL_STATE_ACCOUNTS.toLocaleString('en-US')} accounts (${small.evaluatedMean.toFixed(1)} applicable) the median at 1,000 limits is ` +
      `${ns(small.median)} ns, ${(small.median / full.single.median).toFixed(2)} of the full state's ${ns(full.single.median)}: ` +
      `the rest is waiting on memory`,
  );
}

/** The child's side of reportSmallState: the figures as JSON on stdout. */
function measureSmallState(): void {
  const { engine, flow, world } = steadyFlow(SMALL_STATE_ACCOUNTS, 1_000, WARMUP_ORDERS);
  const small = combine(1_000, Array.from({ length: ROUNDS }, () => measureBook(engine, flow, world, 1_000)));
  process.stdout.write(JSON.stringify({ median: small.single.median, evaluatedMean: small.evaluatedMean }));
}

const ns = (value: number): string => value.toFixed(0);
const perSecond = (value: number): string => Math.round(value).toLocaleString('en-US');

function report(rows: readonly BookFigures[], baseline: BaselineFigures, engine: LimitEngine, missNs: readonly number[]): void {
  const base = baseline.single.median;
  const header = ['limits', 'applicable', 'median ns', 'p99 ns', 'mean ns', 'median by round', 'batch100 orders/s', 'median/baseline'];
  const lines: string[][] = rows.map((r) => [
    r.limits.toLocaleString('en-US'),
    r.evaluatedMin === r.evaluatedMax ? String(r.evaluatedMin) : `${r.evaluatedMean.toFixed(1)} (${r.evaluatedMin}-${r.evaluatedMax})`,
    ns(r.single.median),
    ns(r.single.p99),
    ns(r.single.mean),
    r.roundMedians.map(ns).join(' / '),
    perSecond(r.batchOrdersPerSecond),
    (r.single.median / base).toFixed(1),
  ]);
  lines.push([
    'baseline',
    '-',
    ns(base),
    ns(baseline.single.p99),
    ns(baseline.single.mean),
    baseline.roundMedians.map(ns).join(' / '),
    perSecond(baseline.batchOrdersPerSecond),
    '1.0',
  ]);
  const walk = baseline.walk;
  lines.push(['100-position walk', '-', ns(walk.median), ns(walk.p99), ns(walk.mean), '', '', (walk.median / base).toFixed(1)]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const format = (cells: readonly string[]): string =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  console.log('');
  console.log(format(header));
  for (const line of lines) console.log(format(line));
  console.log('');

  const rejected = rows.reduce((sum, r) => sum + r.rejected, 0);
  if (rejected > 0) console.log(`WARNING: ${rejected} measured orders were rejected; the bench expects every order to ACCEPT`);
  const median = (limits: number): number => rows.find((r) => r.limits === limits)!.single.median;
  const at1k = median(1_000);
  const growth = median(10_000) / median(10);
  const sameApplicable = median(10_000) / median(100);
  console.log(
    `median 10,000 / 10 limits: ${growth.toFixed(2)}x (the 10-limit book is half the applicable set); ` +
      `10,000 / 100 limits, both ~20 applicable: ${sameApplicable.toFixed(2)}x`,
  );
  const miss = Math.min(...missNs);
  console.log(
    `memory: a dependent load at random over 128 MiB costs ${missNs.map(ns).join(' / ')} ns here (before / after); ` +
      `the median at 1,000 limits is ${(at1k / miss).toFixed(1)} of them, the 2 µs budget ${(BUDGET_MEDIAN_NS / miss).toFixed(1)}`,
  );
  console.log(
    `at end: ${engine.ledger.openOrderCount} open orders, ${engine.ledger.positionCount} positions, ` +
      `${engine.violations.activeCount} active violations, ${engine.expiredOrders} expired`,
  );
  const isMedianOk = at1k <= BUDGET_MEDIAN_NS;
  const isGrowthOk = growth <= BUDGET_GROWTH;
  console.log(
    `budget (DESIGN §6): median at 1,000 limits ${ns(at1k)} ns ${isMedianOk ? '<=' : '>'} ${BUDGET_MEDIAN_NS} ns: ${isMedianOk ? 'PASS' : 'FAIL'}; ` +
      `growth 10 -> 10,000 limits ${growth.toFixed(2)}x ${isGrowthOk ? '<=' : '>'} ${BUDGET_GROWTH}x: ${isGrowthOk ? 'PASS' : 'FAIL'}`,
  );
}

if (process.argv.includes(SMALL_STATE_FLAG)) measureSmallState();
else main();
