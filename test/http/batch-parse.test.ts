import { describe, expect, it, vi } from 'vitest';
import type { BatchResult } from '../../src/domain/engine.js';
import { BatchResponseSerializer } from '../../src/http/batch-response.js';
import { SLICED_PARSE_BYTES } from '../../src/http/sliced-body.js';
import { bearer } from '../support/app-fixtures.js';
import { anOrder, appPerTest, batchBesideProbe, expectProblem } from './http-helpers.js';

const startApp = appPerTest();
const bigBatchApp = () => startApp({ server: { logLevel: 'info', defaultDeadlineMs: 5_000, maxBatchSize: 10_000, bodyLimitBytes: 8 * 1024 * 1024 } });

/** A batch body of `count` orders, as text, long enough to be parsed in slices. */
function largeBody(count: number): string {
  const text = JSON.stringify({ orders: Array.from({ length: count }, (_, i) => anOrder({ orderId: `parse-${i}`, accountId: 'ACC-PARSE', quantity: 1 })) });
  expect(text.length).toBeGreaterThan(SLICED_PARSE_BYTES);
  return text;
}

describe('a large batch body is parsed in slices', () => {
  it('answers it as any batch', async () => {
    const app = await bigBatchApp();
    const text = largeBody(3_000);
    const serialize = vi.spyOn(BatchResponseSerializer.prototype, 'serialize');
    const { response } = await batchBesideProbe(app.server, text);
    const body = response.json<BatchResult>();
    expect(response.statusCode).toBe(200);
    // Serialised in slices (batch-response.ts), sent as a small batch's answer is.
    expect(serialize).toHaveBeenCalledTimes(1);
    serialize.mockRestore();
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(body.summary).toEqual({ total: 3_000, accepted: 3_000, rejected: 0 });
    expect(body.results.map((r) => r.orderId)).toEqual((JSON.parse(text) as { orders: { orderId: string }[] }).orders.map((o) => o.orderId));
    // The route's own scope still has the root's hooks: its requests are in the HTTP metrics.
    const metrics = (await app.server.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^ulc_http_request_duration_seconds_count\{method="POST",route="\/v1\/checks\/batch",status_class="2xx"\} 1$/m);
  });

  it('lets other requests in while it reads a body that turns out not to be JSON, then refuses it as malformed', async () => {
    const app = await bigBatchApp();
    // Broken at the very end: a whole parse would hold the event loop for all of it first.
    const text = `${largeBody(3_000).slice(0, -2)},]}`;
    const { answered, response } = await batchBesideProbe(app.server, text);
    expect(answered).toEqual(['health', 'batch']);
    const problem = expectProblem(response, 400);
    expect(problem.type).toBe('/problems/malformed-json');
    expect(app.engine.ledger.openOrderCount).toBe(0);
  });

  it('refuses a prototype-poisoning item in a large body, as Fastify does in a small one', async () => {
    const app = await bigBatchApp();
    const text = largeBody(3_000).replace('{"orderId":"parse-2999"', '{"__proto__":{"polluted":true},"orderId":"parse-2999"');
    const { response } = await batchBesideProbe(app.server, text);
    // Refused by the parser (as secure-json-parse refuses it), not later by validation as an unknown field.
    expect(expectProblem(response, 400).type).toBe('/problems/malformed-json');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(app.engine.ledger.openOrderCount).toBe(0);
  });

  it('refuses an array of a blank JSON does not count as whitespace as malformed, large or small', async () => {
    const app = await bigBatchApp();
    const post = (payload: string) =>
      app.server.inject({ method: 'POST', url: '/v1/checks/batch', headers: { ...bearer('gateway'), 'content-type': 'application/json' }, payload });
    // An early sliced parse took the large one for `{"orders":[]}` and answered a validation problem.
    for (const payload of ['{"orders":[ \u00a0]}', `{"orders":[${' '.repeat(SLICED_PARSE_BYTES)}\u00a0]}`]) {
      expect(expectProblem(await post(payload), 400).type).toBe('/problems/malformed-json');
    }
  });

  it('refuses empty and malformed small bodies as malformed JSON', async () => {
    const app = await bigBatchApp();
    for (const payload of ['', '{"orders":[', '{"orders":[1,]}']) {
      const response = await app.server.inject({ method: 'POST', url: '/v1/checks/batch', headers: { ...bearer('gateway'), 'content-type': 'application/json' }, payload });
      expect(expectProblem(response, 400).type).toBe('/problems/malformed-json');
    }
  });
});
