import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfigFile } from '../../src/config/load.js';
import { bearer, testApp } from '../support/app-fixtures.js';

async function generated(): Promise<string> {
  const config = loadConfigFile('config/default.yaml');
  const app = await buildApp({ ...config, storage: { ...config.storage, durability: 'off' } }, { defaultMetrics: false });
  await app.server.ready();
  const yaml = app.openApi();
  await app.server.close();
  return yaml;
}

describe('openapi.yaml', () => {
  it('matches what the route schemas generate (run `npm run openapi` after changing a route)', async () => {
    expect(readFileSync('openapi.yaml', 'utf8')).toBe(await generated());
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const document = parse(readFileSync('openapi.yaml', 'utf8')) as Parameters<typeof SwaggerParser.validate>[0];
    await expect(SwaggerParser.validate(document)).resolves.toBeDefined();
  });

  // The error handler words every `false` schema ajv reports as FILL_ONLY: no other rule may use one.
  it('uses a false schema only for the quantity and price of an execution other than a FILL', () => {
    const found = new Set<string>();
    const walk = (node: unknown, path: string[]): void => {
      if (node === false && path.at(-2) === 'properties') found.add(path.slice(-4).join('/'));
      if (typeof node !== 'object' || node === null) return;
      for (const [key, child] of Object.entries(node)) walk(child, [...path, key]);
    };
    walk(parse(readFileSync('openapi.yaml', 'utf8')), []);
    expect(found).toEqual(new Set(['else/then/properties/quantity', 'else/then/properties/price']));
  });

  it('documents every route of the API with its role', () => {
    const document = parse(readFileSync('openapi.yaml', 'utf8')) as { paths: Record<string, Record<string, { 'x-required-role'?: string }>> };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/v1/checks', '/v1/checks/batch', '/v1/executions', '/v1/limits/{id}/evaluate', '/v1/violations/stream', '/v1/trading-state', '/metrics']),
    );
    expect(document.paths['/v1/checks']?.post?.['x-required-role']).toBe('gateway');
    expect(document.paths['/v1/trading-state']?.put?.['x-required-role']).toBe('admin');
  });

  it('documents the success status a route answers with (POST /v1/limits: 201 Created, not 200)', async () => {
    const document = parse(readFileSync('openapi.yaml', 'utf8')) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    const app = await testApp();
    const created = await app.server.inject({ method: 'POST', url: '/v1/limits', headers: bearer('admin'), payload: { id: 'new-one', kind: 'order_quantity', thresholds: { hard: 5 } } });
    await app.server.close();
    expect(created.statusCode).toBe(201);
    const documented = Object.keys(document.paths['/v1/limits']!.post!.responses).filter((status) => /^2/.test(status));
    expect(documented).toEqual(['201']);
    expect(document.paths['/v1/limits']!.post!.responses['201']).toMatchObject({ description: 'Created', content: { 'application/json': { schema: { required: ['version', 'limit'] } } } });
    expect(Object.keys(document.paths['/v1/limits']!.get!.responses)).toContain('200');
  });

  it('documents both answers of PUT /v1/limits/{id}: 201 when it created the limit, 200 when it replaced one', () => {
    const document = parse(readFileSync('openapi.yaml', 'utf8')) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    const responses = document.paths['/v1/limits/{id}']!.put!.responses;
    expect(Object.keys(responses).filter((status) => /^2/.test(status))).toEqual(['200', '201']);
    for (const status of ['200', '201']) expect(responses[status]).toMatchObject({ content: { 'application/json': { schema: { required: ['version', 'limit'] } } } });
    expect(responses['201']).toMatchObject({ description: 'Created' });
  });

  it('documents the body of every 2xx JSON answer of the API (all but the event stream)', () => {
    type Operation = { responses: Record<string, { content?: unknown }> };
    const document = parse(readFileSync('openapi.yaml', 'utf8')) as { paths: Record<string, Record<string, Operation>> };
    const undocumented: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/v1/') || path === '/v1/violations/stream') continue;
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (status.startsWith('2') && response.content === undefined) undocumented.push(`${method.toUpperCase()} ${path} ${status}`);
        }
      }
    }
    expect(undocumented).toEqual([]);
  });
});

describe('openapi.yaml request headers', () => {
  type Operation = { 'x-required-role'?: string; parameters?: { name: string; in: string; required: boolean }[] };
  const operations = (): [string, Operation][] => {
    const document = parse(readFileSync('openapi.yaml', 'utf8')) as { paths: Record<string, Record<string, Operation>> };
    return Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]): [string, Operation] => [`${method} ${path}`, op]));
  };
  const headerNames = (op: Operation): string[] => (op.parameters ?? []).filter((p) => p.in === 'header').map((p) => `${p.name}${p.required ? '!' : ''}`);

  // A generated client sends only what the spec declares: the deadline would be dropped, and a write made unconditional.
  it('declares x-deadline-ms (optional) on every route with a role and none on the probes, and If-Match (optional) on the limit writes alone', () => {
    const writes = new Set(['post /v1/limits', 'put /v1/limits/{id}', 'delete /v1/limits/{id}']);
    for (const [name, op] of operations()) {
      const expected = [...(op['x-required-role'] === undefined ? [] : ['x-deadline-ms']), ...(writes.has(name) ? ['If-Match'] : [])];
      expect(headerNames(op), name).toEqual(expected);
    }
  });
});

describe('openapi.yaml response headers', () => {
  interface Response {
    $ref?: string;
    headers?: Record<string, { required?: boolean }>;
  }
  interface Document {
    components: { responses: Record<string, Response> };
    paths: Record<string, Record<string, { 'x-required-role'?: string; responses: Record<string, Response> }>>;
  }
  const document = (): Document => parse(readFileSync('openapi.yaml', 'utf8')) as Document;

  /** The headers a response declares, by lower-case name (as HTTP/1.1 carries them), through its $ref. */
  function headersOf(doc: Document, response: Response | undefined): Map<string, boolean> {
    const resolved = response?.$ref === undefined ? response : doc.components.responses[response.$ref.replace('#/components/responses/', '')];
    return new Map(Object.entries(resolved?.headers ?? {}).map(([name, header]) => [name.toLowerCase(), header.required === true]));
  }

  const LIMIT_ROUTES = [
    ['get', '/v1/limits'],
    ['post', '/v1/limits'],
    ['get', '/v1/limits/{id}'],
    ['put', '/v1/limits/{id}'],
    ['delete', '/v1/limits/{id}'],
  ] as const;

  it('declares WWW-Authenticate on every 401 and Retry-After on every 429', () => {
    const doc = document();
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (operation['x-required-role'] === undefined) continue;
        if (headersOf(doc, operation.responses['401']).get('www-authenticate') !== true) missing.push(`${method} ${path} 401 WWW-Authenticate`);
        if (!headersOf(doc, operation.responses['429']).has('retry-after')) missing.push(`${method} ${path} 429 Retry-After`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('declares the X-RateLimit headers on every 2xx of a route that takes a token (every such route is rate-limited)', () => {
    const doc = document();
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (operation['x-required-role'] === undefined) continue;
        for (const status of Object.keys(operation.responses).filter((s) => s.startsWith('2'))) {
          const declared = headersOf(doc, operation.responses[status]);
          for (const name of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']) if (!declared.has(name)) missing.push(`${method} ${path} ${status} ${name}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('declares ETag on every 2xx of the limit reads and writes', () => {
    const doc = document();
    for (const [method, path] of LIMIT_ROUTES) {
      const responses = doc.paths[path]![method]!.responses;
      for (const status of Object.keys(responses).filter((s) => s.startsWith('2'))) {
        expect(headersOf(doc, responses[status]).get('etag'), `${method} ${path} ${status}`).toBe(true);
      }
    }
  });

  it('sends the headers it declares (WWW-Authenticate on a 401, Retry-After on a 429, ETag on limit reads and writes) and declares the rate-limit headers it sends', async () => {
    const doc = document();
    // Two requests per token and route: the third GET /v1/limits by ops is refused.
    const app = await testApp({ rateLimit: { perToken: { max: 2, timeWindowMs: 60_000 } } });
    try {
      const inject = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, role?: 'ops' | 'admin', payload?: object) =>
        app.server.inject({ method, url, headers: role === undefined ? {} : bearer(role), ...(payload === undefined ? {} : { payload }) });
      const sent = [
        ['get', '/v1/limits', await inject('GET', '/v1/limits', 'ops')],
        ['get', '/v1/limits/{id}', await inject('GET', '/v1/limits/max-qty', 'ops')],
        ['get', '/v1/limits/{id}', await inject('GET', '/v1/limits/no-such-limit', 'ops')],
        ['post', '/v1/limits', await inject('POST', '/v1/limits', 'admin', { id: 'new-one', kind: 'order_quantity', thresholds: { hard: 5 } })],
        ['put', '/v1/limits/{id}', await inject('PUT', '/v1/limits/new-one', 'admin', { id: 'new-one', kind: 'order_quantity', thresholds: { hard: 6 } })],
        ['delete', '/v1/limits/{id}', await inject('DELETE', '/v1/limits/new-one', 'admin')],
        ['get', '/v1/limits', await inject('GET', '/v1/limits')],
        ['get', '/v1/limits', await inject('GET', '/v1/limits', 'ops')],
        ['get', '/v1/limits', await inject('GET', '/v1/limits', 'ops')],
      ] as const;
      expect(sent.map(([, , response]) => response.statusCode)).toEqual([200, 200, 404, 201, 200, 200, 401, 200, 429]);
      for (const [method, path, response] of sent) {
        const responses = doc.paths[path]![method]!.responses;
        const declared = headersOf(doc, responses[String(response.statusCode)] ?? responses.default);
        const expected = [...declared].filter(([, isRequired]) => isRequired).map(([name]) => name);
        // Retry-After is optional on a 429 (not every one can be retried), but this one can.
        if (response.statusCode === 429) expected.push('retry-after');
        // And what it sends of the rate-limit headers, it declares.
        expected.push(...Object.keys(response.headers).filter((name) => name.startsWith('x-ratelimit-') || name === 'retry-after'));
        const notSent = expected.filter((name) => response.headers[name] === undefined);
        expect({ notDeclared: [...new Set(expected.filter((name) => !declared.has(name)))], notSent }, `${method} ${path} ${response.statusCode}`).toEqual({ notDeclared: [], notSent: [] });
      }
    } finally {
      await app.server.close();
    }
  });
});
