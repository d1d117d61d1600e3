import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildApp } from '../../src/app.js';
import type { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { AppConfigInput } from '../../src/config/schema.js';
import { FakeClock } from './fake-clock.js';

export const TOKENS = { gateway: 'test-gateway-token', ops: 'test-ops-token', admin: 'test-admin-token' } as const;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export const bearer = (role: keyof typeof TOKENS) => ({ authorization: `Bearer ${TOKENS[role]}` });

/** A config like production's, with test tokens for each role and the given limits. */
export function testAppConfig(overrides: Partial<AppConfigInput> = {}) {
  return parseConfig({
    schemaVersion: 1,
    auth: {
      enabled: true,
      tokens: [
        { name: 'gw', sha256: sha256(TOKENS.gateway), roles: ['gateway'] },
        { name: 'ops', sha256: sha256(TOKENS.ops), roles: ['ops'] },
        { name: 'admin', sha256: sha256(TOKENS.admin), roles: ['admin'] },
      ],
    },
    server: { logLevel: 'info', defaultDeadlineMs: 1_000, maxBatchSize: 100 },
    storage: { durability: 'off' },
    limits: [
      { id: 'max-qty', kind: 'order_quantity', thresholds: { warn: 500, hard: 1000 } },
      { id: 'pos', kind: 'position', thresholds: { hard: 5000, critical: 20000 } },
    ],
    ...overrides,
  });
}

/** Captures log lines so tests can read them (and prove secrets never reach them). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
    callback();
  }
}

export async function testApp(overrides: Partial<AppConfigInput> = {}, clock = new FakeClock()): Promise<App & { clock: FakeClock; logs: LogCapture }> {
  const logs = new LogCapture();
  const app = await buildApp(testAppConfig(overrides), { clock, logStream: logs, defaultMetrics: false });
  await app.server.ready();
  return { ...app, clock, logs };
}

/** A test app whose state goes to a journal in a fresh temporary directory (snapshots on the main thread). */
export function journalledTestApp(overrides: Partial<AppConfigInput> = {}, clock = new FakeClock()) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ulc-journal-'));
  return testApp({ storage: { durability: 'async', dataDir, snapshotsIn: 'main' }, ...overrides }, clock);
}

/**
 * Makes the app's journal report itself failed, as it does after a write error or a full disk,
 * until the returned function is called (call it before closing the app, so the last snapshot is taken).
 */
export function failJournal(app: App): () => void {
  const store = app.store;
  if (store === undefined) throw new Error('the app has no journal (storage.durability: off)');
  Object.defineProperty(store, 'isHealthy', { configurable: true, get: () => false });
  return () => {
    delete (store as { isHealthy?: boolean }).isHealthy;
  };
}
