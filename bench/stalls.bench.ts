/**
 * Event-loop stalls that grow with state (DESIGN §6: never blocked more than 10 ms): the one
 * synchronous engine call each case makes, timed at N units of the state it scales with, on the
 * production default config (capacities raised where N passes them). Run it on this build and
 * on another checkout's (`--against DIR`, its dist-bench built) to compare, in turn per case.
 *
 *   npm run bench:stalls [-- --n 100000] [--reps 3] [--against ../before] [--only TEXT]
 *
 * `--only TEXT` runs the cases whose name holds TEXT.
 */
import { resolve } from 'node:path';
import type { LimitEngine } from '../src/domain/engine.js';
import type { Order } from '../src/domain/orders.js';
import { LINK_SLICE } from '../src/http/routes/limits.js';
import { FLATTEN_SLICE } from '../src/http/routes/positions.js';
import { inapplicableLimits } from './limit-books.js';
import { stringOption, wholeNumberOption } from './options.js';
import { SimClock } from './sim-clock.js';
import { collectGarbage } from './stats.js';
import { fromDist } from './other-build.js';

type EngineClass = new (config: unknown, clock: SimClock, limits: readonly unknown[]) => LimitEngine;
interface Build {
  name: string;
  Engine: EngineClass;
  config: (capacity: Record<string, number>) => unknown;
}

const START = Date.UTC(2026, 10, 25, 14, 30);
const TTL_MS = 86_400_000;
const LATE_FILL_MS = 300_000;
const BIG = { maxOpenOrders: 100_000_000, maxPositions: 100_000_000, maxSymbols: 10_000_000, maxWindowKeys: 10_000_000, maxActiveViolations: 10_000_000 };

async function load(name: string, dist: string): Promise<Build> {
  const { LimitEngine: Engine } = (await fromDist(dist, 'src/domain/engine.js')) as { LimitEngine: EngineClass };
  const { AppConfigSchema } = (await fromDist(dist, 'src/config/schema.js')) as { AppConfigSchema: { parse(input: unknown): unknown } };
  const { engineConfigOf } = (await fromDist(dist, 'src/app.js')) as { engineConfigOf: (config: unknown) => { capacity: Record<string, number> } };
  const base = engineConfigOf(AppConfigSchema.parse({ schemaVersion: 1, storage: { durability: 'off' } }));
  return { name, Engine, config: (capacity) => ({ ...base, capacity: { ...base.capacity, ...capacity } }) };
}

const order = (i: number, fields: Partial<Order> = {}): Order => ({
  orderId: `O-${i}`,
  accountId: `ACC-${i % 10_000}`,
  strategyId: `S-${i % 50}`,
  symbol: `SYM-${i % 100}`,
  side: 'BUY',
  quantity: 100,
  price: 10,
  orderType: 'LIMIT',
  ...fields,
});

function timed(call: () => unknown): number {
  const t0 = performance.now();
  call();
  return performance.now() - t0;
}

/** N positions: accounts of 100 symbols each, in one strategy. */
function withPositions(engine: LimitEngine, n: number): LimitEngine {
  for (let from = 0; from < n; from += 10_000) {
    const rows = [];
    for (let i = from; i < Math.min(n, from + 10_000); i++) {
      rows.push({ accountId: `ACC-${Math.floor(i / 100)}`, strategyId: 'S', symbol: `SYM-${i % 100}`, quantity: 100, avgPrice: 10 });
    }
    engine.applyPositions(rows, false);
  }
  return engine;
}

/** Each case builds its state untimed and returns the time of the one call that pays for it. */
/** A replace by one row as the positions route makes it past FLATTEN_SLICE held (a turn between steps): its longest step. A build before it replaces in one step. */
function replaceByOneRow(engine: LimitEngine): number {
  const row = { accountId: 'ACC-0', strategyId: 'S', symbol: 'SYM-0', quantity: 5, avgPrice: 10 };
  if (typeof engine.beginPositionsReplace !== 'function') return timed(() => engine.applyPositions([row], true));
  const steps = [timed(() => engine.beginPositionsReplace())];
  let isLeft = true;
  while (isLeft) steps.push(timed(() => (isLeft = engine.flattenForReplace(FLATTEN_SLICE))));
  steps.push(timed(() => engine.replacePositionsSlice([row], true)));
  return Math.max(...steps);
}

const CASES: Record<string, (build: Build, n: number) => number> = {
  'sweep, N live rate keys': ({ Engine, config }, n) => {
    const clock = new SimClock(START);
    const engine = new Engine(config(BIG), clock, [{ id: 'r', kind: 'order_rate', per: 'account', windowMs: 60_000, thresholds: { hard: 1_000 } }]);
    for (let i = 0; i < n; i++) engine.checkOrder(order(i, { accountId: `ACC-${i}` }));
    clock.advance(100);
    return timed(() => engine.sweep());
  },
  'sweep, N duplicate keys ageing out together': ({ Engine, config }, n) => {
    const clock = new SimClock(START);
    const engine = new Engine(config(BIG), clock, [{ id: 'd', kind: 'duplicate_order', windowMs: 1_000, thresholds: { hard: 5 } }]);
    for (let i = 0; i < n; i++) engine.checkOrder(order(i, { accountId: `ACC-${i % 1_000}`, quantity: 100 + i }));
    clock.advance(2_000);
    return timed(() => engine.sweep());
  },
  'check finding N idle orders due to expire': ({ Engine, config }, n) => {
    const clock = new SimClock(START);
    const engine = new Engine(config(BIG), clock, []);
    for (let i = 0; i < n; i++) engine.checkOrder(order(i));
    clock.advance(TTL_MS + 1);
    return timed(() => engine.checkOrder(order(n + 1)));
  },
  'check finding N closed orders to forget': ({ Engine, config }, n) => {
    const clock = new SimClock(START);
    const engine = new Engine(config(BIG), clock, []);
    for (let i = 0; i < n; i++) engine.checkOrder(order(i));
    for (let from = 0; from < n; from += 10_000) {
      const upTo = Math.min(n, from + 10_000);
      engine.applyExecutions(Array.from({ length: upTo - from }, (_, k) => ({ type: 'CANCEL' as const, accountId: `ACC-${(from + k) % 10_000}`, orderId: `O-${from + k}` })));
    }
    clock.advance(LATE_FILL_MS + 1);
    return timed(() => engine.checkOrder(order(n + 1, { accountId: 'Y' })));
  },
  'DELETE of a limit holding N active violations, one stream': ({ Engine, config }, n) => {
    const engine = new Engine(config(BIG), new SimClock(START), [{ id: 'p', kind: 'position', per: 'account+symbol', thresholds: { hard: 1 } }]);
    for (let i = 0; i < n; i++) {
      const input = { limitId: 'p', kind: 'position', key: `account+symbol:ACC-${i}|S`, severity: 'HARD_BREACH', action: 'BLOCK', value: 2, threshold: 1, orderId: undefined, message: 'position 2 above 1' } as const;
      engine.violations.record(input, START);
    }
    // What a violation stream does with each notice: encode it.
    let bytes = 0;
    engine.violations.subscribe((notice) => {
      bytes += JSON.stringify(notice).length;
    });
    const ms = timed(() => engine.deleteLimit('p'));
    if (bytes === 0) throw new Error('the stream heard nothing');
    return ms;
  },
  'session reset, N positions held': ({ Engine, config }, n) => {
    const engine = withPositions(new Engine(config(BIG), new SimClock(START), []), n);
    return timed(() => engine.resetSession());
  },
  'session reset, N positions closed today (realized P&L only)': ({ Engine, config }, n) => {
    const engine = withPositions(new Engine(config(BIG), new SimClock(START), []), n);
    for (let from = 0; from < n; from += 10_000) {
      const fills = [];
      for (let i = from; i < Math.min(n, from + 10_000); i++) {
        const sell = order(i, { accountId: `ACC-${Math.floor(i / 100)}`, strategyId: 'S', symbol: `SYM-${i % 100}`, side: 'SELL', price: 11 });
        engine.checkOrder(sell);
        fills.push({ type: 'FILL' as const, accountId: sell.accountId, orderId: sell.orderId, quantity: 100, price: 11 });
      }
      engine.applyExecutions(fills);
    }
    return timed(() => engine.resetSession());
  },
  'positions replace by one row, N positions held, 1 in 10 accounts with an open order': ({ Engine, config }, n) => {
    const engine = withPositions(new Engine(config(BIG), new SimClock(START), []), n);
    for (let a = 0; a < n / 100; a += 10) engine.checkOrder(order(a, { accountId: `ACC-${a}`, strategyId: 'S', symbol: 'SYM-1' }));
    return timed(() => engine.applyPositions([{ accountId: 'ACC-0', strategyId: 'S', symbol: 'SYM-0', quantity: 5, avgPrice: 10 }], true));
  },
  'PUT /v1/positions replacing by one row, N positions held, 1 in 10 accounts with an open order (longest step)': ({ Engine, config }, n) => {
    const engine = withPositions(new Engine(config(BIG), new SimClock(START), []), n);
    for (let a = 0; a < n / 100; a += 10) engine.checkOrder(order(a, { accountId: `ACC-${a}`, strategyId: 'S', symbol: 'SYM-1' }));
    return replaceByOneRow(engine);
  },
  'PUT /v1/positions replacing by one row, N accounts of one position each (longest step)': ({ Engine, config }, n) => {
    const engine = new Engine(config(BIG), new SimClock(START), []);
    for (let from = 0; from < n; from += 10_000) {
      const rows = Array.from({ length: Math.min(10_000, n - from) }, (_, k) => ({ accountId: `ACC-${from + k}`, strategyId: 'S', symbol: `SYM-${(from + k) % 100}`, quantity: 100, avgPrice: 10 }));
      engine.applyPositions(rows, false);
    }
    return replaceByOneRow(engine);
  },
  'adding the first firm-wide self_trade limit, N open orders (longest step)': ({ Engine, config }, n) => {
    const engine = new Engine(config(BIG), new SimClock(START), []);
    for (let i = 0; i < n; i++) engine.checkOrder(order(i, { price: 10 + (i % 7) }));
    const definition = { id: 'st', kind: 'self_trade', per: 'symbol', thresholds: { hard: 0 } } as const;
    const steps: number[] = [];
    // As the limits route does (a turn between slices); a build before prepareTracking links every order in the change.
    if (typeof engine.prepareTracking === 'function') {
      steps.push(timed(() => engine.prepareTracking([definition])));
      let isLeft = true;
      while (isLeft) steps.push(timed(() => (isLeft = engine.trackSome(LINK_SLICE))));
    }
    steps.push(timed(() => engine.upsertLimit(definition)));
    return Math.max(...steps);
  },
  'removing the last firm-wide self_trade limit, N open orders': ({ Engine, config }, n) => {
    const engine = new Engine(config(BIG), new SimClock(START), [{ id: 'st', kind: 'self_trade', per: 'symbol', thresholds: { hard: 0 } }]);
    for (let i = 0; i < n; i++) engine.checkOrder(order(i, { price: 10 + (i % 7) }));
    return timed(() => engine.deleteLimit('st'));
  },
  'PUT of one limit in a book of N/10 (maxLimits at most)': ({ Engine, config }, n) => {
    // The one added must fit too: a book is at most 100,000 limits (config).
    const engine = new Engine(config(BIG), new SimClock(START), inapplicableLimits(Math.min(Math.floor(n / 10), 99_999)));
    engine.recordEventsTo((event) => JSON.stringify(event));
    return timed(() => engine.upsertLimit({ id: 'new', kind: 'order_quantity', thresholds: { hard: 5 } }));
  },
};

async function main(): Promise<void> {
  const n = wholeNumberOption('n', 100_000);
  const reps = wholeNumberOption('reps', 3);
  const against = process.argv.includes('--against') ? stringOption('against') : undefined;
  const only = process.argv.includes('--only') ? stringOption('only') : undefined;
  const builds = [await load('this', resolve(import.meta.dirname, '..'))];
  if (against !== undefined) builds.push(await load('other', resolve(against, 'dist-bench')));
  console.log(`stalls at N = ${n}, median of ${reps} (min-max), ms; node ${process.version}`);
  for (const [name, run] of Object.entries(CASES)) {
    if (only !== undefined && !name.includes(only)) continue;
    const line = builds.map((build) => {
      const times: number[] = [];
      for (let r = 0; r < reps; r++) {
        collectGarbage();
        times.push(run(build, n));
      }
      times.sort((a, b) => a - b);
      return `${build.name} ${times[Math.floor(reps / 2)]!.toFixed(1)} (${times[0]!.toFixed(1)}-${times[reps - 1]!.toFixed(1)})`;
    });
    console.log(`${name.padEnd(46)} ${line.join('   ')}`);
  }
}

await main();
