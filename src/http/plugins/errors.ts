import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { CapacityError } from '../../domain/exposure-ledger.js';
import { LimitBookError } from '../../domain/limit-book.js';
import { PositionsReplacingError, UnknownLimitError, VersionConflictError } from '../../domain/engine.js';
import { FILL_ONLY } from '../../domain/orders.js';
import { SubscriberLimitError } from '../../domain/violation-book.js';
import { ProblemError, problemBody } from '../problems.js';
import type { FieldProblem, ProblemKind } from '../problems.js';

interface AjvIssue {
  instancePath: string;
  keyword?: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/orders/0/quantity` plus ajv's params → `orders.0.quantity`, the field a client fixes. */
function fieldOf(issue: AjvIssue): string {
  const parts = issue.instancePath.split('/').filter((p) => p !== '');
  const extra = issue.params.additionalProperty ?? issue.params.missingProperty;
  if (typeof extra === 'string') parts.push(extra);
  return parts.join('.');
}

/**
 * A field a schema allows only with others (`properties: { quantity: false }` under an if/else)
 * gets ajv's "boolean schema is false". The only such rule is an execution's quantity and price,
 * which belong to a FILL (an openapi test holds the API to it): worded as the zod refines word it.
 */
function validationProblems(error: FastifyError): FieldProblem[] {
  const context = error.validationContext ?? 'body';
  return ((error.validation ?? []) as AjvIssue[]).map((issue) => {
    const field = fieldOf(issue);
    const message =
      typeof issue.params.additionalProperty === 'string' ? 'is not a known field' : issue.keyword === 'false schema' ? FILL_ONLY : (issue.message ?? 'is not valid');
    return { field: field === '' ? context : `${context === 'body' ? '' : context + '.'}${field}`, message };
  });
}

function classify(error: FastifyError | Error): { kind: ProblemKind; detail: string; errors?: FieldProblem[] } {
  if (error instanceof ProblemError) return { kind: error.kind, detail: error.message, ...(error.errors ? { errors: error.errors } : {}) };
  if (error instanceof VersionConflictError) return { kind: 'preconditionFailed', detail: error.message };
  if (error instanceof UnknownLimitError) return { kind: 'notFound', detail: error.message };
  if (error instanceof LimitBookError) {
    // Book errors lead with the limit's index in the book; evaluateValue's name the field alone.
    const field = (typeof error.path[0] === 'number' ? error.path.slice(1) : error.path).map(String).join('.');
    return { kind: 'validation', detail: error.message, errors: [{ field: field === '' ? 'body' : field, message: error.message }] };
  }
  if (error instanceof CapacityError) return { kind: 'capacity', detail: error.message };
  if (error instanceof SubscriberLimitError) return { kind: 'unavailable', detail: error.message };
  if (error instanceof PositionsReplacingError) return { kind: 'unavailable', detail: error.message };
  const fastifyError = error as FastifyError;
  if (fastifyError.validation !== undefined) {
    const errors = validationProblems(fastifyError);
    const first = errors[0];
    return { kind: 'validation', detail: first === undefined ? error.message : `${first.field} ${first.message}`, errors };
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { kind: 'payloadTooLarge', detail: error.message };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { kind: 'unsupportedMediaType', detail: error.message };
    // A body shorter or longer than its content-length is a broken body, not a wrong media type.
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { kind: 'malformedJson', detail: error.message };
    default:
      break;
  }
  if (fastifyError.statusCode === 429) return { kind: 'rateLimited', detail: error.message };
  if (error instanceof SyntaxError || fastifyError.statusCode === 400) return { kind: 'malformedJson', detail: error.message };
  if (fastifyError.statusCode === 413) return { kind: 'payloadTooLarge', detail: error.message };
  if (fastifyError.statusCode === 415) return { kind: 'unsupportedMediaType', detail: error.message };
  return { kind: 'internal', detail: 'internal error' };
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, kind: ProblemKind, detail: string, errors?: FieldProblem[]): FastifyReply {
  const body = problemBody(kind, detail, request.url, errors);
  return reply.code(body.status).type('application/problem+json').send(body);
}

/**
 * Fastify's `frameworkErrors`: a URL that does not decode, or a path parameter over the
 * router's length limit, is answered before any route or error handler runs; this keeps
 * those answers problem+json too (400, as for any other malformed request).
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_ASYNC_CONSTRAINT') {
    request.log.error({ err: error }, 'route constraint failed');
    sendProblem(reply, request, 'internal', 'internal error');
    return;
  }
  request.log.debug({ code: error.code }, 'request refused by the router');
  sendProblem(reply, request, 'validation', error.message, [{ field: 'url', message: 'is not a valid path' }]);
}

/** Every error leaves as RFC 9457 problem+json; only real faults are 5xx and logged as errors. */
export const errorsPlugin = fp(
  (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const { kind, detail, errors } = classify(error);
      if (kind === 'internal') request.log.error({ err: error }, 'request failed');
      else request.log.debug({ kind, detail }, 'request refused');
      return sendProblem(reply, request, kind, detail, errors);
    });
    app.setNotFoundHandler((request, reply) => {
      // A wrong method on a real resource is a 405 that says what is allowed (RFC 9110 §15.5.6),
      // not a 404 that says the resource is not there: the router is asked per method.
      const path = request.url.split('?', 1)[0]!;
      const allowed = app.supportedMethods.filter((method) => app.findRoute({ method, url: path }) !== null).sort();
      if (allowed.length === 0) return sendProblem(reply, request, 'notFound', `no route ${request.method} ${request.url}`);
      reply.header('allow', allowed.join(', '));
      return sendProblem(reply, request, 'methodNotAllowed', `${path} does not take ${request.method}; it takes ${allowed.join(', ')}`);
    });
    // While shutting down, a request that still arrives on an open keep-alive connection gets a
    // 503 problem (Fastify's own return503OnClosing answer is plain JSON), before any other
    // hook runs; Fastify marks the answer `Connection: close`, so the gateway reconnects elsewhere.
    let isClosing = false;
    app.addHook('preClose', (done) => {
      isClosing = true;
      done();
    });
    app.addHook('onRequest', (request, reply, done) => {
      if (!isClosing) {
        done();
        return;
      }
      sendProblem(reply, request, 'unavailable', 'the service is shutting down');
    });
  },
  { name: 'errors' },
);
