import type { JsonSchema } from './json-schema.js';

/** Response headers a client reads, by name, as openapi.yaml documents them (OpenAPI Header Objects). */
export type ResponseHeaders = Readonly<Record<string, { readonly description: string; readonly required: boolean; readonly schema: JsonSchema }>>;

/**
 * Request headers a route reads, by name, as openapi.yaml documents them (header parameters).
 * Documentation only: the plugin or route that reads one checks it and names it in its 400.
 */
export type RequestHeaders = ResponseHeaders;

declare module 'fastify' {
  /** Documentation fields carried into openapi.yaml by the generator. */
  interface FastifySchema {
    summary?: string;
    tags?: string[];
    /** Headers every 2xx answer of the route carries (the ETag of a limit read or write). */
    successHeaders?: ResponseHeaders;
    /** Headers the route reads beyond those every route with a role reads (If-Match on limit writes). */
    requestHeaders?: RequestHeaders;
  }
}
