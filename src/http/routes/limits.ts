import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { LimitEngine } from '../../domain/engine.js';
import type { LimitBook } from '../../domain/limit-book.js';
import type { LimitDefinition } from '../../domain/limit-definition.js';
import { ProblemError } from '../problems.js';
import type { RequestHeaders, ResponseHeaders } from '../schema-docs.js';
import { absentBodyIsEmpty } from '../body-validation.js';
import { BookBodies } from '../book-body.js';
import { assertWritable, sendDurably } from '../durable-reply.js';
import { jsonSchemaOf } from '../json-schema.js';
import { nextTurn } from '../next-turn.js';
import { perToken } from '../plugins/rate-limit.js';
import {
  EmptyBodySchema,
  EvaluateRequestSchema,
  EvaluateResponseSchema,
  LimitDeletedResponseSchema,
  LimitIdParamsSchema,
  LimitResponseSchema,
  LimitsResponseSchema,
  LimitWriteSchema,
  NoQuerySchema,
} from '../schemas.js';
import type { RouteDeps } from './deps.js';

/** A book version as the ETag carries it: no sign, no leading zeros. */
const VERSION = '(?:0|[1-9]\\d{0,14})';
/** Bare or as an entity-tag, quotes balanced: `7`, `"7"`, `W/"7"`. */
const IF_MATCH = z.string().regex(new RegExp(`^(?:${VERSION}|"${VERSION}"|W/"${VERSION}")$`));

/** What a limit write reads besides the deadline, for openapi.yaml. */
const IF_MATCH_HEADERS: RequestHeaders = {
  'If-Match': {
    description: 'The book version the writer read (`7` or `"7"`, the ETag of a read): 412 when the book has moved on, and for a weak `W/"7"`, which never matches. Absent or `*`: unconditional.',
    required: false,
    schema: jsonSchemaOf(z.union([z.literal('*'), IF_MATCH])),
  },
};

/** A parsed If-Match: none (absent or `*`), the book version the writer read, or a weak tag. */
type IfMatch = undefined | number | 'weak';

/**
 * `If-Match: 7` or `"7"`: the book version the writer last read. Absent or `*`: unconditional
 * (the book always exists). Anything else (`"7`, `"07"`, a list) is a 400, never read as a
 * version. A weak `W/"7"` is well formed but never matches (see expectedVersion).
 */
function ifMatchOf(request: FastifyRequest): IfMatch {
  const header = request.headers['if-match'];
  if (header === undefined || header.trim() === '*') return undefined;
  if (!IF_MATCH.safeParse(header).success) {
    throw new ProblemError('validation', 'If-Match must be a book version such as 7 or "7"', [{ field: 'headers.if-match', message: 'is not a version' }]);
  }
  return header.startsWith('W/') ? 'weak' : Number(header.replace(/\D/g, ''));
}

/**
 * The version a write must find. If-Match compares strongly (RFC 9110 §13.1.1), so a weak tag
 * never matches: 412. Called only once the route knows it would otherwise succeed, as a 404 or
 * 409 comes before any 412 (RFC 9110 §13.2.1), for weak tags as for strong ones.
 */
function expectedVersion(ifMatch: IfMatch): number | undefined {
  if (ifMatch === 'weak') throw new ProblemError('preconditionFailed', 'a weak validator never matches If-Match: send the version as "7"');
  return ifMatch;
}

const withVersion = (reply: FastifyReply, book: LimitBook): FastifyReply => reply.header('etag', `"${book.version}"`);

/** What every answer withVersion makes carries, for openapi.yaml: the version a later write sends as If-Match. */
const VERSION_HEADERS: ResponseHeaders = {
  ETag: {
    description: 'The book version the answer reflects, as a strong entity-tag (`"7"`): send it as If-Match with the next write',
    required: true,
    schema: jsonSchemaOf(z.string().regex(new RegExp(`^"${VERSION}"$`))),
  },
};

/** Where a limit a write created can be read: RFC 9110 §10.2.2, else a client takes the collection as the new resource. */
const locationHeader = (required: boolean): ResponseHeaders => ({
  Location: {
    description: required ? 'The created limit, as GET /v1/limits/{id}' : 'On 201 only: the created limit, as GET /v1/limits/{id}',
    required,
    schema: jsonSchemaOf(z.string()),
  },
});
const limitPath = (id: string): string => `/v1/limits/${encodeURIComponent(id)}`;

/** Open orders linked a turn: about 2–4 ms where each is a cache miss. */
export const LINK_SLICE = 16_384;

/**
 * Links the open orders a new self_trade limit will read at a level that keeps none yet, a
 * slice a turn, before the change that adds the limit (it links what is left, orders reserved
 * meanwhile are linked as they come): at a million open orders, one step was ~100 ms.
 */
async function linkOrdersFor(engine: LimitEngine, definition: LimitDefinition): Promise<void> {
  if (!engine.prepareTracking([definition])) return;
  while (engine.trackSome(LINK_SLICE)) await nextTurn();
}

/**
 * Refuses what it can before linking (a refused request links nothing) and again after (the book
 * may have changed meanwhile), then upserts. A request refused after linking puts order keeping
 * back as the current book reads it: no level goes on linking for a limit that never came.
 */
async function upsertAfterLinking(engine: LimitEngine, definition: LimitDefinition, refuseNow: () => void, upsert: () => LimitBook): Promise<LimitBook> {
  refuseNow();
  await linkOrdersFor(engine, definition);
  try {
    refuseNow();
    return upsert();
  } catch (error) {
    engine.settleTracking();
    throw error;
  }
}

/** The limit book: ops read it, admins change it; a write of one limit compiles that limit alone, a new book is swapped in either way. */
export function limitRoutes(app: FastifyInstance, { engine, config, store, telemetry }: RouteDeps): void {
  const rateLimit = perToken(config.rateLimit);
  const params = jsonSchemaOf(LimitIdParamsSchema);
  const querystring = jsonSchemaOf(NoQuerySchema);
  const limitResponse = jsonSchemaOf(LimitResponseSchema, 'output');
  /** The book's body, made once per book (see BookBodies): every dashboard polling GET /v1/limits used to cost the event loop 30 ms at 10,000 limits. */
  const bodies = new BookBodies();

  app.get(
    '/v1/limits',
    {
      schema: { summary: 'The limit book', tags: ['limits'], querystring, response: { 200: jsonSchemaOf(LimitsResponseSchema, 'output') }, successHeaders: VERSION_HEADERS },
      config: { role: 'ops', rateLimit },
    },
    (_request, reply) => {
      const book = engine.book;
      const send = (body: Buffer): FastifyReply => withVersion(reply, book).type('application/json; charset=utf-8').send(body);
      const body = bodies.of(book);
      return Buffer.isBuffer(body) ? send(body) : body.then(send);
    },
  );

  app.post(
    '/v1/limits',
    {
      schema: {
        summary: 'Add a limit',
        tags: ['limits'],
        querystring,
        body: jsonSchemaOf(LimitWriteSchema),
        response: { 201: limitResponse },
        successHeaders: { ...VERSION_HEADERS, ...locationHeader(true) },
        requestHeaders: IF_MATCH_HEADERS,
      },
      config: { role: 'admin', rateLimit },
    },
    async (request, reply) => {
      const definition = request.body as LimitDefinition;
      const ifMatch = ifMatchOf(request);
      const refuseNow = (): void => {
        if (engine.book.byId.has(definition.id)) throw new ProblemError('conflict', `limit ${definition.id} exists: PUT /v1/limits/${definition.id} to change it`);
        assertWritable(store);
        engine.assertVersion(expectedVersion(ifMatch));
      };
      const book = await upsertAfterLinking(engine, definition, refuseNow, () => engine.upsertLimit(definition, expectedVersion(ifMatch)));
      return sendDurably(withVersion(reply, book).code(201).header('location', limitPath(definition.id)), store, { version: book.version, limit: book.byId.get(definition.id)?.definition });
    },
  );

  app.get(
    '/v1/limits/:id',
    {
      schema: { summary: 'One limit', tags: ['limits'], params, querystring, response: { 200: limitResponse }, successHeaders: VERSION_HEADERS },
      config: { role: 'ops', rateLimit },
    },
    (request, reply) => {
      const { id } = request.params as { id: string };
      const limit = engine.book.byId.get(id);
      if (limit === undefined) throw new ProblemError('notFound', `no limit ${id}`);
      return withVersion(reply, engine.book).send({ version: engine.book.version, limit: limit.definition });
    },
  );

  app.put(
    '/v1/limits/:id',
    {
      schema: {
        summary: 'Create (201) or replace (200) a limit',
        requestHeaders: IF_MATCH_HEADERS,
        tags: ['limits'],
        params,
        querystring,
        body: jsonSchemaOf(LimitWriteSchema),
        response: { 200: limitResponse, 201: limitResponse },
        successHeaders: { ...VERSION_HEADERS, ...locationHeader(false) },
      },
      config: { role: 'admin', rateLimit },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const definition = request.body as LimitDefinition;
      if (definition.id !== id) throw new ProblemError('validation', `body id ${definition.id} differs from the path's ${id}`, [{ field: 'id', message: 'must equal the path id' }]);
      const ifMatch = ifMatchOf(request);
      const refuseNow = (): void => {
        assertWritable(store);
        engine.assertVersion(expectedVersion(ifMatch));
      };
      let isNew = false;
      const book = await upsertAfterLinking(engine, definition, refuseNow, () => {
        isNew = !engine.book.byId.has(id);
        return engine.upsertLimit(definition, expectedVersion(ifMatch));
      });
      if (isNew) reply.header('location', limitPath(id));
      return sendDurably(withVersion(reply, book).code(isNew ? 201 : 200), store, { version: book.version, limit: book.byId.get(id)?.definition });
    },
  );

  app.delete(
    '/v1/limits/:id',
    {
      schema: {
        summary: 'Remove a limit (its active violations resolve)',
        requestHeaders: IF_MATCH_HEADERS,
        tags: ['limits'],
        params,
        querystring,
        body: jsonSchemaOf(EmptyBodySchema),
        response: { 200: jsonSchemaOf(LimitDeletedResponseSchema, 'output') },
        successHeaders: VERSION_HEADERS,
      },
      preValidation: absentBodyIsEmpty,
      config: { role: 'admin', rateLimit },
    },
    (request, reply) => {
      const { id } = request.params as { id: string };
      assertWritable(store);
      const ifMatch = ifMatchOf(request);
      // Checked here, not only by the engine: a weak tag's 412 must not come before the 404.
      if (!engine.book.byId.has(id)) throw new ProblemError('notFound', `no limit ${id}`);
      const book = engine.deleteLimit(id, expectedVersion(ifMatch));
      return sendDurably(withVersion(reply, book), store, { version: book.version, deleted: id });
    },
  );

  app.post(
    '/v1/limits/:id/evaluate',
    {
      schema: {
        summary: 'Feed a value limit (the review\'s check_limit)',
        tags: ['limits'],
        params,
        querystring,
        body: jsonSchemaOf(EvaluateRequestSchema),
        response: { 200: jsonSchemaOf(EvaluateResponseSchema, 'output') },
      },
      config: { role: 'gateway', rateLimit },
    },
    (request, reply) => {
      const { id } = request.params as { id: string };
      const body = request.body as { value: number; scopeId?: string };
      assertWritable(store);
      const evaluation = engine.evaluateValue(id, body.value, body.scopeId);
      if (evaluation.violation !== undefined) telemetry.recordViolation(evaluation.violation);
      return sendDurably(reply, store, evaluation);
    },
  );
}
