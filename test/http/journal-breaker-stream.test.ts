import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ActiveViolation, ViolationEvent } from '../../src/domain/violation-book.js';
import { bearer, testApp } from '../support/app-fixtures.js';
import { fillDisk } from '../support/disk-faults.js';
import { anOrder, call, check } from './http-helpers.js';
import type { TestApp } from './http-helpers.js';

/** An app journalling with fsync durability, whose breaker retries every 100 ms, listening on a free port. */
async function listeningFsyncApp(): Promise<{ app: TestApp; base: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ulc-breaker-stream-'));
  const app = await testApp({ storage: { durability: 'fsync', dataDir, snapshotsIn: 'main', recoveryIntervalMs: 100 } });
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { app, base: `http://127.0.0.1:${address.port}` };
}

/** A violation stream's events as they arrive, read in the background. */
function eventsOf(body: ReadableStream<Uint8Array>): { type: string; data: unknown }[] {
  const events: { type: string; data: unknown }[] = [];
  const decoder = new TextDecoder();
  let text = '';
  const read = async (): Promise<void> => {
    for await (const chunk of body) {
      text += decoder.decode(chunk, { stream: true });
      for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
        const match = /^event: (\w+)\ndata: (.*)$/.exec(text.slice(0, end));
        if (match !== null) events.push({ type: match[1]!, data: JSON.parse(match[2]!) });
        text = text.slice(end + 2);
      }
    }
  };
  // Ends when the test aborts the request; the events read so far are what it checks.
  read().catch(() => undefined);
  return events;
}

const apps: TestApp[] = [];
const aborts: AbortController[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const abort of aborts.splice(0)) abort.abort();
  for (const app of apps.splice(0)) await app.server.close();
});

describe('fsync: the violation stream across a journal recovery', () => {
  it('announces again a violation whose resolution the recovery rolled back, as GET /v1/violations/active shows it', async () => {
    const { app, base } = await listeningFsyncApp();
    apps.push(app);
    const abort = new AbortController();
    aborts.push(abort);
    const response = await fetch(`${base}/v1/violations/stream`, { headers: bearer('ops'), signal: abort.signal });
    const events = eventsOf(response.body!);
    // Over max-qty's warning threshold: accepted, with a violation.
    expect((await check(app.server, anOrder({ orderId: 'breach', quantity: 600 }))).json()).toMatchObject({ decision: 'ACCEPT' });
    const freeDisk = await fillDisk();
    // A clean check resolves it; its write fails, so it is answered 503 and rolled back.
    expect((await check(app.server, anOrder({ orderId: 'clean', quantity: 1 }))).statusCode).toBe(503);
    freeDisk();
    await vi.waitFor(() => expect(app.store?.breakerState).toBe('closed'), { timeout: 5_000, interval: 10 });
    await vi.waitFor(() => expect(events.map((e) => e.type)).toEqual(['violation', 'resolved', 'violation']), { timeout: 2_000, interval: 5 });
    const [breach, , again] = events.map((e) => e.data as ViolationEvent);
    const active = (await call(app.server, 'GET', '/v1/violations/active', 'ops')).json<{ items: ActiveViolation[] }>().items;
    expect({ again, active: active.map((v) => v.violationId) }).toEqual({
      again: { ...breach, seq: breach!.seq + 1, orderId: undefined },
      active: [breach!.violationId],
    });
  });
});
