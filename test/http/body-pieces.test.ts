import { PassThrough, Readable, Transform } from 'node:stream';
import fc from 'fast-check';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { ByteText } from '../../src/http/byte-text.js';
import { readBodyPieces } from '../../src/http/body-pieces.js';
import { parseLargeBodiesInSlices, SLICED_PARSE_BYTES } from '../../src/http/sliced-body.js';

/** An app whose one route reads bodies as the batch routes do, and answers what it parsed. */
async function echoApp(bodyLimit?: number, preParsing?: (payload: NodeJS.ReadableStream) => NodeJS.ReadableStream) {
  const app = Fastify();
  await app.register((scope, _options, done) => {
    parseLargeBodiesInSlices(scope, 'orders', 100_000);
    scope.post(
      '/echo',
      {
        ...(bodyLimit === undefined ? {} : { bodyLimit }),
        ...(preParsing === undefined ? {} : { preParsing: (_request, _reply, payload, next) => next(null, preParsing(payload) as typeof payload) }),
      },
      (request) => request.body,
    );
    done();
  });
  apps.push(app);
  return app;
}
const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** The bytes in chunks of `size`, cut wherever that falls: inside a character too. */
function chunked(bytes: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return Readable.from(chunks);
}

const postStream = (app: FastifyInstance, payload: Readable, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json', ...headers }, payload });

describe('a body read in chunks', () => {
  it('is decoded whole even where a chunk ends inside a character, small or large', async () => {
    const app = await echoApp(16 * 1024 * 1024);
    for (const count of [3, 8_000]) {
      const value = { orders: Array.from({ length: count }, (_, i) => ({ id: `é-${i}-😀`, note: '€ \u2028 "q"' })), atomic: true };
      const text = JSON.stringify(value);
      const bytes = Buffer.from(text);
      // The large one is parsed in slices.
      if (count > 3) expect(bytes.length).toBeGreaterThan(SLICED_PARSE_BYTES);
      // 7 and 4,093 bytes: neither divides the 2-, 3- and 4-byte characters' places.
      for (const size of [7, 4_093]) {
        const response = await postStream(app, chunked(bytes, size), { 'content-length': String(bytes.length) });
        expect(response.statusCode).toBe(200);
        expect(response.json()).toEqual(value);
      }
    }
  });

  it('is refused with 413 once it passes the body limit, with or without a content-length', async () => {
    const app = await echoApp(1_000);
    const bytes = Buffer.from(JSON.stringify({ orders: Array.from({ length: 300 }, (_, i) => i * 1_000) }));
    expect(bytes.length).toBeGreaterThan(1_000);
    const streamed = await postStream(app, chunked(bytes, 100));
    expect(streamed.statusCode).toBe(413);
    expect(streamed.json<{ code: string }>().code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
    const declared = await postStream(app, chunked(bytes, 100), { 'content-length': String(bytes.length) });
    expect(declared.statusCode).toBe(413);
    // At the limit exactly, it is read.
    const atLimit = Buffer.from(`{"orders":[${'1,'.repeat(493)}1]}`);
    expect(atLimit.length).toBe(1_000);
    expect((await postStream(app, chunked(atLimit, 64))).statusCode).toBe(200);
    // One byte over it, with no content-length to tell beforehand, it is not.
    const overLimit = Buffer.from(`{"orders":[${'1,'.repeat(493)}11]}`);
    expect(overLimit.length).toBe(1_001);
    expect((await postStream(app, chunked(overLimit, 64))).statusCode).toBe(413);
  });

  it('is refused with 400 when it is not as long as its content-length says', async () => {
    const app = await echoApp();
    const bytes = Buffer.from('{"orders":[1,2,3]}');
    const response = await postStream(app, chunked(bytes, 5), { 'content-length': String(bytes.length - 1) });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ code: string }>().code).toBe('FST_ERR_CTP_INVALID_CONTENT_LENGTH');
  });

  it('is refused with 400 when the stream fails', async () => {
    const app = await echoApp();
    const failing = new Readable({
      read() {
        this.push('{"orders":[1,');
        this.destroy(new Error('connection reset'));
      },
    });
    const response = await postStream(app, failing);
    expect(response.statusCode).toBe(400);
  });

  it('is refused with 413 at once when its content-length passes the limit, however long it really is', async () => {
    const app = await echoApp(1_000);
    // Read, this body would fail the content-length check (400): the declared length alone refuses it.
    const response = await postStream(app, chunked(Buffer.from('{"orders":[]}'), 4), { 'content-length': '1001' });
    expect(response.statusCode).toBe(413);
  });

  it('keeps a failed stream\'s own status, and makes any other failure a 400', async () => {
    const failing = (statusCode?: number) => () =>
      new Readable({
        read() {
          this.push('{"orders":[1,');
          this.destroy(Object.assign(new Error('upstream gone'), statusCode === undefined ? {} : { statusCode }));
        },
      });
    for (const [statusCode, expected] of [[503, 503], [399, 400], [undefined, 400]] as const) {
      const app = await echoApp(undefined, failing(statusCode));
      expect((await postStream(app, chunked(Buffer.from('{"orders":[1,2]}'), 4))).statusCode).toBe(expected);
    }
  });

  it('takes text chunks from a preParsing stream, and counts what it received encoded against the limit and the content-length', async () => {
    const value = { orders: ['é', '😀', 'x'] };
    const bytes = Buffer.from(JSON.stringify(value));
    const decoding = await echoApp(undefined, (payload) => payload.pipe(new PassThrough()).setEncoding('utf8'));
    const decoded = await postStream(decoding, chunked(bytes, 3), { 'content-length': String(bytes.length) });
    expect(decoded.statusCode).toBe(200);
    expect(decoded.json()).toEqual(value);
    /** A stand-in for a decompressing stream: it claims twice the bytes it passes on were received. */
    const inflating = () => {
      let received = 0;
      const stream = new Transform({
        transform(chunk: Buffer, _encoding, next) {
          received += 2 * chunk.length;
          Object.assign(stream, { receivedEncodedLength: received });
          next(null, chunk);
        },
      });
      return stream;
    };
    const claimed = await echoApp(2 * bytes.length - 1, (payload) => payload.pipe(inflating()));
    expect((await postStream(claimed, chunked(bytes, 3))).statusCode).toBe(413);
    const counted = await echoApp(undefined, (payload) => payload.pipe(inflating()));
    expect((await postStream(counted, chunked(bytes, 3), { 'content-length': String(2 * bytes.length) })).statusCode).toBe(200);
    expect((await postStream(counted, chunked(bytes, 3), { 'content-length': String(bytes.length) })).statusCode).toBe(400);
  });
});

describe('readBodyPieces', () => {
  const read = (payload: Readable, bodyLimit = 16 * 1024 * 1024) =>
    new Promise<ByteText>((resolve, reject) => {
      const request = { routeOptions: { bodyLimit }, headers: {} } as unknown as FastifyRequest;
      readBodyPieces(request, payload, (error, text) => (error === null && text !== undefined ? resolve(text) : reject(error ?? new Error('no text'))));
    });

  it('copies small chunks together, so a body sent a byte at a time is held in a few blocks', async () => {
    const bytes = Buffer.from(JSON.stringify({ orders: Array.from({ length: 20_000 }, (_, i) => `é${i}`) }));
    const text = await read(chunked(bytes, 1));
    expect(text.toString()).toBe(bytes.toString());
    expect(text.chunkCount).toBe(Math.ceil(bytes.length / (64 * 1024)));
  });

  it('keeps large chunks as they are, in order between the blocks of small ones', async () => {
    const bytes = Buffer.from('x'.repeat(200_000));
    const sizes = [10, 20_000, 5, 5, 70_000, 3];
    const chunks: Buffer[] = [];
    for (let at = 0, i = 0; at < bytes.length; at += sizes[i % sizes.length]!, i++) chunks.push(bytes.subarray(at, at + sizes[i % sizes.length]!));
    const text = await read(Readable.from(chunks));
    expect(text.length).toBe(bytes.length);
    expect(text.toString()).toBe(bytes.toString());
    // A large chunk is kept whole: the count stays near one per large chunk and block.
    expect(text.chunkCount).toBeLessThan(chunks.length);
    // Held as itself, not copied into a block (toContain compares with ===).
    const held = Array.from({ length: text.chunkCount }, (_, i) => text.chunk(i));
    for (const large of chunks.filter((chunk) => chunk.length >= 16 * 1024)) expect(held).toContain(large);
  });

  it('holds about the body and one block, however small and large chunks alternate', async () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < 64; i++) chunks.push(Buffer.from('1'), Buffer.alloc(16 * 1024, 0x20));
    const text = await read(Readable.from(chunks));
    expect(text.length).toBe(64 * (1 + 16 * 1024));
    const held = new Set(Array.from({ length: text.chunkCount }, (_, i) => text.chunk(i).buffer));
    const heldBytes = [...held].reduce((sum, buffer) => sum + buffer.byteLength, 0);
    // Each lone byte kept in a 64 KB block of its own would hold 4 MB.
    expect(heldBytes).toBeLessThan(text.length + 2 * 64 * 1024);
  });

  it('hands on exactly the bytes that came, in order, however the chunks are sized', async () => {
    const chunkSizes = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 20_000, max: 70_000 }), fc.integer({ min: 30_000, max: 40_000 })), { maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(chunkSizes, fc.integer(), async (sizes, seed) => {
        // Random bytes, so a block written over after it was handed on shows.
        let state = seed;
        const chunks = sizes.map((size) => Buffer.from(Array.from({ length: size }, () => ((state = (Math.imul(state, 1_103_515_245) + 12_345) | 0) >>> 16) & 0xff)));
        const text = await read(Readable.from(chunks));
        const held = Buffer.concat(Array.from({ length: text.chunkCount }, (_, i) => text.chunk(i)));
        expect(held.equals(Buffer.concat(chunks))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
