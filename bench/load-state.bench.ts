/**
 * The engine alone on the load tests' state: their world (100 accounts, 50 symbols, positions
 * and reference prices) and ~1,000-limit book (~25 applicable), orders parsed from the bodies
 * their generator sends, checked in batches as the batch route does, with no HTTP around them.
 * Open orders pile up as in the load tests (nothing fills or cancels them), so the accounts'
 * tables grow through the measured part: with the defaults each account goes from 3,000 to 6,000
 * open orders, past the 4,096 where its orders by id become a ShardedMap. Prints nanoseconds an
 * order and the longest batch (a step that grows with state shows there), beside another build
 * when given one, blocks alternating in one process as in engine-ab.
 *
 *   npm run bench:load-state [-- --against <checkout>] [--batch 100] [--warm 300000] [--orders 300000]
 */
import type { LimitEngine } from '../src/domain/engine.js';
import type { Order } from '../src/domain/orders.js';
import * as thisWorld from '../load-tests/world.js';
import { engineBuildOf, loadTestsEngine, THIS_ENGINE_BUILD } from './load-tests-engine.js';
import type { EngineBuild } from './load-tests-engine.js';
import { stringOption, wholeNumberOption } from './options.js';
import { fromBuild } from './other-build.js';
import { collectGarbage } from './stats.js';

/** Batches a side runs before the other side takes its turn. */
const BLOCK_BATCHES = 100;

/** A side's engine modules and its load-tests world (each build makes its own orders). */
interface Build extends EngineBuild {
  world: typeof thisWorld;
}

interface Side {
  name: string;
  engine: LimitEngine;
  flow: thisWorld.OrderFlow;
  ns: number;
  orders: number;
  accepted: number;
  longestBatchNs: number;
}

async function otherBuild(root: string): Promise<Build> {
  return { ...(await engineBuildOf(root)), world: (await fromBuild(root, 'load-tests/world.js')) as typeof thisWorld };
}

function prepare(name: string, build: Build): Side {
  const world = new build.world.World();
  const { engine } = loadTestsEngine(build, world);
  return { name, engine, flow: new build.world.OrderFlow(world, 'ls-'), ns: 0, orders: 0, accepted: 0, longestBatchNs: 0 };
}

/** A batch as the route has it: parsed from the generator's bodies, before the clock starts. */
const batchOf = (flow: thisWorld.OrderFlow, size: number): Order[] => Array.from({ length: size }, () => JSON.parse(flow.next()) as Order);

function runBatches(side: Side, batches: number, size: number, timed: boolean): void {
  for (let b = 0; b < batches; b++) {
    const orders = batchOf(side.flow, size);
    const t0 = process.hrtime.bigint();
    const result = side.engine.checkBatch(orders);
    const ns = Number(process.hrtime.bigint() - t0);
    if (!timed) continue;
    side.ns += ns;
    side.orders += size;
    side.accepted += result.summary.accepted;
    side.longestBatchNs = Math.max(side.longestBatchNs, ns);
  }
}

async function main(): Promise<void> {
  const against = process.argv.includes('--against') ? stringOption('against') : undefined;
  const size = wholeNumberOption('batch', 100);
  const warmBatches = Math.ceil(wholeNumberOption('warm', 300_000) / size);
  const blocks = Math.ceil(wholeNumberOption('orders', 300_000) / size / BLOCK_BATCHES);
  const builds: [string, Build][] = [['this', { ...THIS_ENGINE_BUILD, world: thisWorld }]];
  if (against !== undefined) builds.push(['other', await otherBuild(against)]);
  const sides = builds.map(([name, build]) => prepare(name, build));
  for (const side of sides) runBatches(side, warmBatches, size, false);
  collectGarbage();
  for (let b = 0; b < blocks; b++) for (const side of b % 2 === 0 ? sides : [...sides].reverse()) runBatches(side, BLOCK_BATCHES, size, true);

  console.log(`engine on the load tests' state: batches of ${size}, ${warmBatches * size} orders in first, then ${blocks * BLOCK_BATCHES * size} timed${against === undefined ? '' : `, alternating with ${against}`}`);
  for (const side of sides) {
    const open = side.engine.ledger.openOrderCount;
    console.log(`${side.name.padEnd(6)} ${(side.ns / side.orders).toFixed(0).padStart(7)} ns an order, longest batch ${(side.longestBatchNs / 1e6).toFixed(1)} ms, ${side.accepted}/${side.orders} accepted, ${open} open`);
  }
  const [mine, theirs] = sides;
  if (mine !== undefined && theirs !== undefined) console.log(`this / other: ${(mine.ns / mine.orders / (theirs.ns / theirs.orders)).toFixed(3)}`);
}

await main();
