import { median, percentile } from '../bench/stats.js';

/** One collection as `node --trace-gc` prints it: the isolate that ran it, its kind and its pause. */
export interface GcPause {
  /** The isolate's address as the line names it (`[pid:0x…]`): the main thread and each worker have their own. */
  readonly isolate: string;
  readonly kind: 'scavenge' | 'full' | 'minor-ms';
  /** The pause of the thread that collected, in ms (the figure before the slash). */
  readonly ms: number;
}

/** `[12345:0x5a1e000]     5561 ms: Mark-Compact 82.0 (111.5) -> 48.7 (103.7) MB, pooled: 8 MB, 10.14 / 0.01 ms …` */
const TRACE_LINE = /^\[\d+:(0x[0-9a-f]+)\]\s+[\d.]+ ms: (Scavenge|Mark-Compact|Minor Mark-Sweep)\b.*?, ([\d.]+) \/ [\d.]+ ms/;

const KINDS = { Scavenge: 'scavenge', 'Mark-Compact': 'full', 'Minor Mark-Sweep': 'minor-ms' } as const;

/** Every collection in `--trace-gc` output, in order; other lines (the service's own log) are skipped. */
export function gcPauses(text: string): GcPause[] {
  const pauses: GcPause[] = [];
  for (const line of text.split('\n')) {
    const match = TRACE_LINE.exec(line);
    if (match === null) continue;
    pauses.push({ isolate: match[1]!, kind: KINDS[match[2] as keyof typeof KINDS], ms: Number(match[3]) });
  }
  return pauses;
}

export interface PauseSummary {
  count: number;
  perSecond: number;
  medianMs: number;
  /** The 90th percentile: the pause most collections stay under. */
  p90Ms: number;
  maxMs: number;
  totalMs: number;
  /** The run's time spent in these pauses. */
  share: number;
}

/** Count, rate and spread of `pauses` over a run of `seconds`. */
export function summarisePauses(pauses: readonly number[], seconds: number): PauseSummary {
  const sorted = Float64Array.from(pauses).sort();
  const totalMs = sorted.reduce((sum, ms) => sum + ms, 0);
  const count = sorted.length;
  return {
    count,
    perSecond: count / seconds,
    medianMs: count === 0 ? 0 : median(pauses),
    p90Ms: count === 0 ? 0 : percentile(sorted, 90),
    maxMs: count === 0 ? 0 : sorted[count - 1]!,
    totalMs,
    share: totalMs / (seconds * 1_000),
  };
}

/**
 * The isolates in `pauses`, the busiest first: under single checks the service's main thread
 * allocates far more than its snapshot worker (kilobytes a request against a replayed record's
 * bytes), so it collects most often and comes first.
 */
export function isolatesByCollections(pauses: readonly GcPause[]): string[] {
  const counts = new Map<string, number>();
  for (const { isolate } of pauses) counts.set(isolate, (counts.get(isolate) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([isolate]) => isolate);
}
