/**
 * What one cache miss costs on this machine: a chain of dependent loads at random over an
 * array as large as the bench's heap, each on its own cache line and most on their own page,
 * so each pays a DRAM access and a TLB miss as the engine's lookups into a million positions
 * do. The engine's median divided by this says how many such misses a check costs at most.
 */
import { seededRandom } from './stats.js';

const LINE_INTS = 16;

export function dependentLoadNs(mib = 128, loads = 2_000_000): number {
  const next = new Int32Array((mib * 1024 * 1024) / 4);
  const lines = next.length / LINE_INTS;
  // Sattolo's shuffle: one cycle through every line, so the walk never settles into a short loop.
  const order = Int32Array.from({ length: lines }, (_, i) => i);
  const random = seededRandom(7);
  for (let i = lines - 1; i > 0; i--) {
    const j = Math.floor(random() * i);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  for (let i = 0; i < lines; i++) next[order[i]! * LINE_INTS] = order[(i + 1) % lines]! * LINE_INTS;
  let at = 0;
  for (let i = 0; i < 100_000; i++) at = next[at]!;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < loads; i++) at = next[at]!;
  const ns = Number(process.hrtime.bigint() - t0) / loads;
  if (at < 0) throw new Error('unreachable: keeps the walk from being optimised away');
  return ns;
}
