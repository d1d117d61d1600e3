/**
 * A/B of the engine against another build, in one process: the same world (same seed) is
 * loaded into this build's engine and the other's, and blocks of timed checks alternate
 * between them, so both see the same noisy neighbours. On a shared machine a sequential
 * before/after swings by ±25 %; interleaved, the ratio holds to a few per cent. The two share
 * one heap, so garbage one side makes may be collected in the other's block: the mean ratio
 * understates a change in allocation, and the median is the steadier figure.
 *
 *   git worktree add ../before <rev> && (cd ../before && npm ci && npx tsc -p tsconfig.bench.json)
 *   npm run bench:ab -- --against ../before [--accounts 10000] [--limits 1000] [--blocks 30] [--cold MIB]
 *
 * `--cold MIB` reads that much other memory before each check (untimed): a service's single
 * checks each come after the HTTP stack's work, which leaves little of the engine's data in
 * the caches (a check on the load tests' state took 7–11 µs back to back, 27–36 µs after 4 MiB
 * read), so this is the A/B of what a single check over HTTP pays. Where the last-level cache
 * is larger than MIB, mostly the inner caches are emptied. The order is made before the read,
 * so it is cold too, where a service's would have just been parsed: slightly colder than HTTP.
 */
import type { LimitEngine } from '../src/domain/engine.js';
import * as thisFixture from './engine-fixture.js';
import * as thisBooks from './limit-books.js';
import type { LatencySummary } from './stats.js';
import { wholeNumberOption, stringOption } from './options.js';
import { fromBuild } from './other-build.js';
import { collectGarbage, percentile, seededRandom, summarise } from './stats.js';

const BLOCK_ORDERS = 5_000;
const WARMUP_ORDERS = 150_000;

interface Build {
  fixture: typeof thisFixture;
  books: typeof thisBooks;
}

interface Side {
  name: string;
  engine: LimitEngine;
  flow: thisFixture.OrderFlow;
  samples: Float64Array;
  filled: number;
  accepted: number;
}

async function otherBuild(root: string): Promise<Build> {
  return { fixture: (await fromBuild(root, 'bench/engine-fixture.js')) as typeof thisFixture, books: (await fromBuild(root, 'bench/limit-books.js')) as typeof thisBooks };
}

function prepare(name: string, build: Build, accounts: number, limits: number, samples: number): Side {
  const world = new build.fixture.World(seededRandom(42), accounts);
  const { engine, clock } = build.fixture.makeEngine(world);
  build.fixture.loadPositions(engine, world);
  const flow = new build.fixture.OrderFlow(engine, clock, world);
  engine.replaceLimits(build.books.limitBook(limits, world));
  for (let i = 0; i < WARMUP_ORDERS; i++) thisFixture.checkNext(engine, flow);
  return { name, engine, flow, samples: new Float64Array(samples), filled: 0, accepted: 0 };
}

/** Other memory read between checks (`--cold`), a 64-byte line at a time. */
let coldArea = new Float64Array(0);
let coldSum = 0;

function evictCaches(): void {
  for (let i = 0; i < coldArea.length; i += 8) coldSum += coldArea[i]!;
}

function runBlock(side: Side): void {
  const { engine, flow, samples } = side;
  for (let i = 0; i < BLOCK_ORDERS; i++) {
    const order = flow.next();
    if (coldArea.length > 0) evictCaches();
    const t0 = process.hrtime.bigint();
    const result = engine.checkOrder(order);
    samples[side.filled++] = Number(process.hrtime.bigint() - t0);
    if (result.decision === 'ACCEPT') {
      flow.accepted(order);
      side.accepted++;
    }
    flow.advance(1);
  }
}

const line = (name: string, s: LatencySummary, p90: number): string =>
  `${name.padEnd(10)} ${String(Math.round(s.median)).padStart(9)} ${String(Math.round(p90)).padStart(9)} ${String(Math.round(s.p99)).padStart(9)} ${String(Math.round(s.mean)).padStart(9)}`;

async function main(): Promise<void> {
  const against = stringOption('against');
  const accounts = wholeNumberOption('accounts', thisFixture.ACCOUNTS);
  const limits = wholeNumberOption('limits', 1_000);
  const blocks = wholeNumberOption('blocks', 30);
  const coldMiB = process.argv.includes('--cold') ? wholeNumberOption('cold', 4) : 0;
  coldArea = new Float64Array(coldMiB * 131_072).fill(1);
  const samples = blocks * BLOCK_ORDERS;
  const sides = [
    prepare('this', { fixture: thisFixture, books: thisBooks }, accounts, limits, samples),
    prepare('other', await otherBuild(against), accounts, limits, samples),
  ];
  collectGarbage();
  // Alternating which goes first spreads any cost of following the other side's block evenly.
  for (let b = 0; b < blocks; b++) for (const side of b % 2 === 0 ? sides : [...sides].reverse()) runBlock(side);

  console.log(
    `engine A/B: ${accounts} accounts, ${limits}-limit book, ${blocks} alternating blocks of ${BLOCK_ORDERS} orders per side` +
      `${coldMiB > 0 ? `, ${coldMiB} MiB read before each check (${coldSum > 0 ? 'cold' : '?'})` : ''}; other = ${against}`,
  );
  console.log(`${'build'.padEnd(10)} ${'median ns'.padStart(9)} ${'p90 ns'.padStart(9)} ${'p99 ns'.padStart(9)} ${'mean ns'.padStart(9)}`);
  const summaries = sides.map((side) => {
    const summary = summarise(side.samples);
    console.log(line(side.name, summary, percentile(side.samples, 90)));
    return summary;
  });
  const [mine, theirs] = summaries as [LatencySummary, LatencySummary];
  console.log(`this / other: median ${(mine.median / theirs.median).toFixed(3)}, mean ${(mine.mean / theirs.mean).toFixed(3)}`);
  // Each side builds its world and book from its own checkout's bench/; if those differ, so does the work.
  const [a, b] = sides as [Side, Side];
  if (a.accepted !== b.accepted) console.log(`warning: the builds accepted ${a.accepted} and ${b.accepted} orders: not the same work, or not the same decisions`);
}

await main();
