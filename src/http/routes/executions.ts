import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PositionsReplacingError } from '../../domain/engine.js';
import type { ExecutionOutcome } from '../../domain/engine.js';
import type { ExecutionEvent } from '../../domain/orders.js';
import type { Telemetry } from '../../telemetry/metrics.js';
import { executionsResponseSerializer } from '../batch-response.js';
import type { SlicedArraySerializer } from '../batch-response.js';
import { LargeBodyValidation, newBodyAjv } from '../body-validation.js';
import { assertWritable, sendDurably } from '../durable-reply.js';
import { jsonSchemaOf } from '../json-schema.js';
import { perToken } from '../plugins/rate-limit.js';
import { EXECUTIONS_CEILING, ExecutionsRequestSchema, ExecutionsResponseSchema, NoQuerySchema } from '../schemas.js';
import { nextTurn } from '../next-turn.js';
import { parseLargeBodiesInSlices } from '../sliced-body.js';
import { ProblemError } from '../problems.js';
import { changeInSlices, itemsStanding, notAppliedFrom, partlyApplied } from '../sliced-change.js';
import type { RouteDeps } from './deps.js';

/**
 * Events per engine step of a large body: about 1.5 ms of applying and journalling. Between
 * steps the event loop serves other requests (DESIGN §6: never more than 10 ms), which see the
 * events applied so far, as they would had the gateway sent the body as several requests.
 */
export const EXECUTION_SLICE = 500;

/**
 * Fills, cancels, rejects and expiries. A large body is read, validated and applied in slices,
 * in a scope of its own whose JSON parser reads it a slice at a time; all of it is validated
 * before any event is applied, so a body refused as invalid changes nothing.
 */
export async function executionRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  await app.register((scope, _options, done) => {
    parseLargeBodiesInSlices(scope, 'events', EXECUTIONS_CEILING);
    executionsRoute(scope, deps);
    done();
  });
}

function executionsRoute(app: FastifyInstance, { engine, config, store, telemetry }: RouteDeps): void {
  const bodySchema = jsonSchemaOf(ExecutionsRequestSchema);
  const body = new LargeBodyValidation(bodySchema, 'events');
  const querystring = jsonSchemaOf(NoQuerySchema);
  const noQuery = newBodyAjv().compile(querystring);
  const serializer = executionsResponseSerializer();
  const apply = (request: FastifyRequest, reply: FastifyReply, events: readonly ExecutionEvent[]) => {
    assertWritable(store);
    if (events.length > EXECUTION_SLICE) return applyInSlices({ engine, store, telemetry }, serializer, request.log, reply, events);
    const results = engine.applyExecutions(events);
    recordExecutions(telemetry, request.log, events, results);
    return sendDurably(reply, store, { results });
  };
  app.post(
    '/v1/executions',
    {
      schema: {
        summary: 'Fills, cancels, rejects and expiries of checked orders',
        tags: ['state'],
        querystring,
        body: bodySchema,
        response: { 200: jsonSchemaOf(ExecutionsResponseSchema, 'output') },
      },
      // A large body's events are validated in slices (the event loop gets turns in between), before any is applied.
      validatorCompiler: ({ httpPart }) => (httpPart === 'body' ? body.validator : noQuery),
      config: { role: 'gateway', rateLimit: perToken(config.rateLimit) },
    },
    (request, reply) => {
      const { events } = request.body as { events: ExecutionEvent[] };
      return body.afterItems(request.body as object, () => apply(request, reply, events));
    },
  );
}

/**
 * A large body's events, applied a slice at a time and answered once durable, the answer
 * serialised a slice at a time too (batch-response.ts). Each slice's
 * records go to the journal in writes of their own, so if it fails part way the events of the
 * slices it holds stand and the rest do not: the answer is then a 503 naming the first event
 * not applied, for the gateway to send from there on. (Fills are not idempotent: the whole body
 * sent again would fill the standing ones twice.) If none stand, it is the 503 of today.
 */
async function applyInSlices(
  { engine, store, telemetry }: Pick<RouteDeps, 'engine' | 'store' | 'telemetry'>,
  serializer: SlicedArraySerializer<ExecutionOutcome>,
  log: FastifyBaseLogger,
  reply: FastifyReply,
  events: readonly ExecutionEvent[],
): Promise<FastifyReply> {
  const results: ExecutionOutcome[] = [];
  const change = await changeInSlices(store, events, EXECUTION_SLICE, (slice) => {
    for (const result of engine.applyExecutions(slice)) results.push(result);
  });
  const standing = await itemsStanding(store, change);
  // Counted and logged: the events that stand, not those of slices a journal failure took back.
  recordExecutions(telemetry, log, events, results, standing.items);
  if (standing.items < events.length) throw standing.cause instanceof PositionsReplacingError ? fillsHeldBack(standing.items, events.length) : partlyApplied('events', standing, events.length);
  const answer = await serializer.serialize(results, '}', nextTurn);
  return reply.type('application/json; charset=utf-8').send(answer);
}

/**
 * A large body a positions replace cut short (it refuses fills until it ends): the events before
 * stand; those from the slice it stopped at on are to be sent again once the replace is answered,
 * less the fills its positions already count (sent again, they would count twice).
 */
function fillsHeldBack(applied: number, total: number): ProblemError {
  return new ProblemError(
    'unavailable',
    `only the first ${applied} of ${total} events were applied before a positions replace began, which refuses fills until it ends: send events.${applied} on again once the replace is answered, leaving out fills its positions already count`,
    notAppliedFrom('events', applied),
  );
}

/** Fills logged per request at most, so one bad feed cannot flood the log. */
const MAX_LOGGED_UNKNOWN_FILLS = 20;

/**
 * Counts every execution by type and outcome, and warns of fills that moved nothing: a fill for
 * an order the service does not know (never checked, or closed over a TTL ago) leaves the
 * position short of what traded, until a position snapshot restates it.
 */
function recordExecutions(telemetry: Telemetry, log: FastifyBaseLogger, events: readonly ExecutionEvent[], results: readonly ExecutionOutcome[], count = results.length): void {
  const unknownFills: { accountId: string; orderId: string; quantity: number | undefined }[] = [];
  let unknownFillCount = 0;
  for (let i = 0; i < count; i++) {
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
