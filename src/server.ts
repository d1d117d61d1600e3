import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { buildApp } from './app.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import { applyScavengeThreads, describeScavengeThreads } from './gc-threads.js';
import { startTracing } from './telemetry/tracing.js';

/** The embedded default: an example limit book and demo tokens (see the README). */
const DEFAULT_CONFIG = fileURLToPath(new URL('../config/default.yaml', import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { config: { type: 'string' }, 'print-config': { type: 'boolean', default: false } },
  });
  const config = loadConfigFile(values.config ?? DEFAULT_CONFIG, process.env);
  if (values['print-config']) {
    process.stdout.write(stringify(config));
    return;
  }
  const scavengeThreads = applyScavengeThreads();
  const tracing = startTracing(process.env);
  const { server } = await buildApp(config, { tracing });
  server.log.info({ scavengeThreads }, describeScavengeThreads(scavengeThreads));
  server.addHook('onClose', async () => {
    await tracing.shutdown();
  });
  let isClosing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (isClosing) return;
    isClosing = true;
    server.log.info({ signal }, 'shutting down: finishing in-flight requests');
    // A client stuck mid-request must not hold the shutdown forever: after the bound its
    // connection is closed, and the close goes on (last snapshot, trace flush) as usual.
    const drainTimeoutMs = config.server.shutdownTimeoutMs;
    const drainBound = setTimeout(() => {
      server.log.warn({ shutdownTimeoutMs: drainTimeoutMs }, 'shutting down: closing the connections still open');
      server.server.closeAllConnections();
    }, drainTimeoutMs);
    drainBound.unref();
    server.close().then(
      () => {
        clearTimeout(drainBound);
        process.exit(0);
      },
      (error: unknown) => {
        server.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  await server.listen({ host: config.server.host, port: config.server.port });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
