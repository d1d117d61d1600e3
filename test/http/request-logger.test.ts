import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyRequestLogger } from '../../src/http/request-logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, parent: pino({ level: 'info' }, stream) };
}

/** Counts the children made of `parent`. */
function counting(parent: pino.Logger) {
  let made = 0;
  const child = parent.child.bind(parent);
  parent.child = ((...args: Parameters<typeof child>) => {
    made++;
    return child(...args);
  }) as typeof parent.child;
  return () => made;
}

describe('the lazy request logger', () => {
  it('makes no child until the request logs, then one, with the same bindings pino would give', async () => {
    const { lines, parent } = capture();
    const made = counting(parent);
    const log = lazyRequestLogger(parent, { reqId: 'req-7' }, {});
    expect(log.level).toBe('info');
    expect(made()).toBe(0);
    log.debug('not at this level');
    // A line below the level makes no child (every 4xx writes one at debug).
    expect(made()).toBe(0);
    log.info({ orderId: 'o-1' }, 'order rejected');
    log.warn('twice');
    await new Promise((resolve) => setImmediate(resolve));
    expect(made()).toBe(1);
    expect(lines.map((l) => [l.reqId, l.msg, l.orderId])).toEqual([
      ['req-7', 'order rejected', 'o-1'],
      ['req-7', 'twice', undefined],
    ]);
  });

  it('makes nothing at all when the parent is silent', () => {
    const { lines, parent } = capture();
    parent.level = 'silent';
    const made = counting(parent);
    lazyRequestLogger(parent, { reqId: 'quiet' }, {}).fatal('dropped');
    expect([made(), lines.length]).toEqual([0, 0]);
  });

  it('starts at the level its options give, and takes a new one', () => {
    const { parent } = capture();
    expect(lazyRequestLogger(parent, { reqId: 'a' }, { level: 'warn' }).level).toBe('warn');
    const log = lazyRequestLogger(parent, { reqId: 'b' }, {});
    log.level = 'error';
    expect(log.level).toBe('error');
    expect(parent.level).toBe('info');
  });

  it('makes children of its own with both sets of bindings', async () => {
    const { lines, parent } = capture();
    lazyRequestLogger(parent, { reqId: 'req-8' }, {}).child({ part: 'journal' }).error('failed');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toMatchObject([{ reqId: 'req-8', part: 'journal', msg: 'failed', level: 50 }]);
  });
});
