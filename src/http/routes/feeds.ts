import type { FastifyInstance } from 'fastify';
import type { PositionRow, ReferencePrice } from '../../domain/orders.js';
import { assertWritable, sendDurably } from '../durable-reply.js';
import { jsonSchemaOf } from '../json-schema.js';
import { perToken } from '../plugins/rate-limit.js';
import {
  MarketDataRequestSchema,
  MarketDataResponseSchema,
  NoQuerySchema,
  PositionsRequestSchema,
  PositionsResponseSchema,
} from '../schemas.js';
import type { RouteDeps } from './deps.js';
import { executionRoutes } from './executions.js';

/** What gateways and feeds send back: executions, start-of-day positions, reference prices. */
export async function feedRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  await executionRoutes(app, deps);
  const { engine, config, store } = deps;
  const rateLimit = perToken(config.rateLimit);
  const querystring = jsonSchemaOf(NoQuerySchema);
  app.put(
    '/v1/positions',
    {
      schema: {
        summary: 'Position snapshot; merges by account and symbol unless replace is true',
        tags: ['state'],
        querystring,
        body: jsonSchemaOf(PositionsRequestSchema),
        response: { 200: jsonSchemaOf(PositionsResponseSchema, 'output') },
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
      schema: {
        summary: 'Reference prices',
        tags: ['state'],
        querystring,
        body: jsonSchemaOf(MarketDataRequestSchema),
        response: { 200: jsonSchemaOf(MarketDataResponseSchema, 'output') },
      },
      config: { role: 'gateway', rateLimit },
    },
    (request, reply) => {
      const prices = (request.body as { prices: ReferencePrice[] }).prices;
      engine.setReferencePrices(prices);
      return reply.send({ updated: prices.length });
    },
  );
}
