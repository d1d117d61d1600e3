/**
 * The bare baseline: a Fastify server with the service's two check routes that validate the
 * same JSON Schema (taken from the build output, dist/http/schemas.js, with the service's ajv
 * options) and echo the body through the same serializer path, and nothing else: no auth,
 * deadline, rate limit, metrics or engine. Run as its own process; prints its URL.
 *
 * It imports nothing relative at load time, so Node 24 can run this file as TypeScript
 * (type stripping) as well as compiled.
 */
import { Ajv } from 'ajv';
import Fastify from 'fastify';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type JsonSchemaOf = (schema: unknown, io?: 'input' | 'output') => Record<string, unknown>;

async function main(): Promise<void> {
  const dist = resolve(process.argv[2] ?? 'dist');
  if (!isAbsolute(dist)) throw new Error('dist path must resolve to an absolute path');
  const schemas = (await import(pathToFileURL(`${dist}/http/schemas.js`).href)) as { CheckRequestSchema: unknown; BatchRequestSchema: unknown };
  const { jsonSchemaOf } = (await import(pathToFileURL(`${dist}/http/json-schema.js`).href)) as { jsonSchemaOf: JsonSchemaOf };

  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
  const ajv = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema) as (data: unknown) => boolean);
  const single = jsonSchemaOf(schemas.CheckRequestSchema);
  const batch = jsonSchemaOf(schemas.BatchRequestSchema);
  app.post('/v1/checks', { schema: { body: single, response: { 200: jsonSchemaOf(schemas.CheckRequestSchema, 'output') } } }, (request, reply) =>
    reply.send(request.body),
  );
  app.post('/v1/checks/batch', { schema: { body: batch, response: { 200: jsonSchemaOf(schemas.BatchRequestSchema, 'output') } } }, (request, reply) =>
    reply.send(request.body),
  );
  // What the harness reads to compare CPU and memory; not part of what is measured.
  app.get('/stats', (_request, reply) => {
    const cpu = process.cpuUsage();
    reply.send({ cpuSeconds: (cpu.user + cpu.system) / 1e6, rss: process.memoryUsage.rss() });
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`baseline listening at ${address}\n`);
  const stop = (): void => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
