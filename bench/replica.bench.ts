/**
 * The snapshot worker's share of a check: its replica (JournalReplica) applying the journal
 * writes of the load tests' flow, as the worker applies what the service hands it. A live
 * engine checks the flow in batches (on the load tests' world and book, orders piling up as in
 * bench:load-state) and its journal records, framed as the journal writes them, are saved a
 * batch a write. Then each build's replica applies them in a process of its own
 * (bench/replica-side.ts: the first `--warm` records untimed), the builds taking turns for
 * `--rounds` rounds, and the medians are compared. In the service the worker's replay took
 * about 40 % of the CPU a batched order cost, on a core the service and its clients share.
 *
 * In one process beside the live engine, builds compared unevenly: 1.20 one way round and
 * 1/1.31 the other. On two worker threads a build against itself read 1.11 to 1.30, the first
 * side slower whichever started first. In processes of their own it read 1.049 (3 rounds) and
 * 1.092 (5), a single run varying ±20 % on a busy host: the rounds are what the medians need.
 *
 *   npm run bench:replica [-- --against <checkout>] [--batch 100] [--warm 300000] [--orders 300000] [--rounds 5]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as thisApp from '../src/app.js';
import * as thisSchema from '../src/config/schema.js';
import { systemClock } from '../src/domain/clock.js';
import { LimitEngine } from '../src/domain/engine.js';
import type { StateEvent } from '../src/domain/events.js';
import type { Order, PositionRow } from '../src/domain/orders.js';
import { encodeRecord } from '../src/store/journal-format.js';
import { encodeRecordPayload } from '../src/store/record-encoding.js';
import { OrderFlow, World } from '../load-tests/world.js';
import { stringOption, wholeNumberOption } from './options.js';
import { median } from './stats.js';
import type { SavedFlow, SideResult } from './replica-side.js';

function main(): void {
  const against = process.argv.includes('--against') ? stringOption('against') : undefined;
  const size = wholeNumberOption('batch', 100);
  const warm = wholeNumberOption('warm', 300_000);
  const timed = wholeNumberOption('orders', 300_000);
  const rounds = wholeNumberOption('rounds', 5);
  const dir = mkdtempSync(join(tmpdir(), 'ulc-replica-bench-'));
  try {
    const file = join(dir, 'writes.bin');
    const { warmWrites, records } = saveFlow(file, size, Math.ceil(warm / size), Math.ceil(timed / size));
    const builds: [string, string][] = [['this', resolve(import.meta.dirname, '..')]];
    if (against !== undefined) builds.push(['other', join(resolve(against), 'dist-bench')]);
    const results = new Map<string, SideResult[]>(builds.map(([name]) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const [name, distBench] of round % 2 === 0 ? builds : [...builds].reverse()) results.get(name)!.push(runSide(file, distBench, warmWrites));
    }
    console.log(`snapshot worker's replica on the load tests' flow: batches of ${size}, ${records.warm} records in first, then ${records.timed} timed; ${rounds} rounds, each build in a process of its own${against === undefined ? '' : `, taking turns with ${against}`}`);
    const medians = builds.map(([name]) => {
      const runs = results.get(name)!;
      const middle = median(runs.map((run) => run.nsPerRecord));
      console.log(`${name.padEnd(6)} ${middle.toFixed(0).padStart(7)} ns a record (median; ${runs.map((run) => run.nsPerRecord.toFixed(0)).join(', ')}), ${runs[0]!.openOrders} open orders`);
      return middle;
    });
    if (medians.length === 2) console.log(`this / other: ${(medians[0]! / medians[1]!).toFixed(3)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Checks the flow with a live engine and saves its journal writes (see SavedFlow); answers how many writes warm up. */
function saveFlow(file: string, size: number, warmBatches: number, timedBatches: number): { warmWrites: number; records: { warm: number; timed: number } } {
  const world = new World();
  const config = thisSchema.AppConfigSchema.parse(world.config({ durability: 'off' }));
  const engineConfig = thisApp.engineConfigOf(config);
  const live = new LimitEngine(engineConfig, systemClock, config.limits);
  const events: StateEvent[] = [];
  live.recordEventsTo((event) => events.push(event));
  const flow = new OrderFlow(world, 'rp-');
  const chunks: Buffer[] = [];
  const writes: SavedFlow['writes'] = [];
  let seq = 0;
  const takeWrite = (): void => {
    const bytes = Buffer.concat(events.map((event) => encodeRecord(encodeRecordPayload(++seq, event))));
    chunks.push(bytes);
    writes.push({ bytes: bytes.length, records: events.length });
    events.length = 0;
  };
  live.setReferencePrices(world.marketData().prices);
  live.applyPositions(world.positions().positions as PositionRow[], true);
  takeWrite();
  for (let b = 0; b < warmBatches + timedBatches; b++) {
    live.checkBatch(Array.from({ length: size }, () => JSON.parse(flow.next()) as Order));
    takeWrite();
  }
  writeFileSync(file, Buffer.concat(chunks));
  writeFileSync(`${file}.json`, JSON.stringify({ engineConfig, limits: config.limits, writes } satisfies SavedFlow));
  const warmWrites = 1 + warmBatches;
  const warmRecords = writes.slice(0, warmWrites).reduce((sum, write) => sum + write.records, 0);
  return { warmWrites, records: { warm: warmRecords, timed: seq - warmRecords } };
}

/** One build's replica over the saved writes, in a process of its own with this one's Node flags. */
function runSide(file: string, distBench: string, warmWrites: number): SideResult {
  const script = join(resolve(import.meta.dirname), 'replica-side.js');
  const out = execFileSync(process.execPath, [...process.execArgv, script, file, distBench, String(warmWrites)], { encoding: 'utf8', maxBuffer: 1024 * 1024 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as SideResult;
}

main();
