import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { jsonSchemaOf } from '../json-schema.js';
import { ProblemError } from '../problems.js';
import type { RequestHeaders } from '../schema-docs.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Monotonic time (performance.now() ms) by which the answer must be decided. */
    deadlineAt: number;
  }
}

export const MAX_BUDGET_MS = 60_000;

/**
 * Milliseconds as plain decimal digits, a fraction allowed (`5`, `2.5`). Not what Number()
 * also reads (`0x10`, `0b11`, `1e3`, ` 5 `): a budget in hex is a client's bug, not a budget.
 * An exponent is refused too: no budget up to a minute needs one, and a JavaScript client
 * prints every number from 1e-6 to 1e21 without one, so `1e3` is written by hand or by a
 * serialiser this header was not meant for.
 */
const DECIMAL_MS = /^\d{1,15}(?:\.\d{1,15})?$/;

/** The header every route with a role reads, for openapi.yaml (probes ignore it). */
export const DEADLINE_HEADERS: RequestHeaders = {
  'x-deadline-ms': {
    description:
      `The caller's budget for the answer, from the request's arrival: milliseconds in [0, ${MAX_BUDGET_MS}] as decimal digits (\`5\`, \`2.5\`). ` +
      '0 is a spent budget: every order is rejected with DEADLINE_EXCEEDED. Absent: server.defaultDeadlineMs.',
    required: false,
    schema: jsonSchemaOf(z.string().regex(DECIMAL_MS)),
  },
};

/**
 * Deadline propagation: the gateway's `x-deadline-ms` budget (else the configured default)
 * starts when the request arrives, so queueing and parsing time count against it too.
 * A budget of 0 is a spent one (a gateway passing on what it has left): the request is
 * answered as any other whose budget ran out, every order rejected with DEADLINE_EXCEEDED and
 * nothing reserved. A negative budget is malformed (400): what is left of a budget is never
 * less than nothing, and a gateway that sends one has a bug to see.
 */
export const deadlinePlugin = fp(
  (app: FastifyInstance, options: { defaultDeadlineMs: number; now: () => number }) => {
    app.decorateRequest('deadlineAt', 0);
    app.addHook('onRequest', (request: FastifyRequest, _reply, done) => {
      const header = request.headers['x-deadline-ms'];
      let budget = options.defaultDeadlineMs;
      // Probes (no role) take no budget: a proxy's stray header must not fail a health check.
      if (header !== undefined && request.routeOptions.config.role !== undefined) {
        budget = typeof header === 'string' && DECIMAL_MS.test(header) ? Number(header) : Number.NaN;
        if (!(budget >= 0 && budget <= MAX_BUDGET_MS)) {
          return done(
            new ProblemError('validation', `x-deadline-ms must be milliseconds in [0, ${MAX_BUDGET_MS}] as decimal digits, such as 5 or 2.5`, [
              { field: 'headers.x-deadline-ms', message: `must be decimal milliseconds in [0, ${MAX_BUDGET_MS}]` },
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
