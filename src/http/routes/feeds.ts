import type { FastifyInstance } from 'fastify';
import type { ExecutionEvent, PositionRow, ReferencePrice } from '../../domain/orders.js';
import { assertWritable, sendDurably } from '../durable-reply.js';
import { jsonSchemaOf } from '../json-schema.js';
import { perToken } from '../plugins/rate-limit.js';
import { ExecutionsRequestSchema, ExecutionsResponseSchema, MarketDataRequestSchema, NoQuerySchema, PositionsRequestSchema } from '../schemas.js';
import type { RouteDeps } from './deps.js';

/** What gateways and feeds send back: executions, start-of-day positions, reference prices. */
export function feedRoutes(app: FastifyInstance, { engine, config, store }: RouteDeps): void {
  const rateLimit = perToken(config.rateLimit);
  const querystring = jsonSchemaOf(NoQuerySchema);
  app.post(
    '/v1/executions',
    {
      schema: {
        summary: 'Fills, cancels, rejects and expiries of checked orders',
        tags: ['state'],
        querystring,
        body: jsonSchemaOf(ExecutionsRequestSchema),
        response: { 200: jsonSchemaOf(ExecutionsResponseSchema, 'output') },
      },
      config: { role: 'gateway', rateLimit },
    },
    (request, reply) => {
      assertWritable(store);
      return sendDurably(reply, store, { results: engine.applyExecutions((request.body as { events: ExecutionEvent[] }).events) });
    },
  );

  app.put(
    '/v1/positions',
    {
      schema: {
        summary: 'Position snapshot; merges by account and symbol unless replace is true',
        tags: ['state'],
        querystring,
        body: jsonSchemaOf(PositionsRequestSchema),
      },
      config: { role: 'gateway', rateLimit },
    },
    (request, reply) => {
      const body = request.body as { positions: PositionRow[]; replace?: boolean };
      assertWritable(store);
      engine.applyPositions(body.positions, body.replace === true);
      return sendDurably(reply, store, { applied: body.positions.length, replaced: body.replace === true });
    },
  );

  app.put(
    '/v1/market-data',
    {
      schema: { summary: 'Reference prices', tags: ['state'], querystring, body: jsonSchemaOf(MarketDataRequestSchema) },
      config: { role: 'gateway', rateLimit },
    },
    (request, reply) => {
      const prices = (request.body as { prices: ReferencePrice[] }).prices;
      engine.setReferencePrices(prices);
      return reply.send({ updated: prices.length });
    },
  );
}
