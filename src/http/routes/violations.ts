import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Severity } from '../../domain/enums.js';
import type { Page, ViolationFilter } from '../../domain/violation-book.js';
import { ProblemError } from '../problems.js';
import { jsonSchemaOf } from '../json-schema.js';
import { perToken } from '../plugins/rate-limit.js';
import { ActiveViolationPageSchema, DEFAULT_PAGE_SIZE, NoQuerySchema, ViolationPageSchema, ViolationQuerySchema } from '../schemas.js';
import { NoticeEncoder, ViolationStream } from '../violation-stream.js';
import type { RouteDeps } from './deps.js';

/** A slow stream client may buffer this much before it is dropped: memory stays bounded. */
const MAX_STREAM_BUFFER_BYTES = 1024 * 1024;
const HEARTBEAT_MS = 15_000;

function timeOf(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new ProblemError('validation', `${field} must be ISO-8601 or epoch milliseconds`, [{ field: `querystring.${field}`, message: 'is not a time' }]);
  return ms;
}

interface ViolationQuery {
  limitId?: string;
  severity?: Severity;
  since?: string;
  until?: string;
  cursor?: string;
  pageSize?: number;
}

/** A validated query of either read (ViolationQuerySchema), as the violation book takes it. */
function pageQueryOf(q: ViolationQuery): ViolationFilter & { cursor: number | undefined; pageSize: number } {
  return {
    limitId: q.limitId,
    severity: q.severity,
    since: timeOf(q.since, 'since'),
    until: timeOf(q.until, 'until'),
    cursor: q.cursor === undefined ? undefined : Number(q.cursor),
    pageSize: q.pageSize ?? DEFAULT_PAGE_SIZE,
  };
}

const pageBody = <T>(page: Page<T>): { items: T[]; nextCursor: string | null } => ({
  items: page.items,
  nextCursor: page.nextCursor === undefined ? null : String(page.nextCursor),
});

export function violationRoutes(app: FastifyInstance, { engine, config, clock }: RouteDeps): void {
  const rateLimit = perToken(config.rateLimit);
  const streams = new Set<ServerResponse>();
  const encoder = new NoticeEncoder();
  const querystring = jsonSchemaOf(ViolationQuerySchema);

  app.get(
    '/v1/violations/active',
    {
      schema: {
        summary: 'Active violations, most recently updated first, in cursor pages; since and until bound the latest breach',
        tags: ['violations'],
        querystring,
        response: { 200: jsonSchemaOf(ActiveViolationPageSchema, 'output') },
      },
      config: { role: 'ops', rateLimit },
    },
    (request, reply) => reply.send(pageBody(engine.violations.activePage(pageQueryOf(request.query as ViolationQuery)))),
  );

  app.get(
    '/v1/violations',
    {
      schema: { summary: 'Violation history, newest first, in cursor pages', tags: ['violations'], querystring, response: { 200: jsonSchemaOf(ViolationPageSchema, 'output') } },
      config: { role: 'ops', rateLimit },
    },
    (request, reply) => reply.send(pageBody(engine.violations.query(pageQueryOf(request.query as ViolationQuery), clock.now()))),
  );

  app.get(
    '/v1/violations/stream',
    {
      schema: { summary: 'Live violations and resolutions as Server-Sent Events', tags: ['violations'], querystring: jsonSchemaOf(NoQuerySchema) },
      config: { role: 'ops', rateLimit },
      // A HEAD would subscribe and hold a stream that never sends a body.
      exposeHeadRoute: false,
    },
    (_request, reply) => {
      const raw = reply.raw;
      // A client may leave while an asynchronous hook runs; its 'close' has fired by now and
      // would never fire again, so a subscription made here would stay for good (and count
      // against maxSubscribers until every new stream got a 503).
      if (raw.destroyed) {
        reply.hijack();
        return;
      }
      const unsubscribe = engine.violations.subscribe(new ViolationStream(raw, encoder, MAX_STREAM_BUFFER_BYTES).send);
      reply.hijack();
      // With what the hooks set on the reply (the rate limit's headers): hijacked, it sends none itself.
      for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) raw.setHeader(name, value);
      raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      raw.write(': connected\n\n');
      streams.add(raw);
      const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      // Each step is idempotent (a Set delete, clearInterval), so a second 'close' is harmless.
      raw.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
        streams.delete(raw);
      });
    },
  );

  // preClose, not onClose: the server waits for open connections before onClose hooks run,
  // so streams still open then would hold close() forever.
  app.addHook('preClose', (done) => {
    for (const stream of streams) stream.end();
    done();
  });
}
