import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Loads a module of another checkout's bench build (`<checkout>/dist-bench/<file>`, after its
 * `npx tsc -p tsconfig.bench.json`), for the benches that run beside another build.
 */
export function fromBuild(checkout: string, file: string): Promise<unknown> {
  const dir = join(isAbsolute(checkout) ? checkout : resolve(checkout), 'dist-bench');
  return import(pathToFileURL(join(dir, file)).href);
}
