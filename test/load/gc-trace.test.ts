import { describe, expect, it } from 'vitest';
import { gcPauses, isolatesByCollections, summarisePauses } from '../../load-tests/gc-trace.js';

/** Lines as Node 24 prints them with --trace-gc, among the service's own log lines. */
const TRACE = [
  '{"level":30,"msg":"Server listening at http://127.0.0.1:40065"}',
  '[10513:0x705f000]     5123 ms: Scavenge 57.5 (81.3) -> 54.4 (81.3) MB, pooled: 0 MB, 1.04 / 0.00 ms  (average mu = 0.989, current mu = 0.990) task; ',
  '[10513:0x705f000]     5561 ms: Mark-Compact 82.0 (111.5) -> 48.7 (103.7) MB, pooled: 8 MB, 10.14 / 0.01 ms  (+ 9.8 ms in 308 steps since start of marking, biggest step 0.4 ms, walltime since start of marking 64 ms) (average mu = 0.996, current mu = 0.996) finalize incremental marking via task; GC in old space requested',
  '[10513:0x7fb62c001000]     5600 ms: Scavenge 12.1 (20.3) -> 10.0 (20.3) MB, pooled: 0 MB, 0.50 / 0.00 ms  (average mu = 0.999, current mu = 0.999) allocation failure; ',
  '[10513:0x705f000]     5700 ms: Scavenge 57.6 (81.3) -> 54.5 (81.3) MB, pooled: 0 MB, 3.20 / 0.00 ms  (average mu = 0.989, current mu = 0.990) task; ',
  '[10513:0x705f000]     5800 ms: Minor Mark-Sweep 57.6 (81.3) -> 54.5 (81.3) MB, pooled: 0 MB, 2.00 / 0.00 ms  (average mu = 0.989, current mu = 0.990) task; ',
  // Collections during incremental marking, and a memory-reducing one, name themselves so.
  '[21168:0x141ca000]      156 ms: Scavenge (interleaved) 50.1 (79.9) -> 31.3 (63.8) MB, pooled: 0 MB, 1.78 / 0.00 ms  (average mu = 0.955, current mu = 0.955) allocation failure; ',
  '[21168:0x141ca000]      170 ms: Minor Mark-Sweep (interleaved) 50.1 (79.9) -> 31.3 (63.8) MB, pooled: 0 MB, 0.90 / 0.00 ms  (average mu = 0.955, current mu = 0.955) allocation failure; ',
  '[21168:0x141ca000]      954 ms: Mark-Compact (reduce) 14.4 (27.7) -> 11.8 (28.8) MB, pooled: 0 MB, 9.86 / 0.00 ms  (average mu = 0.694, current mu = 0.694) memory reducer; GC in old space requested',
].join('\n');

describe('--trace-gc output', () => {
  it('reads each collection: its isolate, its kind and the pause before the slash; other lines are skipped', () => {
    expect(gcPauses(TRACE)).toEqual([
      { isolate: '0x705f000', kind: 'scavenge', ms: 1.04 },
      { isolate: '0x705f000', kind: 'full', ms: 10.14 },
      { isolate: '0x7fb62c001000', kind: 'scavenge', ms: 0.5 },
      { isolate: '0x705f000', kind: 'scavenge', ms: 3.2 },
      { isolate: '0x705f000', kind: 'minor-ms', ms: 2 },
      { isolate: '0x141ca000', kind: 'scavenge', ms: 1.78 },
      { isolate: '0x141ca000', kind: 'minor-ms', ms: 0.9 },
      { isolate: '0x141ca000', kind: 'full', ms: 9.86 },
    ]);
  });

  it('lists the isolates with the most collections first (the main thread under load)', () => {
    expect(isolatesByCollections(gcPauses(TRACE))).toEqual(['0x705f000', '0x141ca000', '0x7fb62c001000']);
  });

  it('summarises pauses over a run: count, rate, median, 90th percentile, longest, total and share', () => {
    expect(summarisePauses([4, 1, 3, 2, 10, 5, 6, 7, 8, 9], 2)).toEqual({
      count: 10,
      perSecond: 5,
      medianMs: 5.5,
      p90Ms: 9,
      maxMs: 10,
      totalMs: 55,
      share: 0.0275,
    });
    expect(summarisePauses([], 1)).toEqual({ count: 0, perSecond: 0, medianMs: 0, p90Ms: 0, maxMs: 0, totalMs: 0, share: 0 });
  });
});
