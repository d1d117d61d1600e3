import { readdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_TOKENS, GATEWAY, startServer } from './server-process.js';

describe('SIGTERM on the real server process', () => {
  it('exits 0 within server.shutdownTimeoutMs when a client is stuck mid-body, after the last snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-shutdown-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify({
      schemaVersion: 1,
      auth: { enabled: true, tokens: DEMO_TOKENS },
      server: { shutdownTimeoutMs: 500 },
      storage: { durability: 'fsync', dataDir: join(dir, 'data'), snapshotIntervalMs: 600_000 },
    }));
    const server = await startServer(path);
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    socket.on('error', () => undefined);
    try {
      await new Promise((resolve) => socket.once('connect', resolve));
      // The headers and the start of a 200-byte body, then nothing more.
      socket.write(`POST /v1/checks HTTP/1.1\r\nHost: test\r\nAuthorization: ${GATEWAY}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"orderId":`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const exited = server.stop('SIGTERM');
      const outcome = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 10_000))]);
      expect(outcome).toBe(0);
      expect(server.output.join('')).toMatch(/closing the connections still open/);
      // The close went on after the connection was dropped: the last snapshot is on disk.
      expect(readdirSync(join(dir, 'data')).some((f) => f.startsWith('snapshot-'))).toBe(true);
    } finally {
      socket.destroy();
      if (server.process.exitCode === null) server.process.kill('SIGKILL');
    }
  }, 30_000);
});
