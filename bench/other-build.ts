import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Loads a module of another checkout's bench build (`<checkout>/dist-bench/<file>`, after its
 * `npx tsc -p tsconfig.bench.json`), for the benches that run beside another build.
 */
export function fromBuild(checkout: string, file: string): Promise<unknown> {
  return fromDist(join(isAbsolute(checkout) ? checkout : resolve(checkout), 'dist-bench'), file);
}

/** Loads `<dist>/<file>` of a bench build's directory (this one's or another checkout's dist-bench). */
export function fromDist(dist: string, file: string): Promise<unknown> {
  return import(pathToFileURL(resolve(dist, file)).href);
}
