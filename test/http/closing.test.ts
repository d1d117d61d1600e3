import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { TOKENS, testApp } from '../support/app-fixtures.js';
import { anOrder } from './http-helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything the server writes on `socket` until it has written `count` responses. */
function responses(socket: Socket, count: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if ((text.match(/HTTP\/1\.1 \d{3}/g) ?? []).length >= count && /\r\n\r\n[^]*\}\s*$/.test(text)) resolve(text);
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

const request = (body: string) =>
  `POST /v1/checks HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\nAuthorization: Bearer ${TOKENS.gateway}\r\n` +
  `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;

/** Sends raw bytes to a listening test app and reads its first response: head, parsed body, and how long it took. */
async function exchange(app: Awaited<ReturnType<typeof testApp>>, bytes: string) {
  const { port } = new URL(await app.server.listen({ host: '127.0.0.1', port: 0 }));
  const socket = connect(Number(port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const started = performance.now();
  const answered = responses(socket, 1);
  socket.write(bytes);
  const text = await answered;
  socket.destroy();
  const at = text.indexOf('\r\n\r\n');
  return { head: text.slice(0, at), body: JSON.parse(text.slice(at + 4)) as unknown, waitedMs: performance.now() - started };
}

describe('requests the HTTP parser refuses', () => {
  it('answers headers over the size limit with a 431 problem and closes the connection', async () => {
    const app = await testApp();
    try {
      const { head, body } = await exchange(app, `GET /healthz HTTP/1.1\r\nHost: test\r\nX-Filler: ${'x'.repeat(20_000)}\r\n\r\n`);
      expect(head).toMatch(/^HTTP\/1\.1 431/);
      expect(body).toMatchObject({ status: 431, type: '/problems/headers-too-large' });
    } finally {
      await app.server.close();
    }
  });

  it('answers bytes that are not HTTP with a 400 problem', async () => {
    const app = await testApp();
    try {
      const { head, body } = await exchange(app, 'HELLO THERE\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 400/);
      expect(head).toMatch(/content-type: application\/problem\+json/i);
      expect(body).toMatchObject({ status: 400, type: '/problems/malformed-http' });
    } finally {
      await app.server.close();
    }
  });

  it('answers 408 and closes the connection of a request whose body has not all arrived after server.requestTimeoutMs', { timeout: 10_000 }, async () => {
    const app = await testApp({ server: { requestTimeoutMs: 300 } });
    try {
      const order = JSON.stringify(anOrder({ orderId: 'stalled' }));
      const { head, body, waitedMs } = await exchange(app, request(order) + order.slice(0, 10));
      expect(head).toMatch(/^HTTP\/1\.1 408/);
      expect(head).toMatch(/content-type: application\/problem\+json/i);
      expect(body).toMatchObject({ status: 408, type: '/problems/request-timeout' });
      // Within the timeout plus one connection check (every second at most), not Node's default 30 s.
      expect(waitedMs).toBeGreaterThanOrEqual(300);
      expect(waitedMs).toBeLessThan(5_000);
      expect(app.engine.ledger.openOrderCount).toBe(0);
    } finally {
      await app.server.close();
    }
  });
});

describe('a parser error on a connection whose response is under way', () => {
  it('writes no problem into a response already under way (an event stream): it closes the connection', { timeout: 10_000 }, async () => {
    const app = await testApp();
    try {
      const { port } = new URL(await app.server.listen({ host: '127.0.0.1', port: 0 }));
      const socket = connect(Number(port), '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('error', () => {});
      const closed = new Promise((resolve) => socket.on('close', resolve));
      socket.write(`GET /v1/violations/stream HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${TOKENS.ops}\r\n\r\n`);
      await vi.waitFor(() => expect(text).toMatch(/^HTTP\/1\.1 200[^]*: connected/), { timeout: 5_000, interval: 10 });
      // Bytes that are not HTTP on the same connection: the parser fails while the stream's response is open.
      socket.write('HELLO THERE\r\n\r\n');
      expect(await Promise.race([closed.then(() => 'closed'), sleep(5_000).then(() => 'still open')])).toBe('closed');
      expect(text.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 200']);
    } finally {
      await app.server.close();
    }
  });
});

describe('while the service shuts down', () => {
  it('answers a request that still arrives on an open connection with a 503 problem, and closes it', async () => {
    const app = await testApp();
    const address = await app.server.listen({ host: '127.0.0.1', port: 0 });
    const { port } = new URL(address);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const answered = responses(socket, 2);
    // A: its headers arrive (it is routed) before shutdown starts, its body after.
    const first = JSON.stringify(anOrder({ orderId: 'before-close' }));
    const routed = new Promise((resolve) => app.server.server.once('request', resolve));
    socket.write(request(first));
    await routed;
    const closing = app.server.close();
    // A's body, and B right behind it on the same connection, after shutdown has started.
    const second = JSON.stringify(anOrder({ orderId: 'during-close' }));
    socket.write(first + request(second) + second);
    const text = await answered;
    socket.destroy();
    await closing;

    const [a, b] = text.split(/(?=HTTP\/1\.1 )/);
    expect(a).toMatch(/^HTTP\/1\.1 200/);
    expect(b).toMatch(/^HTTP\/1\.1 503/);
    expect(b).toMatch(/content-type: application\/problem\+json/i);
    expect(b).toMatch(/connection: close/i);
    expect(JSON.parse(b!.slice(b!.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 503, type: '/problems/unavailable', detail: 'the service is shutting down' });
    // B was turned away before the engine saw it.
    expect(app.engine.ledger.openOrderCount).toBe(1);
  });
});
