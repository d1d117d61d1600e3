import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Span } from '@opentelemetry/api';
import type { BatchResult, CheckResult, LimitEngine } from '../../domain/engine.js';
import type { Order } from '../../domain/orders.js';
import type { Tracing } from '../../telemetry/tracing.js';
import type { CheckTarget } from '../warm-up.js';
import { journalFailedSince, sendDurably } from '../durable-reply.js';
import type { StoreGate } from '../durable-reply.js';
import { ProblemError } from '../problems.js';
import { jsonSchemaOf } from '../json-schema.js';
import { LargeBodyValidation, newBodyAjv } from '../body-validation.js';
import { nextTurn } from '../next-turn.js';
import { itemsStanding } from '../sliced-change.js';
import type { SliceEnd } from '../sliced-change.js';
import { parseLargeBodiesInSlices } from '../sliced-body.js';
import { BatchResponseSerializer, SERIALIZE_SLICE } from '../batch-response.js';
import { CheckRateLimit } from '../plugins/rate-limit.js';
import { BATCH_CEILING, BatchRequestSchema, BatchResponseSchema, CheckRequestSchema, CheckResultSchema, NoQuerySchema } from '../schemas.js';
import type { RouteDeps } from './deps.js';

/** Batches log at most this many rejected orders each, so one bad batch cannot flood the log. */
const MAX_LOGGED_REJECTIONS = 20;

/**
 * The check routes: one order, and a batch. They share one per-strategy rate limit (DESIGN §5:
 * per strategy on checks), so an order takes a unit from its strategy whichever route brings it.
 */
export async function checkRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const perStrategy = CheckRateLimit.perStrategy(deps.config.rateLimit, () => deps.telemetry.rateLimited.inc(), () => deps.clock.monotonic());
  singleCheckRoute(app, deps, perStrategy);
  await checkBatchRoute(app, deps, perStrategy);
}

/** The hot route: one order, checked and reserved in one synchronous engine call. */
function singleCheckRoute(app: FastifyInstance, { engine, telemetry, tracing, store, warmUp }: RouteDeps, singleLimit: CheckRateLimit | undefined): void {
  const live: CheckTarget = { engine, telemetry, tracing, isWarmUp: false };
  app.post(
    '/v1/checks',
    {
      schema: {
        summary: 'Pre-trade check of one order (reserves it on ACCEPT)',
        tags: ['checks'],
        querystring: jsonSchemaOf(NoQuerySchema),
        body: jsonSchemaOf(CheckRequestSchema),
        response: { 200: jsonSchemaOf(CheckResultSchema, 'output') },
      },
      config: { role: 'gateway' },
    },
    (request, reply) => {
      const { engine, telemetry, tracing, isWarmUp } = warmUp.owns(request) ? warmUp.target : live;
      // The start-up warm-up is not a strategy: it takes no row of the live tables.
      if (!isWarmUp) singleLimit?.admit(request, reply);
      const order = request.body as Order;
      if (!store.isHealthy) {
        const refused = dependencyUnavailable(order, engine.book.version);
        telemetry.recordCheck(refused);
        if (!isWarmUp) logRejection(request.log, order, refused);
        reply.send(refused);
        return;
      }
      const span = tracing.isEnabled ? tracing.startSpan('ulc.check', request.headers, { 'ulc.order_id': order.orderId }) : undefined;
      const started = performance.now();
      const result = span === undefined ? engine.checkOrder(order, request.deadlineAt) : traced(tracing, span, () => engine.checkOrder(order, request.deadlineAt));
      telemetry.recordCheck(result, performance.now() - started);
      if (span !== undefined) endCheckSpan(tracing, span, result);
      if (result.decision === 'REJECT' && !isWarmUp) logRejection(request.log, order, result);
      const sent = result.decision === 'ACCEPT' || result.violations.length > 0 ? sendDurably(reply, store, result) : reply.send(result);
      // A reply sent now is not returned: Fastify waits on a returned reply (a thenable) for the
      // end of its response, a stream watcher a request while answers wait for the turn's end.
      return sent === reply ? undefined : sent;
    },
  );
}

/**
 * A batch, checked in sequence. A large one is read, validated, checked and answered in slices,
 * with the event loop free in between (DESIGN §6: no request waits over 10 ms for another):
 * the route has its own scope, whose JSON parser reads a large body a slice at a time
 * (sliced-body.ts), and a large answer is serialised in slices too (batch-response.ts).
 */
async function checkBatchRoute(app: FastifyInstance, deps: RouteDeps, perStrategy: CheckRateLimit | undefined): Promise<void> {
  await app.register((scope, _options, done) => {
    parseLargeBodiesInSlices(scope, 'orders', BATCH_CEILING);
    batchRoute(scope, deps, perStrategy);
    done();
  });
}

function batchRoute(app: FastifyInstance, { engine, config, clock, telemetry, tracing, store, warmUp }: RouteDeps, strategyLimit: CheckRateLimit | undefined): void {
  const live: CheckTarget = { engine, telemetry, tracing, isWarmUp: false };
  const onLimited = (): void => telemetry.rateLimited.inc();
  const batchLimit = CheckRateLimit.perToken(config.rateLimit, onLimited, () => clock.monotonic());
  const batchSchema = jsonSchemaOf(BatchRequestSchema);
  const batchBody = new LargeBodyValidation(batchSchema, 'orders');
  const noQuerySchema = jsonSchemaOf(NoQuerySchema);
  const noQuery = newBodyAjv().compile(noQuerySchema);
  const serializer = new BatchResponseSerializer();
  const checkBatch = (request: FastifyRequest, reply: FastifyReply, body: BatchBody) => {
    const { engine, telemetry, tracing, isWarmUp } = warmUp.owns(request) ? warmUp.target : live;
    if (body.orders.length > config.server.maxBatchSize) {
      throw new ProblemError('payloadTooLarge', `batch of ${body.orders.length} orders exceeds maxBatchSize ${config.server.maxBatchSize}`, [
        { field: 'orders', message: `at most ${config.server.maxBatchSize} orders` },
      ]);
    }
    // One unit per order from each order's strategy, all or none: a refused batch is not checked.
    if (!isWarmUp) strategyLimit?.admitOrders(reply, body.orders);
    if (!store.isHealthy) {
      const version = engine.book.version;
      const results = body.orders.map((order) => dependencyUnavailable(order, version));
      const refused: BatchResult = { results, summary: { total: results.length, accepted: 0, rejected: results.length } };
      telemetry.recordBatch(refused);
      if (!isWarmUp) logBatchRejections(request, body.orders, refused);
      return reply.send(refused);
    }
    const span = tracing.isEnabled ? tracing.startSpan('ulc.check_batch', request.headers, { 'ulc.batch.size': body.orders.length }) : undefined;
    const serialize = (result: BatchResult): Promise<Buffer> | BatchResult =>
      result.results.length <= SERIALIZE_SLICE ? result : serializer.serialize(result, nextTurn);
    const finish = (result: BatchResult, engineMs: number, throughSeq: number, slices?: readonly SliceEnd[]) => {
      telemetry.recordBatch(result, engineMs);
      if (span !== undefined) endBatchSpan(tracing, span, result);
      if (result.summary.rejected > 0 && !isWarmUp) logBatchRejections(request, body.orders, result);
      const answer = serialize(result);
      if (slices === undefined || options.atomic) {
        if (!(answer instanceof Promise)) return sendDurably(reply, store, answer, throughSeq);
        return answer.then((bytes) => sendDurably(reply.type('application/json; charset=utf-8'), store, bytes, throughSeq));
      }
      return answerPartlyDurable(reply, store, { result, answer, slices, orders: body.orders, serialize });
    };
    const options = { atomic: body.atomic === true, deadline: request.deadlineAt };
    if (body.orders.length > BATCH_SLICE) {
      return checkInSlices(engine, store, body.orders, options).then(
        ({ result, engineMs, slices }) => finish(result, engineMs, slices[slices.length - 1]!.seq, slices),
        (error: unknown) => {
          if (span !== undefined) tracing.end(span, error);
          throw error;
        },
      );
    }
    const started = performance.now();
    const result = span === undefined ? engine.checkBatch(body.orders, options) : traced(tracing, span, () => engine.checkBatch(body.orders, options));
    return finish(result, performance.now() - started, store.lastSeq);
  };
  app.post(
    '/v1/checks/batch',
    {
      schema: {
        summary: 'Pre-trade check of a batch, in sequence; `atomic` makes it all-or-none',
        description:
          'Each order takes one unit from its strategy\'s rate limit, which single checks share. If that would take any strategy ' +
          'over its limit the whole batch is refused with 429 and retry-after before any order is checked, and takes nothing.',
        tags: ['checks'],
        querystring: noQuerySchema,
        body: batchSchema,
        response: { 200: jsonSchemaOf(BatchResponseSchema, 'output') },
      },
      // A large body's orders are validated in slices (the event loop gets turns in between), before anything else.
      validatorCompiler: ({ httpPart }) => (httpPart === 'body' ? batchBody.validator : noQuery),
      config: { role: 'gateway' },
      // The request counts against its token before its body is read, as on the plugin's routes,
      // so a token sending bodies that fail validation is limited too. The start-up warm-up is not
      // a client: it takes no row of the live tables.
      preParsing: (request, reply, payload, done) => {
        try {
          if (batchLimit !== undefined && !warmUp.owns(request)) batchLimit.admit(request, reply);
        } catch (error) {
          done(error as Error);
          return;
        }
        done(null, payload);
      },
    },
    (request, reply) => {
      const body = request.body as BatchBody;
      return batchBody.afterItems(body, () => checkBatch(request, reply, body));
    },
  );
}

interface BatchBody {
  orders: Order[];
  atomic?: boolean;
}

/**
 * Orders per engine step of a large batch. The event loop gets a turn between slices, so a
 * maximal batch does not stall every other request (DESIGN §6: never more than 10 ms); each
 * order still sees the reservations of the accepted orders before it, and an atomic batch
 * still takes back all of its reservations if one order rejects (the engine keeps its undo log).
 * About a millisecond of engine work in the load tests' book: a young collection landing in a
 * step adds its own pause (5–12 ms there while a large batch is alive) to that turn, so a step
 * is kept well under the budget. Batches up to this size are checked in one step, so a batch of
 * 100 is answered in the turn it arrived in.
 */
export const BATCH_SLICE = 128;

/**
 * A batch in slices, yielding between them; if the journal fails meanwhile the rest is refused,
 * even if it has recovered by the next slice (with fsync durability recovery puts the engine
 * back to what the disk holds, which this batch's earlier slices may not be part of).
 */
async function checkInSlices(
  engine: LimitEngine,
  store: StoreGate,
  orders: readonly Order[],
  options: { atomic: boolean; deadline: number },
): Promise<{ result: BatchResult; engineMs: number; slices: SliceEnd[] }> {
  const outages = store.outages;
  const run = engine.beginBatch(orders, options);
  const slices: SliceEnd[] = [];
  let engineMs = 0;
  for (;;) {
    const started = performance.now();
    const isDone = engine.advanceBatch(run, BATCH_SLICE);
    engineMs += performance.now() - started;
    slices.push({ next: run.next, seq: store.lastSeq });
    if (isDone) return { result: run.result, engineMs, slices };
    await nextTurn();
    if (journalFailedSince(store, outages)) engine.abortBatch(run, 'DEPENDENCY_UNAVAILABLE');
  }
}

/**
 * Answers a batch checked in slices once it is durable. Each slice's records went to disk in
 * writes of their own, so if the journal failed after some of them (fsync durability), the
 * slices up to the last durable record stand (they are on disk, and recovery keeps them) and
 * the rest do not (recovery rolls them back): those orders are answered DEPENDENCY_UNAVAILABLE
 * rather than the whole batch 503, which would tell the gateway that orders standing on disk
 * were refused (itemsStanding throws that 503 when none stand). An atomic batch is all or none
 * anyway: it is not answered here. The answer serialises while the records are made durable.
 */
async function answerPartlyDurable(
  reply: FastifyReply,
  store: StoreGate,
  batch: {
    result: BatchResult;
    answer: Promise<Buffer> | BatchResult;
    slices: readonly SliceEnd[];
    orders: readonly Order[];
    serialize: (result: BatchResult) => Promise<Buffer> | BatchResult;
  },
): Promise<FastifyReply> {
  const [answer, { items }] = await Promise.all([batch.answer, itemsStanding(store, { slices: batch.slices, total: batch.orders.length })]);
  if (items >= batch.orders.length) return send(reply, answer);
  return send(reply, await batch.serialize(refusedFrom(batch.result, batch.orders, items)));
}

function send(reply: FastifyReply, answer: Buffer | BatchResult): FastifyReply {
  return Buffer.isBuffer(answer) ? reply.type('application/json; charset=utf-8').send(answer) : reply.send(answer);
}

/** The batch's results with every order from `first` on answered DEPENDENCY_UNAVAILABLE. */
function refusedFrom(result: BatchResult, orders: readonly Order[], first: number): BatchResult {
  const results = result.results.map((r, i) => (i < first ? r : dependencyUnavailable(orders[i]!, r.bookVersion)));
  const accepted = results.filter((r) => r.decision === 'ACCEPT').length;
  return { results, summary: { total: results.length, accepted, rejected: results.length - accepted } };
}

/** The journal cannot record a reservation: fail closed without touching the engine. */
function dependencyUnavailable(order: Order, bookVersion: number): CheckResult {
  return { orderId: order.orderId, decision: 'REJECT', reasons: ['DEPENDENCY_UNAVAILABLE'], violations: [], evaluated: 0, bookVersion };
}

/** Runs the engine call; a span that is open when it throws is ended as failed. */
function traced<T>(tracing: Tracing, span: Span | undefined, call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (span !== undefined) tracing.end(span, error);
    throw error;
  }
}

function endCheckSpan(tracing: Tracing, span: Span, result: CheckResult): void {
  span.setAttributes({
    'ulc.decision': result.decision,
    'ulc.reasons': [...result.reasons],
    'ulc.limits_evaluated': result.evaluated,
    'ulc.violations': result.violations.length,
    'ulc.book_version': result.bookVersion,
  });
  tracing.end(span);
}

function endBatchSpan(tracing: Tracing, span: Span, batch: BatchResult): void {
  let evaluated = 0;
  let violations = 0;
  for (const result of batch.results) {
    evaluated += result.evaluated;
    violations += result.violations.length;
  }
  span.setAttributes({
    'ulc.decision': batch.summary.rejected === 0 ? 'ACCEPT' : batch.summary.accepted === 0 ? 'REJECT' : 'MIXED',
    'ulc.batch.accepted': batch.summary.accepted,
    'ulc.batch.rejected': batch.summary.rejected,
    'ulc.limits_evaluated': evaluated,
    'ulc.violations': violations,
  });
  tracing.end(span);
}

/** One info line per risk REJECT: what the desk needs to explain it (redactable by path). */
function logRejection(log: FastifyBaseLogger, order: Order, result: CheckResult): void {
  log.info(
    {
      order: { orderId: order.orderId, accountId: order.accountId, strategyId: order.strategyId, symbol: order.symbol, side: order.side, quantity: order.quantity, price: order.price },
      reasons: result.reasons,
      violations: result.violations.map((v) => ({ limitId: v.limitId, severity: v.severity, action: v.action, value: v.value, threshold: v.threshold })),
    },
    'order rejected',
  );
}

function logBatchRejections(request: FastifyRequest, orders: readonly Order[], batch: BatchResult): void {
  let logged = 0;
  for (let i = 0; i < batch.results.length && logged < MAX_LOGGED_REJECTIONS; i++) {
    const result = batch.results[i]!;
    if (result.decision === 'REJECT' && result.reasons[0] !== 'BATCH_REJECTED') {
      logRejection(request.log, orders[i]!, result);
      logged++;
    }
  }
}
