import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  /** Self time in ms. */
  self: number;
  selfPct: number;
  name: string;
  where: string;
}

/**
 * Self time by function (name and source line) of a V8 `.cpuprofile`, heaviest first; with
 * `window` ([from, to] in monotonic µs, the profile's own clock), only the samples taken in it.
 */
export function hotSpots(file: string, top = 25, window?: readonly [number, number]): HotSpot[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const selfByKey = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window !== undefined && (at < window[0] || at > window[1])) continue;
    const node = byNode.get(profile.samples[i]!);
    const delta = (profile.timeDeltas[i] ?? 0) / 1_000;
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    const where = url === '' ? '' : `${url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}`;
    const key = `${functionName || '(anonymous)'}\u0000${where}`;
    selfByKey.set(key, (selfByKey.get(key) ?? 0) + delta);
    total += delta;
  }
  return [...selfByKey.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, self]) => {
      const [name, where] = key.split('\u0000') as [string, string];
      return { self: Math.round(self), selfPct: Math.round((self / total) * 1_000) / 10, name, where };
    });
}
