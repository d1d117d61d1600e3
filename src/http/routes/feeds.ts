import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ExecutionOutcome } from '../../domain/engine.js';
import type { ExecutionEvent, PositionRow, ReferencePrice } from '../../domain/orders.js';
import type { Telemetry } from '../../telemetry/metrics.js';
import { assertWritable, sendDurably } from '../durable-reply.js';
import { jsonSchemaOf } from '../json-schema.js';
import { perToken } from '../plugins/rate-limit.js';
import {
  ExecutionsRequestSchema,
  ExecutionsResponseSchema,
  MarketDataRequestSchema,
  MarketDataResponseSchema,
  NoQuerySchema,
  PositionsRequestSchema,
  PositionsResponseSchema,
} from '../schemas.js';
import type { RouteDeps } from './deps.js';

/** What gateways and feeds send back: executions, start-of-day positions, reference prices. */
export function feedRoutes(app: FastifyInstance, { engine, config, store, telemetry }: RouteDeps): void {
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
      const events = (request.body as { events: ExecutionEvent[] }).events;
      const results = engine.applyExecutions(events);
      recordExecutions(telemetry, request.log, events, results);
      return sendDurably(reply, store, { results });
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

/** Fills logged per request at most, so one bad feed cannot flood the log. */
const MAX_LOGGED_UNKNOWN_FILLS = 20;

/**
 * Counts every execution by type and outcome, and warns of fills that moved nothing: a fill for
 * an order the service does not know (never checked, or closed over a TTL ago) leaves the
 * position short of what traded, until a position snapshot restates it.
 */
function recordExecutions(telemetry: Telemetry, log: FastifyBaseLogger, events: readonly ExecutionEvent[], results: readonly ExecutionOutcome[]): void {
  const unknownFills: { accountId: string; orderId: string; quantity: number | undefined }[] = [];
  let unknownFillCount = 0;
  for (let i = 0; i < events.length; i++) {
    const { type, accountId, orderId, quantity } = events[i]!;
    const outcome = results[i]!.outcome;
    telemetry.recordExecution(type, outcome);
    if (type !== 'FILL' || outcome !== 'unknown_order') continue;
    unknownFillCount++;
    if (unknownFills.length < MAX_LOGGED_UNKNOWN_FILLS) unknownFills.push({ accountId, orderId, quantity });
  }
  if (unknownFillCount > 0) {
    log.warn({ unknownFills: unknownFillCount, fills: unknownFills }, 'fills for unknown orders moved no position: restate the positions with PUT /v1/positions');
  }
}
