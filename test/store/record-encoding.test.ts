import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StateEvent } from '../../src/domain/events.js';
import { StateEventSchema } from '../../src/domain/events.js';
import type { Order } from '../../src/domain/orders.js';
import { OrderSchema } from '../../src/domain/orders.js';
import { decodeSegment, encodeRecord } from '../../src/store/journal-format.js';
import { JournalWriter } from '../../src/store/journal-writer.js';
import { encodeRecordPayload, orderAcceptedBound, OrderAcceptedWriter } from '../../src/store/record-encoding.js';
import type { OrderAccepted } from '../../src/store/record-encoding.js';
import { awkward, idLike, numberLike, ordersOf } from '../support/record-arbitraries.js';

const orders = ordersOf(awkward);

const accepted = (order: Order, at: number, price: number): StateEvent => ({ type: 'order_accepted', at, order, price });

describe('journal record payloads', () => {
  it('know every field an order may have: a field added to OrderSchema must be added to the encoder (and here)', () => {
    // Written out, not generated: a filter for orders with every field would loop for ever on a field it never makes.
    const full: Order = {
      orderId: 'o-1',
      accountId: 'ACC-1',
      strategyId: 'S-1',
      symbol: 'AAPL',
      side: 'BUY',
      quantity: 10,
      price: 1.5,
      orderType: 'LIMIT',
      venue: 'XNYS',
      tags: { desk: 'eq' },
    };
    expect(Object.keys(full)).toEqual(Object.keys(OrderSchema.shape));
    const encoded = JSON.parse(encodeRecordPayload(1, accepted(full, 0, 1))) as { e: { order: Order } };
    expect(Object.keys(encoded.e.order)).toEqual(Object.keys(OrderSchema.shape));
  });

  it('encode order_accepted to exactly what JSON.stringify writes for the same record, its batch id included', () => {
    fc.assert(
      fc.property(fc.nat(), orders, numberLike, numberLike, fc.option(fc.string(), { nil: undefined }), (seq, order, at, price, batch) => {
        const event: StateEvent = batch === undefined ? accepted(order, at, price) : { type: 'order_accepted', at, order, price, batch };
        expect(encodeRecordPayload(seq, event)).toBe(JSON.stringify({ s: seq, e: event }));
      }),
      { numRuns: 2_000 },
    );
  });

  it('know every field order_accepted may have: a field added to its schema must be added to the encoder', () => {
    const event: StateEvent = { type: 'order_accepted', at: 1, order: { orderId: 'o', accountId: 'A', strategyId: 'S', symbol: 'X', side: 'BUY', quantity: 1, orderType: 'MARKET' }, price: 2, batch: 'b1' };
    const shape = StateEventSchema.options.find((o) => o.shape.type.value === 'order_accepted')!.shape;
    expect(Object.keys(event)).toEqual(Object.keys(shape));
    expect(JSON.parse(encodeRecordPayload(1, event))).toEqual({ s: 1, e: event });
  });

  it('encode an order whose keys came in another order to the same JSON value', () => {
    const order = { quantity: 5, side: 'BUY', symbol: 'S"Y', orderType: 'LIMIT', price: 10.5, strategyId: 'ST', accountId: 'A\\1', orderId: 'o-1' } as Order;
    const event = accepted(order, 1_700_000_000_000, 10.5);
    expect(JSON.parse(encodeRecordPayload(7, event))).toEqual(JSON.parse(JSON.stringify({ s: 7, e: event })));
  });

  it('leave an undefined optional field out, as JSON.stringify does', () => {
    const order = { orderId: 'o', accountId: 'a', strategyId: 's', symbol: 'x', side: 'SELL', quantity: 1, price: undefined, orderType: 'MARKET', venue: undefined, tags: undefined } as Order;
    const event = accepted(order, 1, 2);
    expect(encodeRecordPayload(1, event)).toBe(JSON.stringify({ s: 1, e: event }));
  });

  it('write order_accepted as bytes, the same as its JSON text, within the bound, or give up on text that needs escaping or is not ASCII', () => {
    const writer = new OrderAcceptedWriter();
    const isPlain = (text: string) => /^[\x20-\x7e]*$/.test(text) && !/["\\]/.test(text);
    let written = 0;
    fc.assert(
      fc.property(fc.oneof(fc.nat(), fc.constantFrom(1, 10, 1_000_000)), ordersOf(idLike), numberLike, numberLike, fc.option(idLike, { nil: undefined }), fc.nat(64), (seq, order, at, price, batch, offset) => {
        const event = (batch === undefined ? accepted(order, at, price) : { type: 'order_accepted', at, order, price, batch }) as OrderAccepted;
        const bound = orderAcceptedBound(event);
        if (order.tags !== undefined) {
          expect(bound).toBe(-1);
          return;
        }
        const target = Buffer.alloc(offset + bound + 8, 0xee);
        const end = writer.write(target, offset, seq, event);
        const strings = [order.orderId, order.accountId, order.strategyId, order.symbol, order.side, order.orderType ?? '', order.venue ?? '', batch ?? ''];
        if (!strings.every(isPlain)) {
          expect(end).toBe(-1);
          return;
        }
        expect(target.subarray(offset, end).toString('latin1')).toBe(JSON.stringify({ s: seq, e: event }));
        expect(end - offset).toBeLessThanOrEqual(bound);
        expect(target.subarray(offset + bound).every((b) => b === 0xee)).toBe(true);
        written++;
      }),
      { numRuns: 3_000 },
    );
    expect(written).toBeGreaterThan(300);
  });

  it('bound order_accepted bytes exactly when every field is there and every number is as long as a number gets', () => {
    const longest = -1.2345678901234567e-6;
    expect(JSON.stringify(longest)).toHaveLength(25);
    const order: Order = { orderId: 'o-1', accountId: 'A', strategyId: 'S', symbol: 'X', side: 'SELL', quantity: longest, price: longest, orderType: 'LIMIT', venue: 'V' };
    const event: OrderAccepted = { type: 'order_accepted', at: longest, order, price: longest, batch: 'b-7' };
    const bound = orderAcceptedBound(event);
    const target = Buffer.alloc(bound);
    // The sequence number too: the bound takes it as any number.
    expect(new OrderAcceptedWriter().write(target, 0, longest, event)).toBe(bound);
    expect(target.toString('latin1')).toBe(JSON.stringify({ s: longest, e: event }));
  });

  it('use JSON.stringify for every other event', () => {
    const events: StateEvent[] = [
      { type: 'session_reset', at: 5 },
      { type: 'execution', at: 6, event: { type: 'FILL', accountId: 'A', orderId: 'o', quantity: 1, price: 2 } },
      { type: 'resolved', at: 7, limitId: 'l', key: 'k"' },
    ];
    for (const event of events) expect(encodeRecordPayload(3, event)).toBe(JSON.stringify({ s: 3, e: event }));
  });
});

const writer = (maxPendingEvents = 100_000, onFailure: (error: Error) => void = () => undefined) => {
  const dir = mkdtempSync(join(tmpdir(), 'ulc-records-'));
  return { dir, journal: new JournalWriter({ dir, durability: 'async', asyncFlushMs: 1_000, asyncSyncMs: 1_000, maxPendingEvents }, 0, onFailure) };
};

function readBack(dir: string): { bytes: Buffer; records: { s: number; e: StateEvent }[] } {
  const file = readdirSync(dir).filter((f) => f.startsWith('journal-')).sort()[0]!;
  const bytes = readFileSync(join(dir, file));
  const decoded = decodeSegment(file, bytes);
  expect(decoded.tornAt).toBeUndefined();
  const records = decoded.records.map(({ payload }) => {
    const record = JSON.parse(payload) as { s: number; e: unknown };
    return { s: record.s, e: StateEventSchema.parse(record.e) };
  });
  return { bytes, records };
}

const anOrder = (i: number): Order => ({
  orderId: `o-${i}`,
  accountId: `ACC-${i % 7}`,
  strategyId: 'S-1',
  symbol: 'SYM',
  side: i % 2 === 0 ? 'BUY' : 'SELL',
  quantity: 1 + i,
  price: 100 + i / 8,
  orderType: 'LIMIT',
  // Now and then text that needs escaping: the byte path gives up and the string path writes over it.
  ...(i % 5 === 1 ? { venue: `V"${i}\\` } : {}),
  // Multi-byte UTF-8 now and then: lengths are in bytes, not characters.
  ...(i % 3 === 0 ? { tags: { note: `é€😀 ${i}` } } : {}),
});

describe('JournalWriter framing', () => {
  it('writes, across several buffers and flushes, byte for byte what framing each JSON record alone writes', async () => {
    const { dir, journal } = writer();
    await journal.rotate();
    const events: StateEvent[] = [];
    for (let i = 0; i < 3_000; i++) {
      // Now and then a record larger than a whole buffer.
      const event: StateEvent =
        i % 1_000 === 500
          ? { type: 'positions', at: i, rows: Array.from({ length: 2_000 }, (_, r) => ({ accountId: `A-${r}`, symbol: 'X', quantity: r, avgPrice: 1 })), replace: false }
          : accepted(anOrder(i), 1_700_000_000_000 + i, 100 + i / 8);
      events.push(event);
      journal.append(event);
      if (i % 700 === 0) await journal.drain();
    }
    await journal.close();
    const { bytes, records } = readBack(dir);
    expect(records.map((r) => r.s)).toEqual(events.map((_, i) => i + 1));
    expect(records.map((r) => r.e)).toEqual(events);
    const expected = Buffer.concat(events.map((e, i) => encodeRecord(JSON.stringify({ s: i + 1, e }))));
    expect(bytes.subarray(16).equals(expected)).toBe(true);
  });

  it('keeps no part of an event until the flush: changing it after append changes nothing on disk', async () => {
    const { dir, journal } = writer();
    await journal.rotate();
    const order = anOrder(1);
    journal.append(accepted(order, 1, 2));
    order.quantity = 999;
    await journal.close();
    expect(readBack(dir).records[0]!.e).toEqual(accepted(anOrder(1), 1, 2));
  });

  it('takes the string path for a field not of the type validation gives it, and stays healthy', async () => {
    const { dir, journal } = writer();
    await journal.rotate();
    const odd = { ...anOrder(1), orderId: 12 as unknown as string, quantity: '5' as unknown as number };
    const event = accepted(odd, 1, 2) as OrderAccepted;
    expect(orderAcceptedBound(event)).toBe(-1);
    // Each field on its own: a string price would be written as null on the byte path.
    expect(orderAcceptedBound(accepted({ ...anOrder(2), price: '5' as unknown as number }, 1, 2) as OrderAccepted)).toBe(-1);
    expect(orderAcceptedBound(accepted(anOrder(4), 1, '2' as unknown as number) as OrderAccepted)).toBe(-1);
    journal.append(event);
    expect(journal.isHealthy).toBe(true);
    await journal.close();
    const file = readdirSync(dir).find((f) => f.startsWith('journal-'))!;
    const { records } = decodeSegment(file, readFileSync(join(dir, file)));
    expect(records.map((r) => r.payload)).toEqual([encodeRecordPayload(1, event)]);
  });

  it('fails closed, without throwing into the caller, on an event it cannot encode', async () => {
    const failures: Error[] = [];
    const { journal } = writer(100_000, (error) => failures.push(error));
    await journal.rotate();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => journal.append({ type: 'book', at: 1, version: 2, limits: [cyclic] })).not.toThrow();
    expect(journal.isHealthy).toBe(false);
    expect(failures).toHaveLength(1);
    journal.append({ type: 'session_reset', at: 2 });
    await journal.close().catch(() => undefined);
  });

  it('still fails when more records wait than allowed, and drops them', async () => {
    const failures: Error[] = [];
    const { journal } = writer(3, (error) => failures.push(error));
    await journal.rotate();
    for (let i = 0; i < 5; i++) journal.append({ type: 'session_reset', at: i });
    expect(journal.isHealthy).toBe(false);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.message).toMatch(/4 records waiting for the disk \(max 3\)/);
  });
});
