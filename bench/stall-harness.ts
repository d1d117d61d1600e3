/** What the event-loop stall benches share: the ticker that measures the loop, and a build's app to measure, beside another's. */
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { stringOption } from './options.js';
import { fromDist } from './other-build.js';

/**
 * The longest block of the event loop while `run` goes on, as a 1 ms ticker sees it. The ticker
 * runs on for `tailMs` after `run` ends, so a block that ends in the same turn as `run` is seen too.
 */
export async function longestLoopBlock<T>(run: () => Promise<T>, tailMs: number): Promise<{ longest: number; result: T }> {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  try {
    const result = await run();
    await new Promise((done) => setTimeout(done, tailMs));
    return { longest, result };
  } finally {
    clearInterval(ticker);
  }
}

/** The app of a build's dist-bench (this one's, or another checkout's), loaded at run time. */
export interface BuiltApp {
  buildApp: (config: unknown, options: { httpWarmUpRequests: number }) => Promise<{ server: FastifyInstance }>;
  parseConfig: (input: unknown) => unknown;
}

export async function loadApp(dist: string): Promise<BuiltApp> {
  const { buildApp } = (await fromDist(dist, 'src/app.js')) as Pick<BuiltApp, 'buildApp'>;
  const { AppConfigSchema } = (await fromDist(dist, 'src/config/schema.js')) as { AppConfigSchema: { parse: (input: unknown) => unknown } };
  return { buildApp, parseConfig: (input) => AppConfigSchema.parse(input) };
}

/**
 * Runs `measure` on this build, then on another checkout's when `--against DIR` is given (its
 * dist-bench built), and prints each one's median, min and max of the blocks it returns, in ms.
 */
export async function compareBuilds(heading: string, measure: (app: BuiltApp) => Promise<number[]>): Promise<void> {
  const against = process.argv.includes('--against') ? stringOption('against') : undefined;
  const builds: [string, string][] = [['this', resolve(import.meta.dirname, '..')]];
  if (against !== undefined) builds.push(['other', resolve(against, 'dist-bench')]);
  console.log(heading);
  for (const [name, dist] of builds) {
    const blocks = (await measure(await loadApp(dist))).sort((a, b) => a - b);
    const median = blocks[Math.floor(blocks.length / 2)]!;
    console.log(`${name.padEnd(6)} median ${median.toFixed(1)} (min ${blocks[0]!.toFixed(1)}, max ${blocks.at(-1)!.toFixed(1)})`);
  }
}
