/**
 * The held feed under random interleavings of writes (small, and over FEED_BYTES), timer
 * hand-overs and snapshot requests reach the worker complete and in order ahead of every
 * request, and the backlog (held + handed over) returns to 0 once the worker has acked it all.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { FEED_BYTES, FEED_MS, SnapshotReplica } from '../../src/store/snapshot-replica.js';
import { testConfig } from '../support/engine-fixtures.js';

const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
function echoWorker(): URL {
  const dir = mkdtempSync(join(tmpdir(), 'ulc-feed-rv-'));
  const script = join(dir, 'echo-worker.mjs');
  writeFileSync(script, [
    "import { parentPort } from 'node:worker_threads';",
    'let h = 0, len = 0, count = 0;',
    "parentPort.on('message', (m) => {",
    "  if (m.type === 'records') { count++; const b = new Uint8Array(m.bytes); for (let i = 0; i < b.length; i++) h = (Math.imul(h, 31) + b[i]) | 0; len += b.length; parentPort.postMessage({ type: 'applied', bytes: m.bytes.byteLength }); }",
    "  else parentPort.postMessage({ type: 'snapshot', id: m.id, seq: m.minSeq, name: JSON.stringify({ h, len, count }) });",
    '});',
  ].join('\n'));
  return pathToFileURL(script);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the snapshot worker feed, under random interleavings', () => {
  it('delivers everything in order ahead of each snapshot, and the backlog returns to 0', async () => {
    let seed = 7;
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x80000000; };
    const r = SnapshotReplica.start({ dataDir: '.', engineConfig: testConfig(), limits: [] }, log, { maxBacklogBytes: 1 << 30 }, echoWorker())!;
    let h = 0, len = 0;
    const add = (s: string) => { for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0; len += s.length; };
    let n = 0;
    const pendings: Promise<void>[] = [];
    for (let step = 0; step < 3000; step++) {
      const x = rnd();
      if (x < 0.8) {
        const len = rnd() < 0.002 ? FEED_BYTES + Math.floor(rnd() * 1000) : 1 + Math.floor(rnd() * 300);
        const tag = `<${n++}>`;
        const s = (tag + 'x'.repeat(Math.max(0, len - tag.length))).slice(0, Math.max(len, tag.length));
        r.feed(Buffer.from(s, 'latin1'));
        add(s);
      } else if (x < 0.9) {
        const expected = { h, len };
        pendings.push(r.snapshot(0).then((s) => { const got = JSON.parse(s.name) as { h: number; len: number }; expect({ h: got.h, len: got.len }).toEqual(expected); }));
      } else if (x < 0.97) await sleep(0);
      else await sleep(rnd() < 0.5 ? FEED_MS / 2 : FEED_MS + 5);
    }
    await Promise.all(pendings);
    await sleep(FEED_MS + 50);
    expect((r as unknown as { backlogBytes: number }).backlogBytes).toBe(0);
    const last = JSON.parse((await r.snapshot(0)).name) as { h: number; len: number; count: number };
    expect({ h: last.h, len: last.len }).toEqual({ h, len });
    expect(last.count).toBeGreaterThan(1);
    await r.close();
    await sleep(FEED_MS + 20);
  }, 60_000);

  it('a timer pending at close or break does nothing afterwards', async () => {
    const r = SnapshotReplica.start({ dataDir: '.', engineConfig: testConfig(), limits: [] }, log, { maxBacklogBytes: 1000 }, echoWorker())!;
    r.feed(Buffer.from('abc'));
    const posts = vi.spyOn((r as unknown as { worker: { postMessage: (m: unknown) => void } }).worker, 'postMessage');
    await r.close();
    await sleep(FEED_MS + 30);
    expect(posts).not.toHaveBeenCalled();
    const r2 = SnapshotReplica.start({ dataDir: '.', engineConfig: testConfig(), limits: [] }, log, { maxBacklogBytes: 1000 }, echoWorker())!;
    // 100 bytes are held with the hand-over timer pending when the next write breaks the replica.
    r2.feed(Buffer.alloc(100));
    const posts2 = vi.spyOn((r2 as unknown as { worker: { postMessage: (m: unknown) => void } }).worker, 'postMessage');
    r2.feed(Buffer.alloc(950));
    expect(r2.isHealthy).toBe(false);
    await sleep(FEED_MS + 30);
    expect(posts2).not.toHaveBeenCalled();
    await expect(r2.snapshot(0)).rejects.toThrow(/fell behind/);
    await r2.stopped();
  });
});
