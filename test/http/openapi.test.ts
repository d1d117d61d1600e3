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
