import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../../load-tests/cannon.js';
import type { Target } from '../../load-tests/processes.js';

/**
 * How long a run of a fixed number of requests took. autocannon only notices such a run is
 * done at its next once-a-second sample, so its own end rounds every burst up to whole seconds:
 * a service answering 10,000 checks in 1.1 s read as 2 s ("10,000 within 1 s" could never be
 * judged). A run of 200 requests to a server that answers at once takes a few tens of ms.
 */
describe('load runs of a fixed amount', () => {
  const server = createServer((_request, response) => response.end('{}'));
  let target: Target;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    target = {
      name: 'baseline',
      url: `http://127.0.0.1:${port}`,
      headers: {},
      process: undefined as unknown as ChildProcess,
      output: [],
      startMs: 0,
      stats: () => Promise.resolve({ cpuSeconds: 0, rss: 0 }),
      stop: () => Promise.resolve(),
    };
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('last until their last answer, not until autocannon next samples', async () => {
    const run = await runLoad({ title: 'amount', target, path: '/', body: () => '{}', connections: 4, amount: 200 });
    expect(run.requests).toBe(200);
    expect(run.seconds).toBeGreaterThan(0);
    // Before, never under 1 s: the first sample is at 1,000 ms.
    expect(run.seconds).toBeLessThan(0.9);
    expect(run.requestsPerSecond).toBeGreaterThan(200 / 0.9);
  });

  /**
   * A paced lane stops only at autocannon's next once-a-second sample after its duration, and
   * may send one more second's budget before that: the achieved rate read up to a second's
   * worth over the offered one (5,092 req/s for 5,000). Only what was sent within the offered
   * window counts towards it.
   */
  it('of a fixed rate count towards the achieved rate only what was sent within the offered window', async () => {
    const run = await runLoad({ title: 'paced', target, path: '/', body: () => '{}', connections: 4, rate: 400, durationS: 2 });
    expect(run.requestsPerSecond).toBe(400);
    expect(run.requests).toBeGreaterThanOrEqual(800);
  });
});
