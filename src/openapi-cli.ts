import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildApp } from './app.js';
import { loadConfigFile } from './config/load.js';

/** Regenerates openapi.yaml from the route table (a test fails when the committed file is stale). */
const root = new URL('..', import.meta.url);
const config = loadConfigFile(fileURLToPath(new URL('config/default.yaml', root)));
const app = await buildApp({ ...config, storage: { ...config.storage, durability: 'off' } }, { defaultMetrics: false });
await app.server.ready();
writeFileSync(fileURLToPath(new URL('openapi.yaml', root)), app.openApi());
await app.server.close();
