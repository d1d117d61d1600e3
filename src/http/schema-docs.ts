import type { JsonSchema } from './json-schema.js';

/** Response headers a client reads, by name, as openapi.yaml documents them (OpenAPI Header Objects). */
export type ResponseHeaders = Readonly<Record<string, { readonly description: string; readonly required: boolean; readonly schema: JsonSchema }>>;

declare module 'fastify' {
  /** Documentation fields carried into openapi.yaml by the generator. */
  interface FastifySchema {
    summary?: string;
    tags?: string[];
    /** Headers every 2xx answer of the route carries (the ETag of a limit read or write). */
    successHeaders?: ResponseHeaders;
  }
}
