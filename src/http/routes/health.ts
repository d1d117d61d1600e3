import type { FastifyInstance } from 'fastify';
import type { Telemetry } from '../../telemetry/metrics.js';

/** Public probes: liveness, readiness (after warm-up), and the Prometheus exposition. */
export function healthRoutes(app: FastifyInstance, { telemetry, isReady }: { telemetry: Telemetry; isReady: () => boolean }): void {
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['health'] } }, (_request, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', { schema: { summary: 'Readiness: the book is compiled and the engine warmed', tags: ['health'] } }, (_request, reply) =>
    isReady() ? reply.send({ status: 'ready' }) : reply.code(503).send({ status: 'starting' }),
  );
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['health'] } }, async (_request, reply) => {
    const body = await telemetry.registry.metrics();
    return reply.type(telemetry.registry.contentType).send(body);
  });
}
