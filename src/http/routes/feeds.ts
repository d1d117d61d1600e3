import type { FastifyInstance } from 'fastify';
import type { ReferencePrice } from '../../domain/orders.js';
import { jsonSchemaOf } from '../json-schema.js';
import { perToken } from '../plugins/rate-limit.js';
import { MarketDataRequestSchema, MarketDataResponseSchema, NoQuerySchema } from '../schemas.js';
import type { RouteDeps } from './deps.js';
import { executionRoutes } from './executions.js';
import { positionRoutes } from './positions.js';

/** What gateways and feeds send back: executions, start-of-day positions, reference prices. */
export async function feedRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  await executionRoutes(app, deps);
  await positionRoutes(app, deps);
  const { engine, config } = deps;
  const rateLimit = perToken(config.rateLimit);
  const querystring = jsonSchemaOf(NoQuerySchema);
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
