import type { FastifyInstance } from 'fastify';
import type { Telemetry } from '../../telemetry/metrics.js';
import { sendProblem } from '../plugins/errors.js';

export interface Readiness {
  /** The book is compiled and the engine and the HTTP path are warmed. */
  isStarted: () => boolean;
  /** The journal takes changes (true without one). */
  isJournalHealthy: () => boolean;
}

/**
 * Public probes: liveness, readiness (after warm-up, and while the journal works), and the
 * Prometheus exposition. Not ready is a 503 problem that says why.
 */
export function healthRoutes(app: FastifyInstance, { telemetry, readiness }: { telemetry: Telemetry; readiness: Readiness }): void {
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['health'] } }, (_request, reply) => reply.send({ status: 'ok' }));
  app.get(
    '/readyz',
    { schema: { summary: 'Readiness: the book is compiled, the engine warmed and the journal writable (else a 503 problem saying why)', tags: ['health'] } },
    (request, reply) => {
      if (!readiness.isStarted()) return sendProblem(reply, request, 'unavailable', 'starting: the limit book is being compiled and the engine warmed');
      if (!readiness.isJournalHealthy()) return sendProblem(reply, request, 'unavailable', 'the journal has failed: state changes and checks are refused until it recovers');
      return reply.send({ status: 'ready' });
    },
  );
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['health'] } }, async (_request, reply) => {
    const body = await telemetry.registry.metrics();
    return reply.type(telemetry.registry.contentType).send(body);
  });
}
