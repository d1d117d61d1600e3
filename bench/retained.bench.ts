/**
 * What the ledger keeps per order: heap bytes per open order, and per order remembered after
 * its cancel (for late fills), with orders parsed from JSON as the service parses them; and
 * what a duplicate_order limit keeps per signature in its window (heap and array buffers: its
 * columns are typed arrays). Ids of
 * up to 10 characters come out of V8's JSON.parse as shared strings; longer ones, as real
 * account and strategy ids usually are, come out as a fresh copy per order, so both are shown.
 * Unlike time, retained bytes barely depend on the host: one run is enough. Beside them, a full
 * collection's time before the orders and with the closed ones remembered (what marking them
 * costs; noisy, so compare the builds in one run).
 *
 *   npm run bench:retained [-- --orders 200000] [--against DIR]
 *
 * `--against DIR` measures another checkout's build (its dist-bench) the same way, each
 * measurement in a process of its own.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Order } from '../src/domain/orders.js';
import type * as Fixture from './engine-fixture.js';
import type * as Books from './limit-books.js';
import { stringOption, wholeNumberOption } from './options.js';
import { fromDist } from './other-build.js';
import { median } from './stats.js';
import type * as Stats from './stats.js';

interface Retained {
  perOpen: number;
  perClosed: number;
  /** A full collection's time (median of five), before the orders and with the closed ones remembered: marking is most of it. */
  fullGcMsBefore: number;
  fullGcMsClosed: number;
}

const longIds = (text: string): string => text.replace('"ACC-', '"ACCOUNT-PROD-').replace('"STRAT-', '"STRATEGY-DESK-');

/** A build's engine on 100 accounts x 100 symbols of positions, its order flow, and the book it would bench with. */
async function loaded(dist: string) {
  const { World, makeEngine, loadPositions, OrderFlow } = (await fromDist(dist, 'bench/engine-fixture.js')) as typeof Fixture;
  const { limitBook } = (await fromDist(dist, 'bench/limit-books.js')) as typeof Books;
  const { seededRandom } = (await fromDist(dist, 'bench/stats.js')) as typeof Stats;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  const world = new World(seededRandom(42), 100);
  const { engine, clock } = makeEngine(world);
  loadPositions(engine, world);
  return { engine, flow: new OrderFlow(engine, clock, world), book: limitBook(20, world), gc };
}

/** One build, one kind of id, in this process: the figures as JSON on stdout. */
async function child(dist: string, isLong: boolean, orders: number): Promise<Retained> {
  const { engine, flow, book, gc } = await loaded(dist);
  // No windowed limits: their keys are not what is measured here.
  engine.replaceLimits(book.filter((l) => l.kind !== 'duplicate_order' && l.kind !== 'order_rate'));
  const parsed = (text: string): Order => JSON.parse(isLong ? longIds(text) : text) as Order;
  const check = (): void => {
    engine.checkOrder(parsed(JSON.stringify(flow.next())));
  };
  const cancelAll = (): void => {
    const cancels = engine.ledger.capture().openOrders.map((o) => ({ type: 'CANCEL' as const, accountId: (JSON.parse(JSON.stringify({ accountId: o.accountId })) as { accountId: string }).accountId, orderId: o.orderId }));
    engine.applyExecutions(cancels);
    if (engine.ledger.openOrderCount !== 0) throw new Error('cancels left orders open');
    // As the service's sweeper does within a second: orders kept as spares past those in use go.
    engine.sweep();
  };
  // Warm up, then start from no open order, so that every order counted below is one of `orders`.
  for (let i = 0; i < 1_000; i++) check();
  cancelAll();
  const heapAt = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const fullGcMs = (): number => fullGcMsOf(gc);
  const before = heapAt();
  const fullGcMsBefore = fullGcMs();
  for (let i = 0; i < orders; i++) check();
  const open = engine.ledger.openOrderCount;
  const withOpen = heapAt();
  cancelAll();
  const withClosed = heapAt();
  return { perOpen: (withOpen - before) / open, perClosed: (withClosed - before) / open, fullGcMsBefore, fullGcMsClosed: fullGcMs() };
}

interface WindowKeys {
  keys: number;
  perKey: number;
  fullGcMsBefore: number;
  fullGcMsWith: number;
}

/** One build: a book of the duplicate_order limit alone, `orders` accepted within its window (nearly every one a signature of its own). */
async function childWindows(dist: string, orders: number): Promise<WindowKeys> {
  const { engine, flow, book, gc } = await loaded(dist);
  const held = (): number => {
    gc();
    gc();
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return heapUsed + arrayBuffers;
  };
  engine.replaceLimits(book.filter((l) => l.kind === 'duplicate_order'));
  const before = held();
  const fullGcMsBefore = fullGcMsOf(gc);
  // The clock stands still: every order stays in the window.
  for (let i = 0; i < orders; i++) engine.checkOrder(JSON.parse(JSON.stringify(flow.next())) as Order);
  let keys = 0;
  for (const limit of engine.book.values()) keys += limit.windows.size;
  // The open orders the checks reserved are not the windows' part: cancelled and swept away first.
  engine.applyExecutions(engine.ledger.capture().openOrders.map((o) => ({ type: 'CANCEL' as const, accountId: o.accountId, orderId: o.orderId })));
  engine.ledger.forgetClosed(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  engine.sweep();
  return { keys, perKey: (held() - before) / keys, fullGcMsBefore, fullGcMsWith: fullGcMsOf(gc) };
}

/** A full collection's time, median of five: marking is most of it. */
function fullGcMsOf(gc: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    gc();
    times.push(performance.now() - started);
  }
  return median(times);
}

/** One measurement in a process of its own (`--expose-gc`, nothing else in its heap): its figures, from its stdout. */
function inChild<T>(args: string[]): T {
  return JSON.parse(execFileSync(process.execPath, ['--expose-gc', import.meta.filename, ...args], { encoding: 'utf8' })) as T;
}

const measure = (dist: string, isLong: boolean, orders: number): Retained => inChild(['--child', dist, '--long', String(isLong), '--orders', String(orders)]);

const measureWindows = (dist: string, orders: number): WindowKeys => inChild(['--child-windows', dist, '--orders', String(orders)]);

async function main(): Promise<void> {
  const orders = wholeNumberOption('orders', 200_000);
  if (process.argv.includes('--child')) {
    process.stdout.write(JSON.stringify(await child(stringOption('child'), stringOption('long') === 'true', orders)));
    return;
  }
  if (process.argv.includes('--child-windows')) {
    process.stdout.write(JSON.stringify(await childWindows(stringOption('child-windows'), orders)));
    return;
  }
  const builds: [string, string][] = [['this', resolve(import.meta.dirname, '..')]];
  if (process.argv.includes('--against')) builds.push(['other', resolve(stringOption('against'), 'dist-bench')]);
  console.log(`retained heap per order, ${orders} orders accepted then cancelled (100 accounts x 100 symbols):`);
  console.log('build   ids                        per open order   per closed order remembered   full collection, ms: before / closed remembered');
  for (const [name, dist] of builds) {
    for (const isLong of [false, true]) {
      const { perOpen, perClosed, fullGcMsBefore, fullGcMsClosed } = measure(dist, isLong, orders);
      const ids = isLong ? 'long (ACCOUNT-PROD-00042)' : 'short (ACC-00042)';
      const full = `${fullGcMsBefore.toFixed(1)} / ${fullGcMsClosed.toFixed(1)}`;
      console.log(`${name.padEnd(8)}${ids.padEnd(27)}${perOpen.toFixed(0).padStart(10)} B${perClosed.toFixed(0).padStart(20)} B${full.padStart(30)}`);
    }
  }
  console.log(`\nduplicate_order window keys, ${orders} orders accepted within the window (heap and array buffers):`);
  console.log('build   keys        per key   full collection, ms: before / with the keys');
  for (const [name, dist] of builds) {
    const { keys, perKey, fullGcMsBefore, fullGcMsWith } = measureWindows(dist, orders);
    console.log(`${name.padEnd(8)}${String(keys).padEnd(10)}${perKey.toFixed(0).padStart(7)} B${`${fullGcMsBefore.toFixed(1)} / ${fullGcMsWith.toFixed(1)}`.padStart(30)}`);
  }
}

await main();
