import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ViolationNotice } from '../../src/domain/violation-book.js';
import { NoticeEncoder, ViolationStream } from '../../src/http/violation-stream.js';
import type { StreamSink } from '../../src/http/violation-stream.js';

class FakeSink implements StreamSink {
  writableLength = 0;
  destroyed = false;
  readonly writes: string[] = [];
  write(chunk: string): boolean {
    this.writes.push(chunk);
    return true;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

const violation = { violationId: 'v-1', limitId: 'L', kind: 'order_quantity', key: 'global', severity: 'HARD_BREACH', action: 'BLOCK', value: 2, threshold: 1, message: 'm', count: 1, firstAt: 1, lastAt: 1, maxValue: 2 };
const resolved = (at: number): ViolationNotice => ({ type: 'resolved', violation, at }) as unknown as ViolationNotice;

describe('violation streams', () => {
  it('write nothing while the check that made the notices runs, then one chunk with all of them, in order', async () => {
    const sink = new FakeSink();
    const stream = new ViolationStream(sink, new NoticeEncoder(), 1024);
    for (const at of [1, 2, 3]) stream.send(resolved(at));
    expect(sink.writes).toEqual([]);
    await nextTurn();
    expect(sink.writes).toHaveLength(1);
    expect([...sink.writes[0]!.matchAll(/"resolvedAt":(\d)/g)].map((m) => m[1])).toEqual(['1', '2', '3']);
    expect(sink.writes[0]!.startsWith('event: resolved\ndata: {')).toBe(true);
  });

  it('encode each notice once for every stream that sends it', async () => {
    const encoder = new NoticeEncoder();
    const sinks = [new FakeSink(), new FakeSink(), new FakeSink()];
    const streams = sinks.map((sink) => new ViolationStream(sink, encoder, 1024));
    for (const at of [1, 2]) {
      const notice = resolved(at);
      for (const stream of streams) stream.send(notice);
    }
    await nextTurn();
    expect(encoder.encoded).toBe(2);
    expect(new Set(sinks.map((sink) => sink.writes.join()))).toHaveProperty('size', 1);
  });

  it('drop a client that stops reading as soon as what it has yet to read passes the bound, however many notices one step makes', async () => {
    const sink = new FakeSink();
    const stream = new ViolationStream(sink, new NoticeEncoder(), 1024);
    const noticeChars = new NoticeEncoder().encode(resolved(0)).length;
    let sent = 0;
    while (!sink.destroyed && sent < 20_000) stream.send(resolved(sent++));
    // Dropped by the notice that passed the bound, not some notices later.
    expect(sent).toBe(Math.floor(1024 / noticeChars) + 1);
    await nextTurn();
    expect(sink.writes).toEqual([]);
  });

  it('drop a client that has not read what it was sent, and write nothing to a closed one', async () => {
    const slow = new FakeSink();
    slow.writableLength = 2048;
    const closed = new FakeSink();
    closed.destroyed = true;
    for (const sink of [slow, closed]) new ViolationStream(sink, new NoticeEncoder(), 1024).send(resolved(1));
    await nextTurn();
    expect([slow.destroyed, slow.writes, closed.writes]).toEqual([true, [], []]);
  });
});
