import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { MIN_CAPACITY, OrderIdTable } from '../../src/domain/order-id-table.js';
import { stringHash } from '../../src/domain/string-hash.js';

interface Order {
  readonly orderId: string;
  readonly n: number;
}

type Op = { type: 'set'; id: number } | { type: 'delete'; id: number } | { type: 'drain' };

/** Two ids of one hash: the hash is seeded per thread, so they are found, not written down. */
function collidingPair(prefix: string): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const id = `${prefix}${i}`;
    const other = seen.get(stringHash(id));
    if (other !== undefined) return [other, id];
    seen.set(stringHash(id), id);
  }
}

/**
 * Few ids, so that sets, deletes and sets again meet: sequential ones (alike but in their last
 * characters), and two pairs whose hashes are equal, so that only the ids tell them apart.
 */
const COLLIDING = [collidingPair('ord-'), collidingPair('x-')];
const IDS = [...Array.from({ length: 70 }, (_, i) => `ord-${i}`), ...COLLIDING.flat()];

/** The same texts as other strings: the table must compare ids by text, not by identity. */
const COPIES = IDS.map((id) => id.split('').join(''));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 40, arbitrary: fc.record({ type: fc.constant('set' as const), id: fc.nat(IDS.length - 1) }) },
  { weight: 15, arbitrary: fc.record({ type: fc.constant('delete' as const), id: fc.nat(IDS.length - 1) }) },
  // Every id deleted in turn: the table shrinks on the way down.
  { weight: 1, arbitrary: fc.constant({ type: 'drain' as const }) },
);

describe('OrderIdTable', () => {
  it('holds test ids that share a hash', () => {
    for (const [a, b] of COLLIDING) expect([a !== b, stringHash(a)]).toEqual([true, stringHash(b)]);
  });

  it('answers as a Map by id does through any sequence of sets and deletes, growing and shrinking', () => {
    let largest = 0;
    let shrunk = false;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 50, maxLength: 300 }), (ops) => {
        const table = new OrderIdTable<Order>();
        const plain = new Map<string, Order>();
        let n = 0;
        const check = (): void => {
          expect(table.size).toBe(plain.size);
          expect(IDS.filter((id, i) => table.get(COPIES[i]!) !== plain.get(id))).toEqual([]);
          expect(table.size * 2).toBeLessThanOrEqual(table.capacity);
          if (table.capacity > MIN_CAPACITY) expect(table.size * 8).toBeGreaterThanOrEqual(table.capacity);
          largest = Math.max(largest, table.capacity);
        };
        const remove = (orderId: string): void => {
          const before = table.capacity;
          expect(table.delete(orderId)).toBe(plain.delete(orderId));
          shrunk ||= table.capacity < before;
          check();
        };
        for (const op of ops) {
          if (op.type === 'drain') {
            for (const orderId of IDS) remove(orderId);
          } else if (op.type === 'delete') {
            remove(IDS[op.id]!);
          } else {
            const orderId = IDS[op.id]!;
            const order = { orderId, n: n++ };
            expect(table.set(orderId, order)).toBe(table);
            plain.set(orderId, order);
            check();
          }
        }
        expect(new Map(table.entries())).toEqual(plain);
        expect(new Set(table.values())).toEqual(new Set(plain.values()));
      }),
      { numRuns: 80 },
    );
    // The sequences did grow the table past its first sizes, and shrink it again.
    expect(largest).toBeGreaterThanOrEqual(64);
    expect(shrunk).toBe(true);
  });

  it('tells apart two ids of one hash, whichever goes first', () => {
    const [one, other] = COLLIDING[0]!;
    for (const [first, second] of [
      [one, other],
      [other, one],
    ] as const) {
      const table = new OrderIdTable<Order>();
      const a = { orderId: first, n: 1 };
      const b = { orderId: second, n: 2 };
      table.set(first, a).set(second, b);
      expect([table.get(first), table.get(second), table.size]).toEqual([a, b, 2]);
      expect(table.delete(first)).toBe(true);
      expect([table.get(first), table.get(second), table.size]).toEqual([undefined, b, 1]);
      expect(table.delete(first)).toBe(false);
    }
  });

  it('grows to hold thousands of ids and gives the room back as they go', () => {
    const table = new OrderIdTable<Order>();
    const orders = Array.from({ length: 5_000 }, (_, i) => ({ orderId: `B-${i}`, n: i }));
    for (const order of orders) table.set(order.orderId, order);
    expect([table.size, table.capacity]).toEqual([5_000, 16_384]);
    for (const order of orders) expect(table.get(order.orderId)).toBe(order);
    for (const order of orders.slice(10)) expect(table.delete(order.orderId)).toBe(true);
    expect(table.size).toBe(10);
    expect(table.capacity).toBeLessThanOrEqual(128);
    for (const order of orders.slice(0, 10)) expect(table.get(order.orderId)).toBe(order);
  });

  it('is made at the size that holds the orders it expects, and a quarter more, without growing', () => {
    for (const [expected, capacity] of [
      [0, 4],
      [2, 4],
      [3, 8],
      [100, 256],
      [1_639, 4_096],
      [1_640, 8_192],
      [2_048, 8_192],
    ] as const) {
      const table = new OrderIdTable<Order>(expected);
      expect(table.capacity).toBe(capacity);
      const room = expected + (expected >> 2);
      for (let i = 0; i < room; i++) table.set(`B-${i}`, { orderId: `B-${i}`, n: i });
      expect([table.size, table.capacity]).toEqual([room, capacity]);
    }
  });

  it('splits off the orders whose id hashes as asked, reading no id, into a table made at their number', () => {
    let reads = 0;
    const orders = Array.from({ length: 3_000 }, (_, i) => {
      const orderId = `B-${i}`;
      return { get orderId() { reads++; return orderId; }, n: i };
    });
    const table = new OrderIdTable<Order>();
    for (const order of orders) table.set(order.orderId, order);
    const capacity = table.capacity;
    const moves = (hash: number) => (hash & 1) === 1;
    const asked: number[] = [];
    reads = 0;
    const split = table.splitOff(moves, (expectedSize) => {
      asked.push(expectedSize);
      return new OrderIdTable<Order>(expectedSize);
    }) as OrderIdTable<Order>;
    expect(reads).toBe(0);
    const [moved, kept] = [orders.filter((o) => moves(stringHash(o.orderId))), orders.filter((o) => !moves(stringHash(o.orderId)))];
    expect([asked, split.size, table.size, table.capacity]).toEqual([[moved.length], moved.length, kept.length, capacity]);
    expect(split.capacity).toBe(new OrderIdTable(moved.length).capacity);
    expect(moved.length).toBeGreaterThan(1_000);
    for (const o of moved) expect([split.get(o.orderId), table.get(o.orderId)]).toEqual([o, undefined]);
    for (const o of kept) expect([split.get(o.orderId), table.get(o.orderId)]).toEqual([undefined, o]);
  });

  it('splits off into a table made smaller than asked (it grows), or into a Map (by id)', () => {
    const orders = Array.from({ length: 500 }, (_, i) => ({ orderId: `B-${i}`, n: i }));
    for (const make of [() => new OrderIdTable<Order>(), () => new Map<string, Order>()]) {
      const table = new OrderIdTable<Order>();
      for (const order of orders) table.set(order.orderId, order);
      const split = table.splitOff((hash) => hash % 3 === 0, make);
      expect(split.size + table.size).toBe(orders.length);
      for (const o of orders) expect((stringHash(o.orderId) % 3 === 0 ? split : table).get(o.orderId)).toBe(o);
    }
  });

  it('lets go of a deleted order, and of every order when cleared, back to its least room', () => {
    const table = new OrderIdTable<Order>();
    const orders = Array.from({ length: 40 }, (_, i) => ({ orderId: `c-${i}`, n: i }));
    for (const order of orders) table.set(order.orderId, order);
    const slots = (): unknown[] => (table as unknown as { slots: unknown[] }).slots;
    table.delete('c-3');
    expect(slots()).not.toContain(orders[3]);
    expect(slots().filter((slot) => typeof slot === 'object')).toHaveLength(39);
    table.clear();
    expect([table.size, table.capacity, table.get('c-4'), [...table.values()]]).toEqual([0, MIN_CAPACITY, undefined, []]);
    expect(slots().some((slot) => typeof slot === 'object')).toBe(false);
    table.set('c-4', orders[4]!);
    expect(table.get('c-4')).toBe(orders[4]);
  });

  it('refuses an order put under an id that is not its own', () => {
    const table = new OrderIdTable<Order>();
    expect(() => table.set('a', { orderId: 'b', n: 0 })).toThrow(/order b put under id a/);
    expect(table.size).toBe(0);
  });
});

describe('stringHash', () => {
  it('hashes the same text alike whether or not it was the text hashed last, the empty one included', () => {
    const texts = ['', 'a', 'ord-1', 'ord-1', '', 'ord-2', 'a'];
    const fresh = texts.map((text) => {
      stringHash('something else');
      return stringHash(text.split('').join(''));
    });
    expect(texts.map((text) => stringHash(text))).toEqual(fresh);
    expect(new Set(fresh).size).toBe(4);
  });

  it('answers the empty text rightly as the first text it is asked for', async () => {
    vi.resetModules();
    const loaded = await import('../../src/domain/string-hash.js');
    expect(loaded.stringHash).not.toBe(stringHash);
    const first = loaded.stringHash('');
    loaded.stringHash('something else');
    expect(loaded.stringHash('')).toBe(first);
  });

  it('is seeded: two loads hash alike within themselves and, all but surely, differently from each other', async () => {
    const texts = ['ord-1', 'ord-2', 'ACC-00042', ''];
    vi.resetModules();
    const loaded = await import('../../src/domain/string-hash.js');
    expect(texts.map((t) => loaded.stringHash(t))).toEqual(texts.map((t) => loaded.stringHash(t.split('').join(''))));
    // Two 32-bit seeds alike would leave these equal: one chance in four billion.
    expect(texts.map((t) => loaded.stringHash(t))).not.toEqual(texts.map((t) => stringHash(t)));
  });
});
