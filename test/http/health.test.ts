import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { errorsPlugin } from '../../src/http/plugins/errors.js';
import { healthRoutes } from '../../src/http/routes/health.js';
import { Telemetry } from '../../src/telemetry/metrics.js';
import { failJournal, journalledTestApp } from '../support/app-fixtures.js';
import { expectProblem } from './http-helpers.js';

/** The probes alone, with readiness as given. */
async function probes(readiness: { isStarted: boolean; isJournalHealthy: boolean }) {
  const app = Fastify();
  await app.register(errorsPlugin);
  const telemetry = new Telemetry(() => {
    throw new Error('no engine');
  }, { defaultMetrics: false });
  healthRoutes(app, { telemetry, readiness: { isStarted: () => readiness.isStarted, isJournalHealthy: () => readiness.isJournalHealthy } });
  await app.ready();
  return app;
}

describe('GET /readyz', () => {
  it('answers 200 { status: ready } once started with a working journal', async () => {
    const app = await probes({ isStarted: true, isJournalHealthy: true });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
    await app.close();
  });

  it('answers a 503 problem saying it is starting while it is', async () => {
    const app = await probes({ isStarted: false, isJournalHealthy: true });
    const problem = expectProblem(await app.inject({ method: 'GET', url: '/readyz' }), 503);
    expect(problem).toMatchObject({ type: '/problems/unavailable', instance: '/readyz' });
    expect(problem.detail).toMatch(/^starting/);
    await app.close();
  });

  it('answers a 503 problem saying the journal has failed, not that it is starting, when the journal fails', async () => {
    const app = await journalledTestApp();
    const restore = failJournal(app);
    const response = await app.server.inject({ method: 'GET', url: '/readyz' });
    restore();
    await app.server.close();
    const problem = expectProblem(response, 503);
    expect(problem.type).toBe('/problems/unavailable');
    expect(problem.detail).toMatch(/journal has failed/);
    expect(problem.detail).not.toMatch(/starting/);
  });

  it('is documented in openapi.yaml as 200, or a problem+json', () => {
    const document = parse(readFileSync('openapi.yaml', 'utf8')) as { paths: Record<string, { get: { responses: Record<string, { $ref?: string }> } }> };
    const responses = document.paths['/readyz']!.get.responses;
    expect(Object.keys(responses)).toEqual(['200', 'default']);
    expect(responses.default?.$ref).toBe('#/components/responses/Problem');
  });
});
