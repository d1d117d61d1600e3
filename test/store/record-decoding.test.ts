import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StateEvent } from '../../src/domain/events.js';
import type { Order } from '../../src/domain/orders.js';
import { OrderAcceptedReader, RECENT_SLOTS } from '../../src/store/record-decoding.js';
import { encodeRecordPayload, orderAcceptedBound, OrderAcceptedWriter } from '../../src/store/record-encoding.js';
import type { OrderAccepted } from '../../src/store/record-encoding.js';
import { awkward, idLike, numberLike, ordersOf } from '../support/record-arbitraries.js';

/** A record's payload as the journal writes it: the byte path when it can, else the JSON text. */
function payload(seq: number, event: StateEvent): Buffer {
  if (event.type === 'order_accepted') {
    const bound = orderAcceptedBound(event);
    if (bound >= 0) {
      const target = Buffer.alloc(bound);
      const end = new OrderAcceptedWriter().write(target, 0, seq, event);
      if (end >= 0) return target.subarray(0, end);
    }
  }
  return Buffer.from(encodeRecordPayload(seq, event), 'utf8');
}

/** Reads bytes placed amid others, as the worker reads one record of a write. */
function readAmid(reader: OrderAcceptedReader, bytes: Buffer, before = 3, after = 5): unknown {
  const write = Buffer.concat([Buffer.alloc(before, 0x7d), bytes, Buffer.alloc(after, 0x22)]);
  return reader.read(write, before, before + bytes.length);
}

const parsed = (bytes: Buffer): unknown => JSON.parse(bytes.toString('utf8'));

const accepted = (order: Order, at: number, price: number, batch?: string): OrderAccepted =>
  batch === undefined ? { type: 'order_accepted', at, order, price } : { type: 'order_accepted', at, order, price, batch };

const isPlain = (text: string | undefined): boolean => text === undefined || (/^[\x20-\x7e]*$/.test(text) && !/["\\]/.test(text));

const plainOrders = ordersOf(idLike);

describe('OrderAcceptedReader', () => {
  it('reads every order_accepted record the byte path writes to exactly what JSON.parse reads from it', () => {
    const reader = new OrderAcceptedReader();
    let fast = 0;
    fc.assert(
      fc.property(fc.nat(), plainOrders, numberLike, numberLike, fc.option(idLike, { nil: undefined }), (seq, order, at, price, batch) => {
        const event = accepted(order, at, price, batch);
        const bytes = payload(seq, event);
        const read = readAmid(reader, bytes);
        const strings = [order.orderId, order.accountId, order.strategyId, order.symbol, order.side, order.orderType, order.venue, batch];
        if (order.tags === undefined && strings.every(isPlain)) {
          expect(read).toStrictEqual(parsed(bytes));
          fast++;
        } else {
          expect(read).toBeUndefined();
        }
      }),
      { numRuns: 3_000 },
    );
    expect(fast).toBeGreaterThan(300);
  });

  it('leaves every other event to JSON.parse, and records with tags or text that needs unescaping', () => {
    const reader = new OrderAcceptedReader();
    const order: Order = { orderId: 'o-1', accountId: 'A', strategyId: 'S', symbol: 'X', side: 'BUY', quantity: 1, price: 2, orderType: 'LIMIT' };
    const events: StateEvent[] = [
      { type: 'session_reset', at: 5 },
      { type: 'execution', at: 6, event: { type: 'FILL', accountId: 'A', orderId: 'o', quantity: 1, price: 2 } },
      { type: 'batch_committed', at: 7, batch: 'b1' },
      accepted({ ...order, tags: { desk: 'eq' } }, 1, 2),
      accepted({ ...order, orderId: 'o"1' }, 1, 2),
      accepted({ ...order, symbol: 'é' }, 1, 2),
      accepted(order, 1, 2, 'b\\1'),
    ];
    for (const event of events) expect(readAmid(reader, payload(9, event))).toBeUndefined();
    fc.assert(
      fc.property(ordersOf(awkward), (awkwardOrder) => {
        const bytes = payload(1, accepted(awkwardOrder, 1, 2));
        const read = readAmid(reader, bytes);
        if (read !== undefined) expect(read).toStrictEqual(parsed(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('reads nothing JSON.parse would read otherwise: a payload cut short, with a byte changed or one put in, is read as JSON.parse reads it or left to it', () => {
    const reader = new OrderAcceptedReader();
    const bytesLike = fc.oneof(fc.constantFrom(...'"\\,{}[]: 0-.eE+n1x'.split('').map((c) => c.charCodeAt(0)), 0x00, 0x1f, 0x7f, 0x80, 0xc3), fc.integer({ min: 0, max: 255 }));
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('change' as const), at: fc.nat(), byte: bytesLike }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: bytesLike }),
    );
    let read = 0;
    let left = 0;
    fc.assert(
      fc.property(fc.nat(), plainOrders.filter((o) => o.tags === undefined), numberLike, numberLike, mutation, (seq, order, at, price, change) => {
        const bytes = Buffer.from(payload(seq, accepted(order, at, price)));
        const k = change.at % (bytes.length + 1);
        const mutated =
          change.kind === 'cut' ? bytes.subarray(0, k) : change.kind === 'change' ? (bytes[Math.min(k, bytes.length - 1)] = change.byte, bytes) : Buffer.concat([bytes.subarray(0, k), Buffer.from([change.byte]), bytes.subarray(k)]);
        const result = readAmid(reader, mutated);
        if (result === undefined) {
          left++;
          return;
        }
        read++;
        expect(result).toStrictEqual(parsed(mutated));
      }),
      { numRuns: 5_000 },
    );
    // Both ways are taken: some changes leave valid records (a digit for a digit), most do not.
    expect(read).toBeGreaterThan(100);
    expect(left).toBeGreaterThan(1_000);
  });

  it('reads repeated text right when more values than its slots take turns in them', () => {
    const reader = new OrderAcceptedReader();
    const accounts = Array.from({ length: 3 * RECENT_SLOTS }, (_, i) => `ACC-${i}`);
    for (let i = 0; i < 6 * RECENT_SLOTS; i++) {
      const order: Order = { orderId: `o-${i}`, accountId: accounts[(i * 7919) % accounts.length]!, strategyId: `S-${i % 13}`, symbol: `SYM-${i % 101}`, side: i % 2 === 0 ? 'BUY' : 'SELL', quantity: 1 + (i % 50), price: 100 + (i % 400) / 100, orderType: 'LIMIT' };
      const bytes = payload(i + 1, accepted(order, 1_700_000_000_000 + i, 100.5));
      const record = reader.read(bytes, 0, bytes.length);
      if (record === undefined || record.e.type !== 'order_accepted') throw new Error(`record ${i} was not read`);
      if (record.e.order.accountId !== order.accountId || record.e.order.symbol !== order.symbol || record.e.order.strategyId !== order.strategyId) {
        expect(record.e.order).toEqual(order);
      }
    }
  });
});
