import type { HeapProfiler } from 'node:inspector';

type ProfileNode = HeapProfiler.SamplingHeapProfileNode;

/**
 * Bytes allocated per site (`function @ folder/file:line`) in a sampling heap profile, garbage
 * included. With `isRoot`, only what was allocated inside a frame it accepts (that frame and
 * everything it called) is counted.
 */
export function bytesBySite(root: ProfileNode, isRoot?: (functionName: string) => boolean): Map<string, number> {
  const sites = new Map<string, number>();
  const visit = (node: ProfileNode, isInside: boolean): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    const isCounted = isInside || isRoot === undefined || isRoot(functionName);
    if (isCounted && node.selfSize > 0) {
      const site = `${functionName || '(anonymous)'} @ ${url.split('/').slice(-2).join('/') || '(native)'}:${lineNumber + 1}`;
      sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) visit(child, isCounted);
  };
  visit(root, false);
  return sites;
}

/** The total and the `top` heaviest sites, per unit (check, order), as the allocation benches print them. */
export function printSites(sites: Map<string, number>, units: number, unit: string, top: number): void {
  const per = (bytes: number): string => (bytes / units).toFixed(0).padStart(7);
  const total = [...sites.values()].reduce((a, b) => a + b, 0);
  console.log(`allocated ${per(total).trim()} B/${unit}; top sites, B/${unit}:`);
  for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${per(bytes)}  ${site}`);
}
