import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BatchResult } from '../../src/domain/engine.js';
import { repeatedKey, repeatedKeyIn } from '../../src/http/repeated-keys.js';
import { SLICED_PARSE_BYTES } from '../../src/http/sliced-body.js';
import { anOrder, appPerTest, call, check, expectProblem, namesField, stateOf } from './http-helpers.js';

describe('repeatedKey', () => {
  it('finds a key twice in one object, and says where', () => {
    expect(repeatedKey('{"a":1,"b":2,"a":3}')).toBe('a');
    expect(repeatedKey('{"orders":[{"q":1},{"q":2,"p":1,"q":3}]}')).toBe('orders.1.q');
    expect(repeatedKey('{"a":{"b":{"c":1,"c":2}}}')).toBe('a.b.c');
    expect(repeatedKey('{"x":[[1,2],{"k":1,"k":1}]}')).toBe('x.1.k');
  });

  it('reads a key as JSON does: an escape spelling the same key is the same key', () => {
    expect(repeatedKey('{"qty":1,"q\\u0074y":2}')).toBe('qty');
  });

  it('finds nothing in the same key in sibling or nested objects, or in keys and values that look alike', () => {
    expect(repeatedKey('{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}')).toBeUndefined();
    expect(repeatedKey('{"a":"a","b":"\\"a\\":1,","c":"{\\"d\\":1,\\"d\\":2}"}')).toBeUndefined();
    expect(repeatedKey('[{"a":1},{"a":1}]')).toBeUndefined();
    expect(repeatedKey('{}')).toBeUndefined();
  });
});

describe('repeatedKeyIn (the parsed value beside its text)', () => {
  const scan = (text: string) => repeatedKeyIn(text, JSON.parse(text));

  it('finds nothing in any JSON value, however it is spaced', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 1, '\t'), (value, space) => {
        expect(scan(JSON.stringify(value, null, space))).toBeUndefined();
      }),
    );
  });

  it('finds a repeated key anywhere in any JSON value, and says where', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const [ja, jb] = [JSON.stringify(a), JSON.stringify(b)];
        expect(scan(`{"k":${ja},"k":${jb}}`)).toBe('k');
        expect(scan(`[${ja},{"x":${jb},"k:":${ja},"k:":1}]`)).toBe('1.k:');
      }),
    );
  });

  it('finds a key repeated as escapes even after a parse V8 decodes such keys wrongly in', () => {
    // After an object with the keys x, "/", "\\", V8's JSON.parse (Node 24.21) reads a second
    // "\/" after "x" and "\/" as the key "\\": the two copies of "/" stay two keys.
    JSON.parse(String.raw`{"x":0,"/":0,"\\":1}`);
    const text = String.raw`{"x":0,"\/":1,"\/":2}`;
    expect(scan(text)).toBe('/');
  });

  it('is not misled by colons, quotes and backslashes inside strings', () => {
    expect(scan('{"a:":":","b":"\\\\","c":"\\":"}')).toBeUndefined();
    expect(scan('{"a":"\\\\","a":1}')).toBe('a');
    expect(scan('{"a":"x\\":1,\\"a\\":2","b":{}}')).toBeUndefined();
    expect(scan('{"a":{},"b":[{},[]],"a":[]}')).toBe('a');
  });
});

describe('a request body with a key twice in one object', () => {
  const start = appPerTest();
  const repeatQuantity = (order: ReturnType<typeof anOrder>) => JSON.stringify(order).replace('{', '{"quantity":5000000,');

  it('is refused on a check, naming the key, and changes nothing', async () => {
    const { server, engine } = await start();
    const before = stateOf(engine);
    const problem = expectProblem(await call(server, 'POST', '/v1/checks', 'gateway', repeatQuantity(anOrder({ orderId: 'dup', quantity: 1 })), { 'content-type': 'application/json' }), 400);
    expect(namesField(problem, 'quantity')).toBe(true);
    expect(stateOf(engine)).toEqual(before);
    expect((await check(server, anOrder({ orderId: 'dup', quantity: 1 }))).statusCode).toBe(200);
  });

  it('is refused on a batch, naming the order and the key', async () => {
    const { server, engine } = await start();
    const orders = [anOrder({ orderId: 'b-0' }), anOrder({ orderId: 'b-1' })].map((o, i) => (i === 1 ? repeatQuantity(o) : JSON.stringify(o)));
    const problem = expectProblem(await call(server, 'POST', '/v1/checks/batch', 'gateway', `{"orders":[${orders.join(',')}]}`, { 'content-type': 'application/json' }), 400);
    expect(namesField(problem, 'orders.1.quantity')).toBe(true);
    expect(engine.ledger.openOrderCount).toBe(0);
  });

  it('is refused in a batch large enough to be parsed in slices, naming the order and the key', async () => {
    const { server, engine } = await start({ server: { defaultDeadlineMs: 5_000, maxBatchSize: 10_000, bodyLimitBytes: 8 * 1024 * 1024 } });
    const orders = Array.from({ length: 3_000 }, (_, i) => anOrder({ orderId: `s-${i}`, quantity: 1 }));
    const items = orders.map((o, i) => (i === 2_345 ? repeatQuantity(o) : JSON.stringify(o)));
    const body = `{"atomic":false,"orders":[${items.join(',')}]}`;
    expect(body.length).toBeGreaterThan(SLICED_PARSE_BYTES);
    const problem = expectProblem(await call(server, 'POST', '/v1/checks/batch', 'gateway', body, { 'content-type': 'application/json' }), 400);
    expect(namesField(problem, 'orders.2345.quantity')).toBe(true);
    expect(engine.ledger.openOrderCount).toBe(0);
    // The same body without the repeat is a batch like any other.
    const fine = await call(server, 'POST', '/v1/checks/batch', 'gateway', body.replace('"quantity":5000000,', ''), { 'content-type': 'application/json' });
    expect(fine.json<BatchResult>().summary.total).toBe(3_000);
  });
});
