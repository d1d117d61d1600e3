import { connect } from 'node:net';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { coalescedWritesPlugin, TurnEndWriter } from '../../src/http/plugins/coalesced-writes.js';
import type { HeldReply } from '../../src/http/plugins/coalesced-writes.js';
import { nextTurn } from '../../src/http/next-turn.js';
import { buildApp } from '../../src/app.js';
import { FakeClock } from '../support/fake-clock.js';
import { bearer, testApp, testAppConfig } from '../support/app-fixtures.js';
import { anOrder } from './http-helpers.js';

/** A stand-in for a Fastify reply: its logger, the headers set on it, and whether its connection was ended. */
function aReply() {
  const headers: Record<string, string> = {};
  const reply = {
    statusCode: 200,
    log: { error: vi.fn() },
    headers,
    header: (name: string, value: string) => {
      headers[name] = value;
      return reply;
    },
    raw: { destroy: vi.fn() },
  };
  return reply as typeof reply & HeldReply;
}

describe('TurnEndWriter', () => {
  it('writes the first answer of a turn at once and holds the rest for its end, written in the order decided', async () => {
    const writer = new TurnEndWriter();
    const written: unknown[] = [];
    for (const name of ['first', 'second', 'third']) writer.hold(aReply(), (_error, payload) => written.push(payload), name);
    expect(written).toEqual(['first']);
    expect(writer.waiting).toBe(2);
    await nextTurn();
    expect(written).toEqual(['first', 'second', 'third']);
    expect(writer.waiting).toBe(0);
    writer.hold(aReply(), (_error, payload) => written.push(payload), 'next turn');
    expect(written.at(-1)).toBe('next turn');
  });

  it('schedules one write-out a turn, however many answers it holds', async () => {
    const scheduled = vi.spyOn(globalThis, 'setImmediate');
    try {
      const writer = new TurnEndWriter();
      for (let i = 0; i < 5; i++) writer.hold(aReply(), () => undefined, i);
      expect(scheduled).toHaveBeenCalledTimes(1);
      await nextTurn();
      writer.hold(aReply(), () => undefined, 5);
      expect(scheduled).toHaveBeenCalledTimes(3); // nextTurn's own, then the next turn's write-out
    } finally {
      scheduled.mockRestore();
    }
  });

  it('writes each answer once, however many turns go by', async () => {
    const writer = new TurnEndWriter();
    const written: unknown[] = [];
    for (let turn = 0; turn < 3; turn++) {
      writer.hold(aReply(), (_error, payload) => written.push(payload), `${turn}a`);
      writer.hold(aReply(), (_error, payload) => written.push(payload), `${turn}b`);
      await nextTurn();
    }
    expect(written).toEqual(['0a', '0b', '1a', '1b', '2a', '2b']);
  });

  it('takes an answer sent while the held ones are written as the first of a new turn', async () => {
    const writer = new TurnEndWriter();
    const written: unknown[] = [];
    writer.hold(aReply(), () => written.push('first'), 'first');
    writer.hold(
      aReply(),
      () => {
        written.push('held');
        writer.hold(aReply(), (_error, payload) => written.push(payload), 'sent while writing');
      },
      'held',
    );
    await nextTurn();
    expect(written).toEqual(['first', 'held', 'sent while writing']);
    expect(writer.waiting).toBe(0);
  });

  it('ends the connection of an answer whose write throws, logged with its request, and still writes the others', async () => {
    const writer = new TurnEndWriter();
    const written: unknown[] = [];
    const lost = aReply();
    writer.hold(aReply(), (_error, payload) => written.push(payload), 'first');
    writer.hold(
      lost,
      () => {
        throw new Error('invalid header');
      },
      'lost',
    );
    writer.hold(aReply(), (_error, payload) => written.push(payload), 'kept');
    await nextTurn();
    expect(written).toEqual(['first', 'kept']);
    expect(lost.raw.destroy).toHaveBeenCalledTimes(1);
    expect(lost.log.error.mock.calls[0]![1]).toBe('writing an answer failed: its connection is closed');
  });

  it("leaves a throw from the first answer's write to its caller (Fastify, which answers it), and holds nothing for it", () => {
    const writer = new TurnEndWriter();
    const first = aReply();
    expect(() =>
      writer.hold(
        first,
        () => {
          throw new Error('invalid header');
        },
        'first',
      ),
    ).toThrow('invalid header');
    expect(first.raw.destroy).not.toHaveBeenCalled();
    expect(writer.waiting).toBe(0);
  });

  it('writes an error answer at once, even within a turn that holds others', async () => {
    const writer = new TurnEndWriter();
    const written: unknown[] = [];
    writer.hold(aReply(), (_error, payload) => written.push(payload), 'first');
    writer.hold(aReply(), (_error, payload) => written.push(payload), 'held');
    const problem = aReply();
    problem.statusCode = 503;
    writer.hold(problem, (_error, payload) => written.push(payload), 'problem');
    expect(written).toEqual(['first', 'problem']);
    await nextTurn();
    expect(written).toEqual(['first', 'problem', 'held']);
  });

  it('on close, writes what it holds at once, asking to close their connections, and holds nothing from then on', () => {
    const writer = new TurnEndWriter();
    const written: unknown[] = [];
    const first = aReply();
    const held = aReply();
    writer.hold(first, (_error, payload) => written.push(payload), 'first');
    writer.hold(held, (_error, payload) => written.push(payload), 'held');
    writer.close();
    expect(written).toEqual(['first', 'held']);
    expect(first.headers).toEqual({});
    expect(held.headers).toEqual({ connection: 'close' });
    for (const name of ['later', 'and later']) {
      const later = aReply();
      writer.hold(later, (_error, payload) => written.push(payload), name);
      expect(written.at(-1)).toBe(name);
      expect(later.headers).toEqual({});
    }
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

  it('writes the first answer of a turn inside reply.send and holds the next for the turn\'s end (without it, both inside)', async () => {
    for (const withPlugin of [true, false]) {
      const { app, endedAtSend } = await server(withPlugin);
      const responses = await Promise.all([1, 2].map((n) => app.inject({ method: 'POST', url: '/echo', payload: { n } })));
      expect(responses.map((response) => response.statusCode)).toEqual([200, 200]);
      expect(responses.map((response) => response.json<unknown>())).toEqual([{ n: 1 }, { n: 2 }]);
      expect(endedAtSend).toEqual([true, !withPlugin]);
    }
  });

  it('answers a write that throws (a header Node refuses) with a 500, as Fastify does without it', async () => {
    for (const withPlugin of [true, false]) {
      const app = Fastify({ logger: false });
      servers.push(app);
      if (withPlugin) await app.register(coalescedWritesPlugin);
      app.get('/bad-header', (_request, reply) => {
        reply.header('x-bad', 'a\nb').send({ ok: true });
      });
      const response = await app.inject({ method: 'GET', url: '/bad-header' });
      expect(response.statusCode, `with the plugin: ${withPlugin}`).toBe(500);
    }
  });

  it('answers requests pipelined on one connection, each once and in their order', async () => {
    const { app, endedAtSend } = await server(true);
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
    // Decided in one turn: the first written at once, the others held (else this tests no holding).
    expect(endedAtSend).toEqual([true, false, false]);
  });
});

describe('closing with an answer held', () => {
  it('writes it at once asking to close its connection, so the close does not wait for that connection to idle out', async () => {
    const app = Fastify();
    await app.register(coalescedWritesPlugin);
    let closed: Promise<undefined> | undefined;
    app.post('/echo', (request, reply) => {
      reply.send(request.body);
      // The second of two pipelined requests, answered in the same turn as the first: held.
      if ((request.body as { n: number }).n === 2) closed = app.close();
    });
    const { port } = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
    const socket = connect(Number(port), '127.0.0.1');
    try {
      const answers = new Promise<string>((resolve, reject) => {
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      const request = (n: number) => `POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"n":${n}}`;
      socket.write(request(1) + request(2));
      const text = await Promise.race([answers, new Promise<string>((resolve) => setTimeout(() => resolve('timed out'), 5_000).unref())]);
      const [first, second] = text.split(/(?=HTTP\/1\.1 )/);
      expect(first, text).toMatch(/^HTTP\/1\.1 200[^]*\{"n":1\}$/);
      expect(second, text).toMatch(/^HTTP\/1\.1 200[^]*\{"n":2\}$/);
      expect(second!.toLowerCase()).toContain('connection: close');
      await closed;
    } finally {
      socket.destroy();
      await app.close();
    }
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
