import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../../src/app.js';
import type { App } from '../../src/app.js';
import { loadConfigFile } from '../../src/config/load.js';

/** Repository paths, whatever directory vitest was started from. */
export const repoPath = (relative: string): string => fileURLToPath(new URL(`../../${relative}`, import.meta.url));

/** A generous deadline: a cold first check must not be rejected with DEADLINE_EXCEEDED. */
const GATEWAY = { authorization: 'Bearer demo-gateway-token', 'x-deadline-ms': '1000' } as const;

/**
 * The service as `npm start` runs it (config/default.yaml, default metrics on), after a few
 * checks — accepted, warned, rejected, and a batch — so that labelled series exist.
 */
export async function exercisedApp(): Promise<App> {
  const config = loadConfigFile(repoPath('config/default.yaml'));
  const quiet = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  // The default durability, journalling to a fresh directory, so the journal's series exist too.
  const dataDir = mkdtempSync(join(tmpdir(), 'ulc-ops-'));
  const app = await buildApp({ ...config, storage: { ...config.storage, dataDir, snapshotsIn: 'main' } }, { defaultMetrics: true, logStream: quiet });
  await app.server.ready();
  const send = async (method: 'POST' | 'PUT', url: string, payload: object): Promise<void> => {
    const response = await app.server.inject({ method, url, headers: GATEWAY, payload });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
  };
  const order = { accountId: 'ACC-A', strategyId: 'MM-1', symbol: 'AAPL', side: 'BUY', price: 190 };
  await send('PUT', '/v1/market-data', { prices: [{ symbol: 'AAPL', price: 190 }] });
  await send('POST', '/v1/checks', { ...order, orderId: 'ops-accept', quantity: 100 });
  await send('POST', '/v1/checks', { ...order, orderId: 'ops-warn', quantity: 4_000 });
  await send('POST', '/v1/checks', { ...order, orderId: 'ops-reject', quantity: 20_000 });
  await send('POST', '/v1/checks/batch', { atomic: false, orders: [{ ...order, orderId: 'ops-batch-1', quantity: 10 }] });
  await send('POST', '/v1/executions', {
    events: [
      { type: 'FILL', accountId: 'ACC-A', orderId: 'ops-accept', quantity: 100, price: 190 },
      { type: 'FILL', accountId: 'ACC-A', orderId: 'ops-never-checked', quantity: 1, price: 190 },
    ],
  });
  return app;
}

export interface ExportedMetric {
  readonly type: string;
  /** Label names seen on its series (`le` included for histogram buckets). */
  readonly labels: ReadonlySet<string>;
  /** Values seen per label name. */
  readonly values: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The shape of `registry.getMetricsAsJSON()` entries that these tests read. */
interface MetricFamily {
  name: string;
  type: string;
  values: { labels: Record<string, string | number> }[];
}

/** Every series name the registry exposes: histograms as `_bucket`, `_sum` and `_count`. */
export async function exportedSeries(app: App): Promise<Map<string, ExportedMetric>> {
  const series = new Map<string, ExportedMetric>();
  const families = (await app.telemetry.registry.getMetricsAsJSON()) as unknown as MetricFamily[];
  for (const family of families) {
    const labels = new Set<string>();
    const values = new Map<string, Set<string>>();
    for (const sample of family.values) {
      for (const [name, value] of Object.entries(sample.labels)) {
        labels.add(name);
        const seen = values.get(name) ?? new Set<string>();
        seen.add(String(value));
        values.set(name, seen);
      }
    }
    const type = family.type;
    const entry = { type, labels, values };
    if (type === 'histogram') {
      series.set(`${family.name}_bucket`, { ...entry, labels: new Set([...labels, 'le']) });
      labels.delete('le');
      series.set(`${family.name}_sum`, entry);
      series.set(`${family.name}_count`, entry);
    } else if (type === 'summary') {
      series.set(family.name, { ...entry, labels: new Set([...labels, 'quantile']) });
      labels.delete('quantile');
      series.set(`${family.name}_sum`, entry);
      series.set(`${family.name}_count`, entry);
    } else {
      series.set(family.name, entry);
    }
  }
  return series;
}
