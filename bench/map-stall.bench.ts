/**
 * The longest single operation of a large, churning string-keyed map: a plain Map against a
 * ShardedMap, side by side in one run. The churn is the closed-order table's (each close adds
 * an `account|order` key, the oldest goes once `--live` are held): V8 rebuilds a plain Map's
 * whole table every (capacity − size) inserts, in one step. Reported: the worst operation and
 * the 99.999th percentile of each, and their ratio.
 *
 *   npm run bench:map-stall [-- --live 500000] [--rounds 6]
 */
import { PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { ShardedMap } from '../src/domain/sharded-map.js';
import { wholeNumberOption } from './options.js';
import { collectGarbage, percentile } from './stats.js';

interface MapLike {
  set(key: string, value: object): unknown;
  delete(key: string): boolean;
}

interface Pauses {
  worstMs: number;
  p99999Ms: number;
  totalMs: number;
  /** Operations over 1 ms: when they started, how long they took. */
  slow: [number, number][];
}

/** The longest operation that no garbage collection overlapped: the map's own pause. */
function worstWithoutGc(pauses: Pauses, collections: readonly PerformanceEntry[]): number {
  const overlaps = ([at, ms]: [number, number]): boolean => collections.some((gc) => gc.startTime < at + ms && gc.startTime + gc.duration > at);
  return pauses.slow.filter((op) => !overlaps(op)).reduce((worst, [, ms]) => Math.max(worst, ms), 0);
}

/** Keys made as the service makes them (one per close), the live ones held in a ring for their delete. */
function churn(map: MapLike, live: number, operations: number): Pauses {
  const value = {};
  const held: string[] = new Array<string>(live);
  const keyOf = (i: number): string => `ACC-${String(i % 10_000).padStart(5, '0')}|ORD-${i}`;
  for (let i = 0; i < live; i++) map.set((held[i] = keyOf(i)), value);
  const samples = new Float64Array(operations);
  const slow: [number, number][] = [];
  let total = 0;
  for (let n = 0; n < operations; n++) {
    const i = live + n;
    const key = keyOf(i);
    const slot = i % live;
    const t0 = performance.now();
    map.set(key, value);
    map.delete(held[slot]!);
    const ms = performance.now() - t0;
    held[slot] = key;
    samples[n] = ms;
    total += ms;
    if (ms > 1) slow.push([t0, ms]);
  }
  samples.sort();
  return { worstMs: samples[samples.length - 1]!, p99999Ms: percentile(samples, 99.999), totalMs: total, slow };
}

async function main(): Promise<void> {
  const live = wholeNumberOption('live', 500_000);
  const rounds = wholeNumberOption('rounds', 6);
  // Enough churn past the fill for several of the plain Map's rebuilds (one every ~live inserts).
  const operations = live * rounds;
  console.log(`map stall bench: node ${process.version}; ${live} live keys, ${operations} inserts and deletes after the fill`);
  const collections: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => collections.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const results: [string, Pauses][] = [];
  for (const [name, make] of [
    ['Map', () => new Map<string, object>()],
    ['ShardedMap', () => new ShardedMap<string, object>()],
    ['Map', () => new Map<string, object>()],
    ['ShardedMap', () => new ShardedMap<string, object>()],
  ] as const) {
    collectGarbage();
    results.push([name, churn(make(), live, operations)]);
  }
  // GC entries are delivered asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  for (const [name, pauses] of results) {
    console.log(
      `${name.padEnd(11)} worst ${pauses.worstMs.toFixed(1).padStart(6)} ms, without a GC in it ${worstWithoutGc(pauses, collections).toFixed(1).padStart(6)} ms; ` +
        `p99.999 ${pauses.p99999Ms.toFixed(2).padStart(6)} ms; mean ${((pauses.totalMs * 1e6) / operations).toFixed(0).padStart(5)} ns per set+delete`,
    );
  }
  const best = (name: string, figure: (p: Pauses) => number): number => Math.min(...results.filter(([n]) => n === name).map(([, p]) => figure(p)));
  const ownWorst = (p: Pauses): number => worstWithoutGc(p, collections);
  console.log(`worst operation without a GC, ShardedMap / Map (best of two each): ${(best('ShardedMap', ownWorst) / best('Map', ownWorst)).toFixed(3)}`);
  console.log(`total time, ShardedMap / Map (best of two each): ${(best('ShardedMap', (p) => p.totalMs) / best('Map', (p) => p.totalMs)).toFixed(3)}`);
}

await main();
