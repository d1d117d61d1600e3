import type { FastifyInstance, RouteOptions } from 'fastify';
import { stringify } from 'yaml';
import { absentBodyIsEmpty } from './body-validation.js';
import { UNAUTHORIZED_HEADERS } from './plugins/auth.js';
import { DEADLINE_HEADERS } from './plugins/deadline.js';
import { RATE_LIMIT_HEADERS, RATE_LIMITED_HEADERS } from './plugins/rate-limit.js';
import type { JsonSchema } from './json-schema.js';
import { PROBLEM_TYPES } from './problems.js';
import type { RequestHeaders, ResponseHeaders } from './schema-docs.js';

interface RecordedRoute {
  method: string;
  url: string;
  schema: Record<string, unknown> | undefined;
  role: string | undefined;
  /** The route takes no body as `{}` (absentBodyIsEmpty). */
  isBodyOptional: boolean;
}

const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

const problemResponse = (description: string, headers?: ResponseHeaders): Record<string, unknown> => ({
  description,
  ...(headers === undefined ? {} : { headers }),
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/** The problems every route with a role may answer, by status; 401 and 429 carry headers a client reads. */
const ROLE_PROBLEMS: Record<string, string> = { 400: 'Problem', 401: 'Unauthorized', 403: 'Problem', 429: 'RateLimited' };

const SUCCESS_DESCRIPTIONS: Record<string, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content' };

/** Records every route as it is added, so the spec is generated from the real route table. */
export function recordRoutes(app: FastifyInstance): RecordedRoute[] {
  const routes: RecordedRoute[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({
        method: method.toLowerCase(),
        url: route.url,
        schema: route.schema as Record<string, unknown> | undefined,
        role: route.config?.role,
        isBodyOptional: [route.preValidation].flat().includes(absentBodyIsEmpty),
      });
    }
  });
  return routes;
}

function parameters(schema: JsonSchema | undefined, where: 'path' | 'query'): unknown[] {
  if (schema === undefined) return [];
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: property }));
}

function headerParameters(headers: RequestHeaders): unknown[] {
  return Object.entries(headers).map(([name, { description, required, schema }]) => ({ name, in: 'header', description, required, schema }));
}

function operation(route: RecordedRoute): Record<string, unknown> {
  const schema = route.schema ?? {};
  const response = (schema.response ?? {}) as Record<string, JsonSchema>;
  // The success statuses the route declares (POST /v1/limits answers 201); 200 when it declares none.
  const declared = Object.keys(response).filter((status) => /^2\d\d$/.test(status));
  // A route that takes a token is rate-limited, and says so in its answers' headers.
  const headers = route.role === undefined ? schema.successHeaders : { ...(schema.successHeaders as ResponseHeaders | undefined), ...RATE_LIMIT_HEADERS };
  const successes = Object.fromEntries(
    (declared.length === 0 ? ['200'] : declared).map((status) => {
      const body = response[status];
      return [
        status,
        {
          description: SUCCESS_DESCRIPTIONS[status] ?? 'Success',
          ...(headers === undefined ? {} : { headers }),
          ...(body === undefined ? {} : { content: { 'application/json': { schema: body } } }),
        },
      ];
    }),
  );
  const errors = route.role === undefined ? {} : Object.fromEntries(Object.entries(ROLE_PROBLEMS).map(([status, name]) => [status, { $ref: `#/components/responses/${name}` }]));
  return {
    summary: schema.summary,
    ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
    tags: schema.tags,
    ...(route.role === undefined ? { security: [] } : { security: [{ bearer: [] }], 'x-required-role': route.role }),
    parameters: [
      ...parameters(schema.params as JsonSchema | undefined, 'path'),
      ...parameters(schema.querystring as JsonSchema | undefined, 'query'),
      // Every route with a role reads the caller's deadline (plugins/deadline.ts).
      ...headerParameters({ ...(route.role === undefined ? {} : DEADLINE_HEADERS), ...(schema.requestHeaders as RequestHeaders | undefined) }),
    ],
    ...(schema.body === undefined ? {} : { requestBody: { required: !route.isBodyOptional, content: { 'application/json': { schema: schema.body } } } }),
    responses: {
      ...successes,
      ...errors,
      default: { $ref: '#/components/responses/Problem' },
    },
  };
}

/** OpenAPI 3.1 from the recorded routes; JSON Schemas come straight from the zod schemas. */
export function openApiDocument(routes: readonly RecordedRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const sorted = [...routes].sort((a, b) => (a.url === b.url ? a.method.localeCompare(b.method) : a.url.localeCompare(b.url)));
  for (const route of sorted) {
    const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
    (paths[path] ??= {})[route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Unified Limit Checker',
      version,
      description:
        'Pre-trade risk checks. Errors are RFC 9457 problem+json; problem types: ' +
        Object.keys(PROBLEM_TYPES).join(', ') +
        '. Send `x-deadline-ms` with checks to bound their latency, and `If-Match` with limit writes to make them conditional (see each ' +
        'operation\'s header parameters). A 404 (DELETE of an unknown limit) or 409 (POST of an existing id) comes before any 412.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Problem: PROBLEM_SCHEMA },
      responses: {
        // A problem answered after the rate limit counted the request (404, 409, 412, 503…) carries its headers too.
        Problem: problemResponse('RFC 9457 problem', RATE_LIMIT_HEADERS),
        Unauthorized: problemResponse('No valid bearer token (RFC 9457 problem)', UNAUTHORIZED_HEADERS),
        RateLimited: problemResponse('Over a rate limit (RFC 9457 problem)', RATE_LIMITED_HEADERS),
      },
    },
    paths,
  };
}

export const openApiYaml = (routes: readonly RecordedRoute[], version: string): string =>
  stringify(openApiDocument(routes, version), { lineWidth: 0, aliasDuplicateObjects: false });
