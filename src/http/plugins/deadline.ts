import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemError } from '../problems.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Monotonic time (performance.now() ms) by which the answer must be decided. */
    deadlineAt: number;
  }
}

const MAX_BUDGET_MS = 60_000;

/**
 * Deadline propagation: the gateway's `x-deadline-ms` budget (else the configured default)
 * starts when the request arrives, so queueing and parsing time count against it too.
 */
export const deadlinePlugin = fp(
  (app: FastifyInstance, options: { defaultDeadlineMs: number; now: () => number }) => {
    app.decorateRequest('deadlineAt', 0);
    app.addHook('onRequest', (request: FastifyRequest, _reply, done) => {
      const header = request.headers['x-deadline-ms'];
      let budget = options.defaultDeadlineMs;
      // Probes (no role) take no budget: a proxy's stray header must not fail a health check.
      if (header !== undefined && request.routeOptions.config.role !== undefined) {
        budget = typeof header === 'string' ? Number(header) : Number.NaN;
        if (!(budget > 0 && budget <= MAX_BUDGET_MS)) {
          return done(
            new ProblemError('validation', `x-deadline-ms must be a number of milliseconds in (0, ${MAX_BUDGET_MS}]`, [
              { field: 'headers.x-deadline-ms', message: `must be in (0, ${MAX_BUDGET_MS}]` },
            ]),
          );
        }
      }
      request.deadlineAt = options.now() + budget;
      done();
    });
  },
  { name: 'deadline' },
);
