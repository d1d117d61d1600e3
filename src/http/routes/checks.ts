import type { FastifyInstance } from 'fastify';
import type { Order } from '../../domain/orders.js';
import { ProblemError } from '../problems.js';
import { jsonSchemaOf } from '../json-schema.js';
import { perStrategy, perToken } from '../plugins/rate-limit.js';
import { BatchRequestSchema, BatchResponseSchema, CheckRequestSchema, CheckResultSchema } from '../schemas.js';
import type { RouteDeps } from './deps.js';

/** The hot routes: one order, or a batch, checked and reserved in one synchronous engine call. */
export function checkRoutes(app: FastifyInstance, { engine, config, telemetry }: RouteDeps): void {
  app.post(
    '/v1/checks',
    {
      schema: {
        summary: 'Pre-trade check of one order (reserves it on ACCEPT)',
        tags: ['checks'],
        body: jsonSchemaOf(CheckRequestSchema),
        response: { 200: jsonSchemaOf(CheckResultSchema, 'output') },
      },
      config: { role: 'gateway', rateLimit: perStrategy(config.rateLimit) },
    },
    (request, reply) => {
      const started = performance.now();
      const result = engine.checkOrder(request.body as Order, request.deadlineAt);
      telemetry.recordCheck(result, performance.now() - started);
      return reply.send(result);
    },
  );

  app.post(
    '/v1/checks/batch',
    {
      schema: {
        summary: 'Pre-trade check of a batch, in sequence; `atomic` makes it all-or-none',
        tags: ['checks'],
        body: jsonSchemaOf(BatchRequestSchema),
        response: { 200: jsonSchemaOf(BatchResponseSchema, 'output') },
      },
      config: { role: 'gateway', rateLimit: perToken(config.rateLimit) },
    },
    (request, reply) => {
      const body = request.body as { orders: Order[]; atomic?: boolean };
      if (body.orders.length > config.server.maxBatchSize) {
        throw new ProblemError('payloadTooLarge', `batch of ${body.orders.length} orders exceeds maxBatchSize ${config.server.maxBatchSize}`, [
          { field: 'orders', message: `at most ${config.server.maxBatchSize} orders` },
        ]);
      }
      const started = performance.now();
      const result = engine.checkBatch(body.orders, { atomic: body.atomic === true, deadline: request.deadlineAt });
      telemetry.recordBatch(result, performance.now() - started);
      return reply.send(result);
    },
  );
}
