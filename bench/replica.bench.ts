/**
 * The snapshot worker's share of a check: its replica (JournalReplica) applying the journal
 * writes of the load tests' flow, as the worker applies what the service hands it. A live
 * engine checks the flow in batches (untimed, on the load tests' world and book, orders piling
 * up as in bench:load-state) and its journal records, framed as the journal writes them, go to
 * the replica a batch a write. In the service the worker's replay took about 40 % of the CPU a
 * batched order cost, on a core the service and its clients share. Prints nanoseconds a record,
 * beside another build's replica fed the same bytes when given one (a build that has
 * src/store/journal-replica.ts), blocks alternating in one process as in engine-ab.
 *
 *   npm run bench:replica [-- --against <checkout>] [--batch 100] [--warm 300000] [--orders 300000]
 */
import * as thisApp from '../src/app.js';
import * as thisSchema from '../src/config/schema.js';
import { systemClock } from '../src/domain/clock.js';
import { LimitEngine } from '../src/domain/engine.js';
import type { StateEvent } from '../src/domain/events.js';
import type { Order, PositionRow } from '../src/domain/orders.js';
import { encodeRecord } from '../src/store/journal-format.js';
import * as thisReplica from '../src/store/journal-replica.js';
import { encodeRecordPayload } from '../src/store/record-encoding.js';
import { OrderFlow, World } from '../load-tests/world.js';
import { stringOption, wholeNumberOption } from './options.js';
import { fromBuild } from './other-build.js';
import { collectGarbage } from './stats.js';

/** Batches a side applies before the other side takes its turn. */
const BLOCK_BATCHES = 100;

interface Write {
  bytes: Buffer;
  records: number;
}

interface Side {
  name: string;
  replica: thisReplica.JournalReplica;
  ns: number;
  records: number;
}

function main(): Promise<void> {
  const against = process.argv.includes('--against') ? stringOption('against') : undefined;
  const size = wholeNumberOption('batch', 100);
  const warmBatches = Math.ceil(wholeNumberOption('warm', 300_000) / size);
  const blocks = Math.ceil(wholeNumberOption('orders', 300_000) / size / BLOCK_BATCHES);
  return run(against, size, warmBatches, blocks);
}

async function run(against: string | undefined, size: number, warmBatches: number, blocks: number): Promise<void> {
  const world = new World();
  const config = thisSchema.AppConfigSchema.parse(world.config({ durability: 'off' }));
  const engineConfig = thisApp.engineConfigOf(config);
  const live = new LimitEngine(engineConfig, systemClock, config.limits);
  const events: StateEvent[] = [];
  live.recordEventsTo((event) => events.push(event));
  const replicas: [string, typeof thisReplica][] = [['this', thisReplica]];
  if (against !== undefined) replicas.push(['other', (await fromBuild(against, 'src/store/journal-replica.js')) as typeof thisReplica]);
  const sides: Side[] = replicas.map(([name, build]) => ({ name, replica: new build.JournalReplica(engineConfig, config.limits), ns: 0, records: 0 }));
  const flow = new OrderFlow(world, 'rp-');
  let seq = 0;

  /** The events recorded since the last call, framed as one journal write. */
  const takeWrite = (): Write => {
    const write = { bytes: Buffer.concat(events.map((event) => encodeRecord(encodeRecordPayload(++seq, event)))), records: events.length };
    events.length = 0;
    return write;
  };
  const nextWrite = (): Write => {
    live.checkBatch(Array.from({ length: size }, () => JSON.parse(flow.next()) as Order));
    return takeWrite();
  };
  const apply = (side: Side, writes: readonly Write[], isTimed: boolean): void => {
    const t0 = process.hrtime.bigint();
    for (const write of writes) side.replica.apply(write.bytes);
    if (!isTimed) return;
    side.ns += Number(process.hrtime.bigint() - t0);
    for (const write of writes) side.records += write.records;
  };
  live.setReferencePrices(world.marketData().prices);
  live.applyPositions(world.positions().positions as PositionRow[], true);
  const setup = [takeWrite()];
  for (const side of sides) apply(side, setup, false);

  for (let b = 0; b < warmBatches; b += BLOCK_BATCHES) {
    const writes = Array.from({ length: Math.min(BLOCK_BATCHES, warmBatches - b) }, nextWrite);
    for (const side of sides) apply(side, writes, false);
  }
  const recordsBefore = seq;
  collectGarbage();
  for (let b = 0; b < blocks; b++) {
    const writes = Array.from({ length: BLOCK_BATCHES }, nextWrite);
    for (const side of b % 2 === 0 ? sides : [...sides].reverse()) apply(side, writes, true);
  }

  console.log(`snapshot worker's replica on the load tests' flow: batches of ${size}, ${recordsBefore} records in first, then ${seq - recordsBefore} timed${against === undefined ? '' : `, alternating with ${against}`}`);
  for (const side of sides) {
    console.log(`${side.name.padEnd(6)} ${(side.ns / side.records).toFixed(0).padStart(7)} ns a record, ${side.replica.engine.ledger.openOrderCount} open orders`);
  }
  const [mine, theirs] = sides;
  if (mine !== undefined && theirs !== undefined) console.log(`this / other: ${(mine.ns / mine.records / (theirs.ns / theirs.records)).toFixed(3)}`);
}

await main();
