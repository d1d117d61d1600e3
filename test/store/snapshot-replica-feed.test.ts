/**
 * Journal writes reach the snapshot worker in batches, not one message per 5 ms flush: held
 * for up to FEED_MS or FEED_BYTES, in order, and always ahead of a snapshot request.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FEED_BYTES, FEED_MS, SnapshotReplica } from '../../src/store/snapshot-replica.js';
import type { StoreLog } from '../../src/store/recovery.js';
import { testConfig } from '../support/engine-fixtures.js';

const log: StoreLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A stand-in worker that answers a snapshot request with what it has received: messages and text. */
function echoWorker(): URL {
  const dir = mkdtempSync(join(tmpdir(), 'ulc-feed-'));
  const script = join(dir, 'echo-worker.mjs');
  writeFileSync(
    script,
    [
      "import { parentPort } from 'node:worker_threads';",
      'const messages = [];',
      "parentPort.on('message', (m) => {",
      "  if (m.type === 'records') { messages.push(Buffer.from(m.bytes).toString('latin1')); parentPort.postMessage({ type: 'applied', bytes: m.bytes.byteLength }); }",
      "  else parentPort.postMessage({ type: 'snapshot', id: m.id, seq: m.minSeq, name: JSON.stringify(messages) });",
      '});',
    ].join('\n'),
  );
  return pathToFileURL(script);
}

let replica: SnapshotReplica | undefined;
const start = (maxBacklogBytes = 64 * 1024 * 1024) => {
  replica = SnapshotReplica.start({ dataDir: '.', engineConfig: testConfig(), limits: [] }, log, { maxBacklogBytes }, echoWorker());
  return replica!;
};
const received = async (r: SnapshotReplica) => JSON.parse((await r.snapshot(0)).name) as string[];
afterEach(async () => {
  await replica?.close();
});

describe('the snapshot worker feed', () => {
  it('hands writes over together, in order, ahead of a snapshot request', async () => {
    const r = start();
    for (let i = 0; i < 50; i++) r.feed(Buffer.from(`w${i};`, 'latin1'));
    const messages = await received(r);
    expect(messages).toEqual([Array.from({ length: 50 }, (_, i) => `w${i};`).join('')]);
  });

  it('hands what it holds over within FEED_MS, without a snapshot request', async () => {
    const r = start();
    r.feed(Buffer.from('a;', 'latin1'));
    r.feed(Buffer.from('b;', 'latin1'));
    await new Promise((resolve) => setTimeout(resolve, FEED_MS + 50));
    r.feed(Buffer.from('c;', 'latin1'));
    expect(await received(r)).toEqual(['a;b;', 'c;']);
  });

  it('hands over at once when FEED_BYTES have gathered', async () => {
    const r = start();
    const part = Buffer.alloc(FEED_BYTES / 4, 'x');
    for (let i = 0; i < 5; i++) r.feed(part);
    const lengths = (await received(r)).map((m) => m.length);
    expect(lengths).toEqual([FEED_BYTES, FEED_BYTES / 4]);
  });

  it('hands over at a quarter of a backlog bound smaller than FEED_BYTES, so holding alone never breaks it', async () => {
    const r = start(1_000);
    r.feed(Buffer.alloc(300, 'a'));
    r.feed(Buffer.alloc(100, 'b'));
    expect((await received(r)).map((m) => m.length)).toEqual([300, 100]);
    expect(r.isHealthy).toBe(true);
  });

  it('counts what it holds against the backlog bound', async () => {
    const r = start(1_000);
    r.feed(Buffer.alloc(600, 'x'));
    expect(r.isHealthy).toBe(true);
    r.feed(Buffer.alloc(600, 'x'));
    expect(r.isHealthy).toBe(false);
    await expect(r.snapshot(0)).rejects.toThrow(/fell behind/);
  });

  it('counts what it holds together with what the worker has not yet applied', () => {
    const r = start(1_000);
    // 900 bytes go over at once (past a quarter of the bound); 200 more are held, not yet sent.
    r.feed(Buffer.alloc(900, 'x'));
    expect(r.isHealthy).toBe(true);
    r.feed(Buffer.alloc(200, 'x'));
    expect(r.isHealthy).toBe(false);
  });
  it('lets the replica go, rather than throw into the journal, when a write cannot be taken', async () => {
    const r = start();
    vi.spyOn(r as unknown as { hold: (bytes: Buffer) => void }, 'hold').mockImplementation(() => {
      throw new RangeError('out of memory');
    });
    expect(() => r.feed(Buffer.from('a;'))).not.toThrow();
    expect(r.isHealthy).toBe(false);
    await expect(r.snapshot(0)).rejects.toThrow('out of memory');
  });
});
