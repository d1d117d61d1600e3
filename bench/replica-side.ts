/**
 * One side of bench:replica, in a process of its own: a build's JournalReplica applying the
 * journal writes the bench saved, the first `warm` of them untimed, as the snapshot worker's
 * thread applies what the service hands it. Prints one JSON line: nanoseconds a record and
 * the open orders the replica holds at the end.
 *
 *   node replica-side.js <writes file> <build's dist-bench> <warm writes>
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as thisReplica from '../src/store/journal-replica.js';
import type { EngineConfig } from '../src/domain/engine.js';

/** What the bench saves for the sides: the replica's setup, and the writes as lengths and bytes. */
export interface SavedFlow {
  engineConfig: EngineConfig;
  limits: readonly unknown[];
  /** Each write's byte length and records, in order. */
  writes: { bytes: number; records: number }[];
}

export interface SideResult {
  nsPerRecord: number;
  openOrders: number;
}

const [file, distBench, warmText] = process.argv.slice(2);
if (file === undefined || distBench === undefined || warmText === undefined) throw new Error('usage: replica-side.js <writes file> <dist-bench> <warm writes>');
const saved = JSON.parse(readFileSync(`${file}.json`, 'utf8')) as SavedFlow;
const all = readFileSync(file);
const { JournalReplica } = (await import(pathToFileURL(join(distBench, 'src/store/journal-replica.js')).href)) as typeof thisReplica;
const replica = new JournalReplica(saved.engineConfig, saved.limits);
const warm = Number(warmText);
let at = 0;
let ns = 0;
let records = 0;
for (const [index, write] of saved.writes.entries()) {
  const bytes = all.subarray(at, at + write.bytes);
  at += write.bytes;
  const t0 = process.hrtime.bigint();
  replica.apply(bytes);
  if (index < warm) continue;
  ns += Number(process.hrtime.bigint() - t0);
  records += write.records;
}
const result: SideResult = { nsPerRecord: ns / records, openOrders: replica.engine.ledger.openOrderCount };
console.log(JSON.stringify(result));
