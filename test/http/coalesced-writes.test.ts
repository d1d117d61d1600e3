import { connect } from 'node:net';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { coalescedWritesPlugin, TurnEndWriter } from '../../src/http/plugins/coalesced-writes.js';
import { nextTurn } from '../../src/http/next-turn.js';
import { buildApp } from '../../src/app.js';
import { FakeClock } from '../support/fake-clock.js';
import { bearer, testApp, testAppConfig } from '../support/app-fixtures.js';
import { anOrder } from './http-helpers.js';

const quietLog = () => ({ error: vi.fn() });

describe('TurnEndWriter', () => {
  it('holds every answer of a turn and writes them at its end, in the order they were decided', async () => {
    const writer = new TurnEndWriter(quietLog());
    const written: unknown[] = [];
    writer.hold((_error, payload) => written.push(payload), 'first');
    writer.hold((_error, payload) => written.push(payload), 'second');
    expect(written).toEqual([]);
    expect(writer.waiting).toBe(2);
    await nextTurn();
    expect(written).toEqual(['first', 'second']);
    expect(writer.waiting).toBe(0);
  });

  it('schedules one write-out a turn, however many answers it holds', async () => {
    const scheduled = vi.spyOn(globalThis, 'setImmediate');
    try {
      const writer = new TurnEndWriter(quietLog());
      for (let i = 0; i < 5; i++) writer.hold(() => undefined, i);
      expect(scheduled).toHaveBeenCalledTimes(1);
      await nextTurn();
      writer.hold(() => undefined, 5);
      expect(scheduled).toHaveBeenCalledTimes(3); // nextTurn's own, then the next turn's write-out
    } finally {
      scheduled.mockRestore();
    }
  });

  it('holds an answer sent while the turn is written out for the next turn, and writes it then', async () => {
    const writer = new TurnEndWriter(quietLog());
    const written: unknown[] = [];
    writer.hold(() => {
      written.push('first');
      writer.hold((_error, payload) => written.push(payload), 'sent while writing');
    }, 'first');
    await nextTurn();
    expect(written).toEqual(['first']);
    expect(writer.waiting).toBe(1);
    await nextTurn();
    expect(written).toEqual(['first', 'sent while writing']);
  });

  it('logs an answer whose write throws and still writes the others', async () => {
    const log = quietLog();
    const writer = new TurnEndWriter(log);
    const written: unknown[] = [];
    writer.hold(() => {
      throw new Error('socket gone');
    }, 'lost');
    writer.hold((_error, payload) => written.push(payload), 'kept');
    await nextTurn();
    expect(written).toEqual(['kept']);
    expect(log.error).toHaveBeenCalledTimes(1);
    expect(log.error.mock.calls[0]![1]).toBe('writing an answer failed');
  });
});

describe('coalescedWritesPlugin', () => {
  const servers: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  /** A server whose route records whether its answer was already written when reply.send returned. */
  async function server(withPlugin: boolean) {
    const app = Fastify();
    servers.push(app);
    if (withPlugin) await app.register(coalescedWritesPlugin);
    const endedAtSend: boolean[] = [];
    app.post('/echo', (request, reply) => {
      reply.send(request.body);
      endedAtSend.push(reply.raw.writableEnded);
      return reply;
    });
    await app.ready();
    return { app, endedAtSend };
  }

  it('writes a route answer at the end of the turn, not inside reply.send (without it, inside)', async () => {
    for (const withPlugin of [true, false]) {
      const { app, endedAtSend } = await server(withPlugin);
      const response = await app.inject({ method: 'POST', url: '/echo', payload: { n: 1 } });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ n: 1 });
      expect(endedAtSend).toEqual([!withPlugin]);
    }
  });

  it('answers requests pipelined on one connection, each once and in their order', async () => {
    const { app } = await server(true);
    const { port } = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
    const socket = connect(Number(port), '127.0.0.1');
    const request = (n: number) => {
      const body = JSON.stringify({ n });
      return `POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    };
    const text = await new Promise<string>((resolve, reject) => {
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        received += chunk;
        if ((received.match(/\{"n":\d\}/g) ?? []).length === 3) resolve(received);
      });
      socket.on('error', reject);
      socket.write(request(1) + request(2) + request(3));
    });
    socket.destroy();
    expect(text.match(/HTTP\/1\.1 200/g)).toHaveLength(3);
    expect(text.match(/\{"n":\d\}/g)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
  });
});

describe('server.coalesceWrites', () => {
  it('puts the service behind the writer by default, and not when set to false', async () => {
    for (const coalesceWrites of [undefined, false]) {
      const app = await testApp({ server: { defaultDeadlineMs: 1_000, maxBatchSize: 100, ...(coalesceWrites === undefined ? {} : { coalesceWrites }) } });
      try {
        expect(app.server.hasPlugin('coalesced-writes')).toBe(coalesceWrites === undefined);
      } finally {
        await app.server.close();
      }
    }
  });
});

describe('POST /v1/checks behind the writer', () => {
  it('does not hand Fastify its reply to wait on once the answer is sent (a stream watcher a request)', async () => {
    const app = await buildApp(testAppConfig(), { clock: new FakeClock(), defaultMetrics: false, httpWarmUpRequests: 0 });
    const waitedOn = vi.fn();
    app.server.addHook('onRequest', (request, reply, done) => {
      if (request.url !== '/v1/checks') return done();
      const then = reply.then.bind(reply);
      reply.then = (fulfilled, rejected) => {
        waitedOn();
        then(fulfilled, rejected);
      };
      done();
    });
    try {
      await app.server.ready();
      const response = await app.server.inject({ method: 'POST', url: '/v1/checks', headers: bearer('gateway'), payload: anOrder() });
      expect(response.statusCode).toBe(200);
      expect(response.json<{ decision: string }>().decision).toBe('ACCEPT');
      expect(waitedOn).not.toHaveBeenCalled();
    } finally {
      await app.server.close();
    }
  });
});
