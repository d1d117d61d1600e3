/**
 * Where an engine check's time goes: each of the bench's ~20 applicable limits alone, against
 * the same state as `npm run bench`, as its added median over a check with an empty book.
 * Rounds alternate so a noisy neighbour hits every limit alike; figures are rough (±0.2 µs).
 *
 *   npm run bench:limits             10,000 accounts x 100 symbols, as the main bench
 *   npm run bench:limits -- --small  100 accounts: what the limits cost once the state fits in cache
 */
import type { LimitEngine } from '../src/domain/engine.js';
import type { LimitDefinition } from '../src/domain/limit-definition.js';
import { checkNext, loadPositions, makeEngine, OrderFlow, World } from './engine-fixture.js';
import { applicableLimits } from './limit-books.js';
import { collectGarbage, seededRandom, summarise } from './stats.js';

const isSmall = process.argv.includes('--small');
const ROUNDS = 3;
const WARMUP_ORDERS = 5_000;
const TIMED_ORDERS = 10_000;

function main(): void {
  const world = new World(seededRandom(42), isSmall ? 100 : undefined);
  const { engine, clock } = makeEngine(world);
  loadPositions(engine, world);
  const flow = new OrderFlow(engine, clock, world);
  const limits = applicableLimits(world);
  engine.replaceLimits(limits);
  for (let i = 0; i < 150_000; i++) checkNext(engine, flow);

  const books: [string, LimitDefinition[]][] = [['(empty book)', []], ...limits.map((l): [string, LimitDefinition[]] => [l.id, [l]]), ['(all together)', limits]];
  const medians = new Map<string, number[]>(books.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? books : [...books].reverse();
    for (const [name, book] of order) medians.get(name)!.push(measure(engine, flow, book));
  }
  const median = (name: string): number => summarise(Float64Array.from(medians.get(name)!)).median;
  const empty = median('(empty book)');
  console.log(`limit costs: ${world.accounts.length} accounts x ${world.symbols.length} symbols, median of ${ROUNDS} rounds x ${TIMED_ORDERS} orders`);
  console.log(`${'limit'.padEnd(22)} ${'kind'.padEnd(16)} ${'per'.padEnd(16)} ${'median ns'.padStart(9)} ${'added ns'.padStart(9)}`);
  for (const [name, book] of books) {
    const definition = book.length === 1 ? book[0] : undefined;
    const value = median(name);
    console.log(
      `${name.padEnd(22)} ${(definition?.kind ?? '').padEnd(16)} ${(definition?.per ?? (definition === undefined ? '' : 'default')).padEnd(16)} ` +
        `${value.toFixed(0).padStart(9)} ${(name === '(empty book)' ? '' : (value - empty).toFixed(0)).padStart(9)}`,
    );
  }
}


function measure(engine: LimitEngine, flow: OrderFlow, book: LimitDefinition[]): number {
  engine.replaceLimits(book);
  for (let i = 0; i < WARMUP_ORDERS; i++) checkNext(engine, flow);
  collectGarbage();
  const samples = new Float64Array(TIMED_ORDERS);
  for (let i = 0; i < TIMED_ORDERS; i++) {
    const order = flow.next();
    const t0 = process.hrtime.bigint();
    const result = engine.checkOrder(order);
    samples[i] = Number(process.hrtime.bigint() - t0);
    if (result.decision === 'ACCEPT') flow.accepted(order);
    flow.advance(1);
  }
  return summarise(samples).median;
}

main();
