/**
 * What a single check costs the engine where the HTTP route runs it: between two requests the
 * HTTP stack's own work (parsing, routing, serialising, the socket) pushes the engine's state
 * out of the core's caches, so every check starts cold. Each timed check here follows a read
 * of `--evict-mb` MB of other memory (2 by default: with it the full book reads about what the
 * service's own ulc_check_duration_seconds says a single check takes in the load tests).
 *
 * The state and book are the load tests' (100 accounts x 50 symbols, ~1,000 limits, ~24 apply to
 * an order). Besides the full book, it measures the book with each limit kind left out, and an
 * empty one: the difference is what that kind costs a cold check. Every variant is an engine of
 * its own, all built first and then timed in turns, so a noisy neighbour hits all alike.
 *
 * With `--against <checkout>` (built with `npx tsc -p tsconfig.bench.json`) it times instead this
 * build's full book and that build's, in turns, and prints their ratio: the A/B of a change to
 * what a single check costs over HTTP (in separate runs the host's noise swamps a 10 % change).
 *
 *   npm run bench:cold [-- --evict-mb 2] [--rounds 12] [--against <checkout>]
 */
import type { LimitEngine } from '../src/domain/engine.js';
import { ORDER_LIMIT_KINDS } from '../src/domain/enums.js';
import type { LimitDefinition } from '../src/domain/limit-definition.js';
import type { ExecutionEvent, Order } from '../src/domain/orders.js';
import { OrderFlow, World } from '../load-tests/world.js';
import { engineBuildOf, loadTestsEngine, THIS_ENGINE_BUILD } from './load-tests-engine.js';
import type { EngineBuild } from './load-tests-engine.js';
import { stringOption, wholeNumberOption } from './options.js';
import { summarise } from './stats.js';

const EVICT_MB = process.argv.includes('--evict-mb') ? wholeNumberOption('evict-mb', 2) : 2;
const ROUNDS = process.argv.includes('--rounds') ? wholeNumberOption('rounds', 12) : 12;
const WARMUP_CHECKS = 8_000;
const CHECKS_PER_TURN = 1_000;
/** Open orders each variant holds: the oldest thousand are cancelled whenever it passes this. */
const OPEN_ORDERS = 5_000;
const RETIRE = 1_000;

interface Variant {
  readonly name: string;
  readonly limits: number;
  readonly engine: LimitEngine;
  readonly world: World;
  readonly flow: OrderFlow;
  readonly open: Order[];
  readonly samples: number[];
  checks: number;
}

function variant(name: string, keep: (limit: LimitDefinition) => boolean, build: EngineBuild = THIS_ENGINE_BUILD): Variant {
  const world = new World();
  const { engine, limits } = loadTestsEngine(build, world, keep);
  return { name, limits, engine, world, flow: new OrderFlow(world, 'cold-'), open: [], samples: [], checks: 0 };
}

/**
 * Reads one double per 64-byte line of a buffer larger than a core's caches; the sum is
 * printed, so the reads cannot be optimised away.
 */
const evictionBuffer = new Float64Array((EVICT_MB * 1024 * 1024) / 8).fill(1);
let evicted = 0;
function evictCaches(): void {
  let sum = 0;
  for (let i = 0; i < evictionBuffer.length; i += 8) sum += evictionBuffer[i]!;
  evicted += sum;
}

/** `count` checks of the variant's flow, as the HTTP route makes them (wall clock, a deadline), timed if `isTimed`. */
function run(v: Variant, count: number, isTimed: boolean): void {
  for (let i = 0; i < count; i++) {
    const order = JSON.parse(v.flow.next()) as Order;
    if (EVICT_MB > 0) evictCaches();
    const t0 = process.hrtime.bigint();
    const result = v.engine.checkOrder(order, performance.now() + 1_000);
    const t1 = process.hrtime.bigint();
    if (isTimed) v.samples.push(Number(t1 - t0));
    if (result.decision === 'ACCEPT') v.open.push(order);
    if (v.open.length > OPEN_ORDERS) {
      const cancels: ExecutionEvent[] = v.open.splice(0, RETIRE).map((o) => ({ type: 'CANCEL', accountId: o.accountId, orderId: o.orderId }));
      v.engine.applyExecutions(cancels);
    }
    // As the service's market-data feed and sweeper would, outside the timed call.
    if (++v.checks % 1_000 === 0) {
      v.engine.setReferencePrices(v.world.marketData().prices);
      v.engine.sweep();
    }
  }
}

async function main(): Promise<void> {
  const against = process.argv.includes('--against') ? stringOption('against') : undefined;
  const kinds = ORDER_LIMIT_KINDS.filter((kind) => kind !== 'restricted');
  const variants =
    against === undefined
      ? [
          variant('full book', () => true),
          variant('empty book', () => false),
          ...kinds.map((kind) => variant(`without ${kind}`, (limit) => limit.kind !== kind)),
        ]
      : [variant('this build, full book', () => true), variant('other build, full book', () => true, await engineBuildOf(against))];
  for (const v of variants) run(v, WARMUP_CHECKS, false);
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of round % 2 === 0 ? variants : [...variants].reverse()) run(v, CHECKS_PER_TURN, true);
  }
  const median = (v: Variant): number => summarise(Float64Array.from(v.samples)).median / 1_000;
  const full = median(variants[0]!);
  console.log(
    `cold checks: the load tests' world, ${EVICT_MB} MB read before each check (checksum ${evicted}), ` +
      `${ROUNDS} turns x ${CHECKS_PER_TURN} checks per variant${against === undefined ? '' : `, other = ${against}`}; node ${process.version}`,
  );
  console.log(`${'book'.padEnd(28)} ${'limits'.padStart(6)} ${'median µs'.padStart(10)} ${'kind costs µs'.padStart(14)}`);
  for (const v of variants) {
    const value = median(v);
    const cost = v.name.startsWith('without ') ? (full - value).toFixed(2) : '';
    console.log(`${v.name.padEnd(28)} ${String(v.limits).padStart(6)} ${value.toFixed(2).padStart(10)} ${cost.padStart(14)}`);
  }
  if (against !== undefined) console.log(`this / other: median ${(full / median(variants[1]!)).toFixed(3)}`);
}

await main();
