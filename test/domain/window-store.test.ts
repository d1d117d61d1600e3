import { describe, expect, it, vi } from 'vitest';
import type { Order } from '../../src/domain/orders.js';
import { SIGNATURE_SHARDS, SignatureWindows, signatureHash } from '../../src/domain/signature-windows.js';
import { KeyedWindows } from '../../src/domain/window-store.js';
import type { WindowRing } from '../../src/domain/window-store.js';
import { HASH_SEED } from '../../src/domain/string-hash.js';
import { order } from '../support/engine-fixtures.js';

/** Two different accounts whose otherwise equal orders hash the same: found by brute force. */
function collidingAccounts(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const account = `ACC-${i}`;
    const hash = signatureHash(account, 'AAPL', 'BUY', 100, 10);
    const other = seen.get(hash);
    if (other !== undefined) return [other, account];
    seen.set(hash, account);
  }
}

const names = (store: SignatureWindows | KeyedWindows): [string, number[]][] => [...store.entries()].map(([name, ring]) => [name, ring.toArray()]);

describe('SignatureWindows (duplicate_order)', () => {
  const base: Partial<Order> = { accountId: 'ACC-1', symbol: 'AAPL', side: 'BUY', quantity: 100, price: 10 };

  it('finds the ring of an equal order and no other: every field of the signature counts', () => {
    const store = new SignatureWindows('account', 10, 1);
    store.create(order(base)).push(1);
    expect(store.find(order({ ...base, orderId: 'another-id', venue: 'OTHER' }))?.toArray()).toEqual([1]);
    for (const differs of [{ accountId: 'ACC-2' }, { symbol: 'MSFT' }, { side: 'SELL' as const }, { quantity: 101 }, { price: 10.01 }, { price: undefined }]) {
      expect(store.find(order({ ...base, ...differs }))).toBeUndefined();
    }
    expect(store.size).toBe(1);
  });

  it('keeps orders whose signatures hash the same apart, and drops either from the chain', () => {
    const [first, second] = collidingAccounts();
    const store = new SignatureWindows('account', 10, 1);
    const a = store.create(order({ ...base, accountId: first }));
    const b = store.create(order({ ...base, accountId: second }));
    a.push(1);
    b.push(5);
    expect([store.find(order({ ...base, accountId: first })), store.find(order({ ...base, accountId: second }))]).toEqual([a, b]);
    expect(store.size).toBe(2);
    expect(store.sweep(1, 10)).toBe(1);
    expect([store.find(order({ ...base, accountId: first })), store.find(order({ ...base, accountId: second }))]).toEqual([undefined, b]);
    const c = store.create(order({ ...base, accountId: first }));
    store.drop(order({ ...base, accountId: first }), b);
    expect(store.size).toBe(2);
    store.drop(order({ ...base, accountId: second }), b);
    expect([store.size, store.find(order({ ...base, accountId: first }))]).toEqual([1, c]);
  });

  it('hashes from the thread\'s seed by default, and from a store\'s own seed when given one', async () => {
    const fields = ['ACC-1', 'AAPL', 'BUY', 100, 10] as const;
    expect(signatureHash(...fields)).toBe(signatureHash(...fields, HASH_SEED));
    expect(signatureHash(...fields, 0)).not.toBe(signatureHash(...fields, 1));
    vi.resetModules();
    const reloaded = await import('../../src/domain/signature-windows.js');
    // Two 32-bit seeds alike would hash alike: one chance in four billion.
    expect(reloaded.signatureHash(...fields)).not.toBe(signatureHash(...fields));
    for (const seed of [0, 1, HASH_SEED]) {
      const store = new SignatureWindows('account', 10, 1, seed);
      store.create(order(base)).push(2);
      expect(store.find(order(base))?.toArray()).toEqual([2]);
    }
  });

  it('hashes every bit of a quantity and a price: 64 that differ only in the top bits of their words hash apart', () => {
    const words = new Uint32Array(2);
    const asDouble = new Float64Array(words.buffer);
    /** The value with bits 30 and 31 of its low word and bit 30 of its high word flipped as `m` says. */
    const variants = (x: number): number[] =>
      Array.from({ length: 8 }, (_, m) => {
        asDouble[0] = x;
        words[0]! ^= ((m & 1) << 30) | (m & 2 ? 0x80000000 : 0);
        words[1]! ^= (m & 4) << 28;
        return asDouble[0];
      }).filter((v) => v > 0 && v <= 1e9);
    const [quantities, prices] = [variants(100), variants(10)];
    expect(quantities.length * prices.length).toBe(64);
    for (const seed of [0, HASH_SEED]) {
      const hashes = new Set(quantities.flatMap((q) => prices.map((p) => signatureHash('ACC-1', 'AAPL', 'BUY', q, p, seed))));
      expect(hashes.size).toBe(64);
    }
  });

  it('tells a MARKET signature from a priced one of the same hash', () => {
    const market = new Map<number, string>();
    for (let i = 0; i < 200_000; i++) market.set(signatureHash(`ACC-${i}`, 'AAPL', 'BUY', 100, undefined, 0), `ACC-${i}`);
    let pair: [string, string] | undefined;
    for (let j = 0; pair === undefined; j++) {
      const found = market.get(signatureHash(`ACC-${j}`, 'AAPL', 'BUY', 100, 10, 0));
      if (found !== undefined) pair = [found, `ACC-${j}`];
    }
    const [marketAccount, pricedAccount] = pair;
    const of = (accountId: string, price: number | undefined) => order({ ...base, accountId, price });
    const store = new SignatureWindows('account', 10, 1_000, 0);
    const priced = store.create(of(pricedAccount, 10));
    const atMarket = store.create(of(marketAccount, undefined));
    expect([store.size, store.hashCount]).toEqual([2, 1]);
    expect(store.find(of(marketAccount, undefined))).toEqual(atMarket);
    expect(store.find(of(pricedAccount, 10))).toEqual(priced);
    expect([store.find(of(marketAccount, 10)), store.find(of(pricedAccount, undefined))]).toEqual([undefined, undefined]);
  });

  it('names keys as key|symbol|side|quantity|price and reads them back, composite keys and MARKET included', () => {
    const store = new SignatureWindows('account+symbol', 10, 1);
    store.create(order({ ...base, price: undefined })).push(3);
    store.create(order({ ...base, quantity: 2.5, price: 0.0001 })).push(4);
    expect(names(store)).toEqual([
      ['ACC-1|AAPL|AAPL|BUY|100|MKT', [3]],
      ['ACC-1|AAPL|AAPL|BUY|2.5|0.0001', [4]],
    ]);
    const restored = new SignatureWindows('account+symbol', 10, 1);
    for (const [name, times] of names(store)) restored.restore(name, times);
    expect(names(restored)).toEqual(names(store));
    expect(restored.find(order({ ...base, price: undefined }))?.toArray()).toEqual([3]);
  });

  it('refuses a malformed key in a snapshot', () => {
    const store = new SignatureWindows('account', 10, 1);
    for (const name of ['ACC-1|AAPL|BUY|100', 'ACC-1|AAPL|HOLD|100|10', 'ACC-1|AAPL|BUY|1e2|10', 'ACC-1|AAPL|BUY|100|']) {
      expect(() => store.restore(name, [1])).toThrow(/malformed/);
    }
  });
});

describe('SignatureWindows at scale', () => {
  it('spreads 20,000 signatures over its SIGNATURE_SHARDS shards, each about its share of them, all found', () => {
    // Seed 0: with the thread's random one, about one run in a thousand put a shard just past the bound.
    const store = new SignatureWindows('account', 10, 1, 0);
    const orders = Array.from({ length: 20_000 }, (_, i) => order({ accountId: `ACC-${i % 100}`, quantity: 1 + i }));
    for (const o of orders) store.create(o).push(1);
    expect(store.size).toBe(20_000);
    expect(store.largestShard).toBeLessThan(1.25 * (20_000 / SIGNATURE_SHARDS));
    for (const o of orders.filter((_, i) => i % 97 === 0)) expect(store.find(o)?.toArray()).toEqual([1]);
  });
});

describe('SignatureWindows reusing swept entries', () => {
  const base: Partial<Order> = { accountId: 'ACC-1', symbol: 'AAPL', side: 'BUY', quantity: 100, price: 10 };
  /** A store holding `swept` signatures pushed at time 1, which a sweep at cutoff 50 drops, then `live` ones at time 100. */
  function storeWith(live: number, swept: number, windowEntries = 10) {
    const store = new SignatureWindows('account', windowEntries, 1_000);
    const old = Array.from({ length: swept }, (_, i) => store.create(order({ ...base, quantity: 1 + i })));
    old.forEach((ring) => ring.push(1));
    for (let i = 0; i < live; i++) store.create(order({ ...base, quantity: 1_000 + i })).push(100);
    return { store, old };
  }
  const entryOf = (ring: WindowRing): number => (ring as WindowRing & { entry: number }).entry;

  it('gives a swept entry to the next signature, holding nothing of the one it counted', () => {
    const { store, old } = storeWith(2, 1);
    old[0]!.push(2);
    expect(store.sweep(50, 10)).toBe(1);
    const next = order({ ...base, side: 'SELL', price: undefined });
    const ring = store.create(next);
    expect(entryOf(ring)).toBe(entryOf(old[0]!));
    expect([ring.size, ring.toArray(), store.size]).toEqual([0, [], 3]);
    ring.push(60);
    expect([entryOf(store.find(next)!), store.find(order({ ...base, quantity: 1 }))]).toEqual([entryOf(ring), undefined]);
    expect(names(store).at(-1)).toEqual(['ACC-1|AAPL|SELL|100|MKT', [60]]);
    // A MARKET signature matches MARKET orders only, and a priced one priced orders only.
    expect(store.find(order({ ...base, side: 'SELL', price: 10 }))).toBeUndefined();
  });

  it('holds as many chunks of 4,096 entries as its most entries at once took, however often they are swept and made again; none after clear()', () => {
    const store = new SignatureWindows('account', 10, 1_000);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5_000; i++) store.create(order({ ...base, quantity: 1 + i })).push(round * 10_000);
      expect([store.size, store.chunkCount]).toEqual([5_000, 2]);
      expect(store.sweep((round + 1) * 10_000, 10_000)).toBe(5_000);
    }
    for (let i = 0; i < 9_000; i++) store.create(order({ ...base, quantity: 1 + i })).push(50_000);
    expect(store.chunkCount).toBe(3);
    store.clear();
    expect([store.size, store.chunkCount, names(store)]).toEqual([0, 0, []]);
  });

  it('keeps one push in its column and gives a second one a ring, which goes with the entry', () => {
    const { store, old } = storeWith(2, 2, 100);
    for (let at = 2; at <= 40; at++) old[0]!.push(at);
    const capacity = (ring: WindowRing): number => (ring as WindowRing & { capacity: number }).capacity;
    expect([capacity(old[0]!), capacity(old[1]!)]).toEqual([64, 1]);
    expect(store.sweep(50, 10)).toBe(2);
    const reused = [store.create(order({ ...base, quantity: 7 })), store.create(order({ ...base, quantity: 8 }))];
    expect(reused.map(entryOf).sort()).toEqual(old.map(entryOf).sort());
    expect(reused.map(capacity)).toEqual([1, 1]);
  });
});

describe('KeyedWindows (order_rate)', () => {
  it('keys by the aggregation and drops a key only while the ring given is still its ring', () => {
    const store = new KeyedWindows('strategy', 10, 1);
    const ring = store.create(order({ strategyId: 'S-1' }));
    ring.push(1);
    expect(store.find(order({ strategyId: 'S-1', accountId: 'ACC-9' }))).toBe(ring);
    store.drop(order({ strategyId: 'S-1' }), store.create(order({ strategyId: 'S-2' })));
    expect(names(store)).toEqual([['S-1', [1]], ['S-2', []]]);
    expect([store.sweep(1, 10), names(store)]).toEqual([2, []]);
  });
});
