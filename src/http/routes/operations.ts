import type { FastifyInstance } from 'fastify';
import type { Aggregation, TradingState } from '../../domain/enums.js';
import { isScopeId, scopeOfKey } from '../../domain/keys.js';
import type { KeyPageQuery } from '../../domain/key-page.js';
import type { TradingStateEntry } from '../../domain/trading-states.js';
import { ProblemError } from '../problems.js';
import { absentBodyIsEmpty } from '../body-validation.js';
import { assertWritable, sendDurably } from '../durable-reply.js';
import { jsonSchemaOf } from '../json-schema.js';
import { perToken } from '../plugins/rate-limit.js';
import {
  AccountExposureQuerySchema,
  AccountExposureSchema,
  AccountIdParamsSchema,
  DEFAULT_KEY_PAGE_SIZE,
  EmptyBodySchema,
  NoQuerySchema,
  SessionResetResponseSchema,
  TradingStateEntrySchema,
  TradingStateRequestSchema,
  TradingStatesQuerySchema,
  TradingStatesResponseSchema,
} from '../schemas.js';
import type { RouteDeps } from './deps.js';

/** An entry as the API answers it: the scope as a PUT writes it, `{ type, id? }`, not its key. */
const entryView = (entry: TradingStateEntry) => ({ ...entry, scope: scopeOfKey(entry.scope) });

/** A validated `cursor` and `pageSize` (AccountExposureQuerySchema, TradingStatesQuerySchema), as the domain pages take them. */
const keyPageOf = (query: { cursor?: string; pageSize?: number }): KeyPageQuery => ({ cursor: query.cursor, pageSize: query.pageSize ?? DEFAULT_KEY_PAGE_SIZE });

/** The ops desk: kill switch and reduce-only, the trading day, and what an account holds. */
export function operationRoutes(app: FastifyInstance, { engine, config, clock, store }: RouteDeps): void {
  const rateLimit = perToken(config.rateLimit);
  const querystring = jsonSchemaOf(NoQuerySchema);

  app.get(
    '/v1/trading-state',
    {
      schema: {
        summary: 'Scopes not ACTIVE (kill switches, reduce-only), in scope-key order, in cursor pages',
        tags: ['operations'],
        querystring: jsonSchemaOf(TradingStatesQuerySchema),
        response: { 200: jsonSchemaOf(TradingStatesResponseSchema, 'output') },
      },
      config: { role: 'ops', rateLimit },
    },
    (request, reply) => {
      const page = engine.tradingStates.page(keyPageOf(request.query as { cursor?: string; pageSize?: number }));
      return reply.send({ states: page.items.map(entryView), nextCursor: page.nextCursor ?? null });
    },
  );

  app.put(
    '/v1/trading-state',
    {
      schema: {
        summary: 'Halt, set reduce-only, or resume a scope',
        tags: ['operations'],
        querystring,
        body: jsonSchemaOf(TradingStateRequestSchema),
        response: { 200: jsonSchemaOf(TradingStateEntrySchema, 'output') },
      },
      config: { role: 'admin', rateLimit },
    },
    (request, reply) => {
      const body = request.body as { scope: { type: Aggregation; id?: string }; state: TradingState; reason: string };
      const { type, id } = body.scope;
      if (type !== 'global' && id === undefined) throw new ProblemError('validation', `scope.id is required for a ${type} scope`, [{ field: 'scope.id', message: 'is required' }]);
      if (type === 'global' && id !== undefined) throw new ProblemError('validation', 'the global scope takes no id', [{ field: 'scope.id', message: 'must be absent' }]);
      if (id !== undefined && !isScopeId(type, id)) {
        throw new ProblemError('validation', `scope.id for ${type} is ${type.includes('+') ? '<id>|<symbol>' : 'a single id'}`, [{ field: 'scope.id', message: 'has the wrong form' }]);
      }
      assertWritable(store);
      const entry = engine.setTradingState(type, id, body.state, body.reason);
      // The audit line only for a change that was made (not one refused: journal down, table full).
      request.log.info({ scope: body.scope, state: body.state, by: request.principal?.name }, 'trading state changed');
      return sendDurably(reply, store, entryView(entry));
    },
  );

  app.post(
    '/v1/sessions/reset',
    {
      schema: {
        summary: 'Start a new trading day for the whole firm: realized P&L and rate windows restart',
        tags: ['operations'],
        querystring,
        body: jsonSchemaOf(EmptyBodySchema),
        response: { 200: jsonSchemaOf(SessionResetResponseSchema, 'output') },
      },
      preValidation: absentBodyIsEmpty,
      config: { role: 'admin', rateLimit },
    },
    (request, reply) => {
      assertWritable(store);
      engine.resetSession();
      request.log.info({ by: request.principal?.name }, 'session reset');
      return sendDurably(reply, store, { reset: true, at: new Date(clock.now()).toISOString() });
    },
  );

  app.get(
    '/v1/accounts/:id/exposure',
    {
      schema: {
        summary: 'Positions of an account in symbol order, in cursor pages, with its open orders, gross notional and P&L over all of them',
        tags: ['operations'],
        params: jsonSchemaOf(AccountIdParamsSchema),
        querystring: jsonSchemaOf(AccountExposureQuerySchema),
        response: { 200: jsonSchemaOf(AccountExposureSchema, 'output') },
      },
      config: { role: 'ops', rateLimit },
    },
    (request, reply) => reply.send(engine.exposure((request.params as { id: string }).id, keyPageOf(request.query as { cursor?: string; pageSize?: number }))),
  );
}
