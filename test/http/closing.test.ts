import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { TOKENS, testApp } from '../support/app-fixtures.js';
import { anOrder } from './http-helpers.js';

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

  it('gives a request server.requestTimeoutMs to arrive, so a slow body cannot hold its connection forever', async () => {
    const app = await testApp({ server: { requestTimeoutMs: 2_500 } });
    expect(app.server.server.requestTimeout).toBe(2_500);
    await app.server.close();
  });
});
