declare module 'fastify' {
  /** Documentation fields carried into openapi.yaml by the generator. */
  interface FastifySchema {
    summary?: string;
    tags?: string[];
  }
}

export {};
