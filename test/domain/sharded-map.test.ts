import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderIdTable } from '../../src/domain/order-id-table.js';
import { KEYS_PER_SHARD, ShardedMap } from '../../src/domain/sharded-map.js';
import type { Shard } from '../../src/domain/sharded-map.js';

type Op = { type: 'set'; key: string; value: number } | { type: 'delete'; key: string } | { type: 'clear' } | { type: 'takeAll' };

const opArb = (keys: fc.Arbitrary<string>): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 12, arbitrary: fc.record({ type: fc.constant('set' as const), key: keys, value: fc.integer() }) },
    { weight: 6, arbitrary: fc.record({ type: fc.constant('delete' as const), key: keys }) },
    { weight: 1, arbitrary: fc.constant({ type: 'clear' as const }) },
    { weight: 1, arbitrary: fc.constant({ type: 'takeAll' as const }) },
  );

/** A value an OrderIdTable can hold: its key is its id. */
interface Entry {
  readonly orderId: string;
  readonly value: number;
}

/** Shards made by the map: a Map's by default, or the factory's. */
const SHARD_KINDS: [string, (() => Shard<string, Entry>) | undefined, (shard: unknown) => boolean][] = [
  ['Map', undefined, (shard) => shard instanceof Map],
  ['OrderIdTable', () => new OrderIdTable<Entry>(), (shard) => shard instanceof OrderIdTable],
];

const shardsOf = (map: ShardedMap<string, Entry>): unknown[] => (map as unknown as { shards: unknown[] }).shards;

/** A ShardedMap whose shards `make` makes, with the size each was asked for and the shard made, in order. */
function recordingShards<S extends Shard<string, Entry>>(keysPerShard: number, make: (expectedSize: number) => S) {
  const asked: number[] = [];
  const made: S[] = [];
  const sharded = new ShardedMap<string, Entry>(keysPerShard, (expectedSize) => {
    asked.push(expectedSize);
    const shard = make(expectedSize);
    made.push(shard);
    return shard;
  });
  return { asked, made, sharded };
}

describe('ShardedMap', () => {
  it.each(SHARD_KINDS)('answers as a Map does through any sequence of sets, deletes, clears and takeAlls, across many splits (%s shards)', (_, newShard, isOwnShard) => {
    // Four keys a shard: a few dozen keys split it many times over.
    const keys = fc.oneof(fc.string({ maxLength: 6 }), fc.nat(200).map((n) => `ACC-${n % 7}|ORD-${n}`));
    let splits = 0;
    fc.assert(
      fc.property(fc.array(opArb(keys), { minLength: 50, maxLength: 300, size: 'max' }), (ops) => {
        const sharded = new ShardedMap<string, Entry>(4, newShard);
        const plain = new Map<string, Entry>();
        for (const op of ops) {
          if (op.type === 'set') {
            const entry = { orderId: op.key, value: op.value };
            expect(sharded.set(op.key, entry)).toBe(sharded);
            plain.set(op.key, entry);
          } else if (op.type === 'delete') {
            expect(sharded.delete(op.key)).toBe(plain.delete(op.key));
          } else if (op.type === 'clear') {
            sharded.clear();
            plain.clear();
          } else {
            const taken = sharded.takeAll();
            expect(new Map(taken.entries())).toEqual(plain);
            plain.clear();
          }
          expect(sharded.size).toBe(plain.size);
          splits = Math.max(splits, sharded.shardCount);
          expect(shardsOf(sharded).every(isOwnShard)).toBe(true);
        }
        for (const key of plain.keys()) expect(sharded.get(key)).toBe(plain.get(key));
        expect(new Map(sharded.entries())).toEqual(plain);
        expect(new Set(sharded.values())).toEqual(new Set(plain.values()));
        expect(sharded.has('never set')).toBe(false);
      }),
      { numRuns: 300 },
    );
    expect(splits).toBeGreaterThan(8);
  });

  it('keeps every shard small as it grows, one shard at a time', () => {
    const map = new ShardedMap<string, number>(256);
    let shards = 1;
    for (let i = 0; i < 100_000; i++) {
      map.set(`ACC-${i % 10_000}|ORD-${i}`, i);
      // A split happens only once the average passes the bound, and adds exactly one shard.
      expect(map.shardCount - shards).toBeLessThanOrEqual(1);
      shards = map.shardCount;
    }
    expect(map.shardCount).toBe(Math.ceil(100_000 / 256));
    // Linear hashing: a shard not yet split this round holds about twice a split one.
    expect(map.largestShard).toBeLessThanOrEqual(3 * 256);
    for (let i = 0; i < 100_000; i += 997) expect(map.get(`ACC-${i % 10_000}|ORD-${i}`)).toBe(i);
  });

  it('stays a single shard while it holds no more than a shard’s worth of keys', () => {
    const map = new ShardedMap<number, string>(KEYS_PER_SHARD);
    for (let i = 0; i < KEYS_PER_SHARD; i++) map.set(i * 7919, 'x');
    expect(map.shardCount).toBe(1);
    map.set(-1, 'one more');
    expect(map.shardCount).toBe(2);
    expect(map.get(-1)).toBe('one more');
    expect(map.get(7919)).toBe('x');
  });

  it('spreads number keys too (a signature hash, a counter)', () => {
    const map = new ShardedMap<number, number>(64);
    for (let i = 0; i < 50_000; i++) map.set(i, i);
    expect(map.largestShard).toBeLessThanOrEqual(3 * 64);
    expect(map.get(49_999)).toBe(49_999);
  });

  it('grown: a plain Map is kept until it outgrows a shard, then its keys move into a ShardedMap', () => {
    const small = new Map([['a', 1]]);
    expect(ShardedMap.grown(small, 2)).toBe(small);
    const full = new Map([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    const before = new Map(full);
    const grown = ShardedMap.grown(full, 2);
    expect(grown).toBeInstanceOf(ShardedMap);
    expect(new Map(grown.entries())).toEqual(before);
    expect(ShardedMap.grown(grown, 2)).toBe(grown);
  });

  it('grown: any shard is kept until it outgrows a shard, then its keys move into a ShardedMap of the shards asked for', () => {
    const table = new OrderIdTable<Entry>();
    for (const [i, orderId] of ['a', 'b'].entries()) table.set(orderId, { orderId, value: i });
    expect(ShardedMap.grown(table, 2, () => new OrderIdTable<Entry>())).toBe(table);
    table.set('c', { orderId: 'c', value: 2 });
    const before = new Map(table.entries());
    const grown = ShardedMap.grown(table, 2, () => new OrderIdTable<Entry>());
    expect(grown).toBeInstanceOf(ShardedMap);
    expect(new Map(grown.entries())).toEqual(before);
    expect(shardsOf(grown as ShardedMap<string, Entry>).every((shard) => shard instanceof OrderIdTable)).toBe(true);
  });

  for (const [kind, newShard] of SHARD_KINDS) {
    it(`grown (${kind}): the map itself becomes the first shard, and splits move only the other shards' keys out of it`, () => {
      const made: Shard<string, Entry>[] = [];
      const factory = (): Shard<string, Entry> => {
        const shard = newShard?.() ?? new Map<string, Entry>();
        made.push(shard);
        return shard;
      };
      const first = factory();
      made.length = 0;
      const entries = Array.from({ length: 3 * 64 + 1 }, (_, i) => ({ orderId: `B-${i}`, value: i }));
      for (const entry of entries) first.set(entry.orderId, entry);
      const grown = ShardedMap.grown(first as OrderIdTable<Entry>, 64, factory) as ShardedMap<string, Entry>;
      const shards = shardsOf(grown);
      expect([shards.length, grown.size]).toEqual([4, entries.length]);
      // The very objects: toEqual would take a copy of the table for the table.
      expect(shards[0]).toBe(first);
      expect(shards.slice(1).map((shard) => made.indexOf(shard as Shard<string, Entry>))).toEqual([0, 1, 2]);
      expect(new Map(grown.entries())).toEqual(new Map(entries.map((e) => [e.orderId, e])));
      expect(first.size).toBeLessThan(entries.length / 2);
    });
  }

  it('splits a table of orders by the hashes it keeps: growing one reads no order id', () => {
    let reads = 0;
    const table = new OrderIdTable<Entry>();
    const entries = Array.from({ length: 1_000 }, (_, i) => {
      const orderId = `B-${i}`;
      return { get orderId() { reads++; return orderId; }, value: i };
    });
    for (const entry of entries) table.set(entry.orderId, entry);
    reads = 0;
    const grown = ShardedMap.grown(table, 200, (expectedSize) => new OrderIdTable<Entry>(expectedSize)) as ShardedMap<string, Entry>;
    expect([reads, shardsOf(grown).length]).toEqual([0, 5]);
    for (const entry of entries) expect(grown.get(entry.orderId)).toBe(entry);
  });

  it('asks for a split\'s new Map shard at the number of keys the split moves into it', () => {
    const { asked, made, sharded } = recordingShards(64, () => new Map<string, Entry>());
    for (let i = 0; i < 3 * 64 + 1; i++) {
      const shards = made.length;
      sharded.set(`B-${i}`, { orderId: `B-${i}`, value: i });
      if (made.length === shards) continue;
      expect(made.at(-1)!.size).toBe(asked.at(-1));
      expect(asked.at(-1)).toBeGreaterThan(10);
    }
    // The first shard (asked for 0 keys), then one per split.
    expect([made.length, asked[0]]).toEqual([4, 0]);
  });

  it('makes a split\'s new shard at the size it is about to take: a table that never grows while taking it', () => {
    const { asked, made, sharded } = recordingShards(512, (expectedSize) => new OrderIdTable<Entry>(expectedSize));
    for (let i = 0; i < 3 * 512 + 1; i++) {
      const shards = made.length;
      sharded.set(`B-${i}`, { orderId: `B-${i}`, value: i });
      if (made.length === shards) continue;
      // The split's new shard holds just the keys it was told of, at the capacity those ask for (see OrderIdTable).
      const [table, size] = [made.at(-1)!, asked.at(-1)!];
      expect([table.size, table.capacity]).toEqual([size, new OrderIdTable(size).capacity]);
      expect(size).toBeGreaterThan(100);
    }
    expect(made.length).toBe(4);
  });
});
