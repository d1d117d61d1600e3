import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bearer } from '../support/app-fixtures.js';
import { appPerTest, call } from './http-helpers.js';

const start = appPerTest();

/**
 * The violation stream takes over its response (hijacked, raw.writeHead), so the headers the
 * hooks set on the reply, the rate limit's among them, must be carried over by hand.
 */
describe('GET /v1/violations/stream headers', () => {
  it('sends on its 200 the X-RateLimit-* headers openapi.yaml declares for it, as other ops routes do', async () => {
    const app = await start();
    const doc = parse(app.openApi()) as { paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>> };
    const declared = Object.keys(doc.paths['/v1/violations/stream']!.get!.responses['200']!.headers ?? {}).map((name) => name.toLowerCase());
    expect(declared).toEqual(['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']);
    expect((await call(app.server, 'GET', '/v1/violations/active', 'ops')).headers['x-ratelimit-limit']).toBeDefined();

    await app.server.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.server.address() as { port: number };
    const abort = new AbortController();
    const response = await fetch(`http://127.0.0.1:${address.port}/v1/violations/stream`, { headers: bearer('ops'), signal: abort.signal });
    try {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      expect(declared.filter((name) => response.headers.get(name) === null)).toEqual([]);
    } finally {
      abort.abort();
      await response.body?.cancel().catch(() => undefined);
    }
  });
});
