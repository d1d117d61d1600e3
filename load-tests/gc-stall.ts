/**
 * Where a 10,000-order batch's event-loop stall comes from: batches one after another against a
 * service started with `--trace-gc` (durability off), the flow's executions closing each batch's
 * orders before the next, as the batch scenario's retire does. Per batch it prints the request's
 * time, the loop's longest stall (as the batch scenario reads it) and the pause of every garbage
 * collection V8 ran meanwhile (S: young generation, M: full): the stall follows the longest.
 *
 *   npm run load:gc-stall [-- --batches 5] [--service-dist DIR] [--semi-space-mb 16]
 */
import { parseArgs } from 'node:util';
import { productionNodeFlags, send, startService } from './processes.js';
import type { ServiceTarget } from './processes.js';
import { OrderFlow, World } from './world.js';

const ORDERS = 10_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { batches: { type: 'string', default: '5' }, 'service-dist': { type: 'string' }, 'semi-space-mb': { type: 'string' } },
  });
  const batches = Number(values.batches);
  if (!(Number.isInteger(batches) && batches > 0 && batches <= 100)) throw new Error(`--batches must be 1 to 100, got ${values.batches}`);
  const semi = values['semi-space-mb'];
  const flags = semi === undefined ? productionNodeFlags() : [`--max-semi-space-size=${semi}`];
  const world = new World();
  const service = await startService({ world, durability: 'off', nodeFlags: [...flags, '--trace-gc'], ...(values['service-dist'] === undefined ? {} : { dist: values['service-dist'] }) });
  try {
    const flow = new OrderFlow(world, 'G-');
    for (let i = 0; i < batches; i++) {
      process.stdout.write(`${await oneBatch(service, flow.batch(ORDERS))}\n`);
      await send(service, 'POST', '/v1/executions', { events: flow.executions(flow.issued - ORDERS, flow.issued) });
    }
  } finally {
    await service.stop();
  }
}

async function oneBatch(service: ServiceTarget, body: string): Promise<string> {
  const idle = await service.metrics(); // also resets the loop-delay histogram
  const mark = service.output.length;
  const started = performance.now();
  const response = await fetch(`${service.url}/v1/checks/batch`, {
    method: 'POST',
    headers: { ...service.headers, 'content-type': 'application/json', 'x-deadline-ms': '30000' },
    body,
    signal: AbortSignal.timeout(60_000),
  });
  await response.arrayBuffer();
  const ms = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 50));
  const after = await service.metrics();
  const tick = Math.min(idle.value('nodejs_eventloop_lag_min_seconds'), after.value('nodejs_eventloop_lag_min_seconds'));
  const stallMs = (after.value('nodejs_eventloop_lag_max_seconds') - tick) * 1_000;
  const pauses = service.output
    .slice(mark)
    .join('')
    .split('\n')
    .map((line) => /(Scavenge|Mark-Compact)\b.*?, ([\d.]+) \/ [\d.]+ ms/.exec(line))
    .filter((m) => m !== null)
    .map((m) => `${m[1] === 'Scavenge' ? 'S' : 'M'}${Number(m[2]).toFixed(1)}`);
  return `batch of ${ORDERS}: ${response.status} in ${ms.toFixed(0)} ms, loop stall ${stallMs.toFixed(1)} ms; collections: ${pauses.join(' ') || 'none'}`;
}

await main();
