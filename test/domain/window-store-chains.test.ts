/**
 * SignatureWindows at its boundaries: a chain of three signatures with
 * the same hash, the middle one taken out by drop() and by sweep(), and the tail by sweep
 * while the walk is on it. ACC-36679, ACC-1877440 and ACC-4643004 hash alike for
 * (AAPL, BUY, 100, 10) from seed 0 (found by brute force), so these stores are made with it.
 */
import { describe, expect, it } from 'vitest';
import type { Order } from '../../src/domain/orders.js';
import { SignatureWindows, signatureHash } from '../../src/domain/signature-windows.js';
import { order } from '../support/engine-fixtures.js';

const ACCOUNTS = ['ACC-36679', 'ACC-1877440', 'ACC-4643004'] as const;
const base: Partial<Order> = { symbol: 'AAPL', side: 'BUY', quantity: 100, price: 10 };
const of = (accountId: string): Order => order({ ...base, accountId });
/** The seed the three were found for (a store's default is the thread's own). */
const SEED = 0;

/** A store holding the chain of three, each ring with one timestamp (`times`, in chain order), pushed in time order. */
function chainWith(times: readonly number[]) {
  const store = new SignatureWindows('account', 10, 1, SEED);
  const rings = ACCOUNTS.map((a) => store.create(of(a)));
  // One hash for the three: a chain, which is what these tests are about.
  expect([store.size, store.hashCount]).toEqual([3, 1]);
  [...times.keys()].sort((a, b) => times[a]! - times[b]!).forEach((i) => rings[i]!.push(times[i]!));
  return { store, rings };
}

describe('SignatureWindows collision chains of three', () => {
  it('the three accounts collide from seed 0, and not from the thread\'s own seed', () => {
    const hashes = (seed?: number) => ACCOUNTS.map((a) => signatureHash(a, 'AAPL', 'BUY', 100, 10, seed));
    expect(new Set(hashes(SEED)).size).toBe(1);
    // A random 32-bit seed that kept all three alike: far under one chance in a billion.
    expect(new Set(hashes()).size).toBeGreaterThan(1);
  });

  it('drop() takes the middle ring out and keeps head and tail findable', () => {
    const { store, rings } = chainWith([1, 2, 3]);
    store.drop(of(ACCOUNTS[1]), rings[1]!);
    expect(store.size).toBe(2);
    expect(ACCOUNTS.map((a) => store.find(of(a)))).toEqual([rings[0], undefined, rings[2]]);
    expect([...store.entries()].map(([name]) => name)).toEqual([`${ACCOUNTS[0]}|AAPL|BUY|100|10`, `${ACCOUNTS[2]}|AAPL|BUY|100|10`]);
    // A new ring for the dropped signature goes to the tail; the old one is not found again.
    const again = store.create(of(ACCOUNTS[1]));
    expect(store.find(of(ACCOUNTS[1]))).toEqual(again);
    expect(store.size).toBe(3);
  });

  it('sweep() takes out middle and tail in one pass, and head and middle in another', () => {
    const { store, rings } = chainWith([10, 1, 2]);
    expect(store.sweep(5, 10)).toBe(2);
    expect([store.size, ...ACCOUNTS.map((a) => store.find(of(a)))]).toEqual([1, rings[0], undefined, undefined]);

    const { store: second, rings: r2 } = chainWith([1, 2, 10]);
    expect(second.sweep(5, 10)).toBe(2);
    expect([second.size, ...ACCOUNTS.map((a) => second.find(of(a)))]).toEqual([1, undefined, undefined, r2[2]]);
    expect(second.sweep(20, 10)).toBe(1);
    expect([second.size, [...second.entries()].length]).toEqual([0, 0]);
  });

  it('a chain\'s ring, swept and reused for another signature, takes nothing of the chain with it', () => {
    const { store, rings } = chainWith([1, 5, 6]);
    expect(store.sweep(2, 10)).toBe(1);
    const other = order({ ...base, accountId: 'ACC-X', quantity: 7 });
    const reused = store.create(other);
    // The swept entry, reused (views of one entry are equal, not one object).
    expect(reused).toEqual(rings[0]);
    reused.push(3);
    expect([store.size, store.hashCount]).toEqual([3, 2]);
    store.drop(other, reused);
    expect([store.size, store.hashCount, store.find(other)]).toEqual([2, 1, undefined]);
    expect([store.find(of(ACCOUNTS[1])), store.find(of(ACCOUNTS[2]))]).toEqual([rings[1], rings[2]]);
    // The chain's head is again found and made anew, and sweeps walk the two left.
    const again = store.create(of(ACCOUNTS[0]));
    again.push(7);
    expect(store.find(of(ACCOUNTS[0]))).toEqual(again);
    expect(store.sweep(6.5, 10)).toBe(2);
    expect(ACCOUNTS.map((a) => store.find(of(a)))).toEqual([again, undefined, undefined]);
  });

  it('restore() of a snapshot holding all three rebuilds the same chain', () => {
    const store = new SignatureWindows('account', 10, 1, SEED);
    ACCOUNTS.forEach((a, i) => store.create(of(a)).push(i + 1));
    const restored = new SignatureWindows('account', 10, 1, SEED);
    for (const [name, ring] of store.entries()) restored.restore(name, ring.toArray());
    expect(ACCOUNTS.map((a) => restored.find(of(a))?.toArray())).toEqual([[1], [2], [3]]);
  });
});

/**
 * A MARKET order and a priced one of the same account, symbol, side and quantity whose
 * signatures hash alike from seed 0: the price was found by working FNV back from the MARKET
 * signature's hash (each step multiplies by an odd prime, so it can be undone) and meeting the
 * low word's steps forward in the middle.
 */
describe('SignatureWindows: a MARKET and a priced signature that hash alike', () => {
  const PRICE = 447.0319231305331;
  const priced = () => order({ accountId: 'ACC-1', symbol: 'AAPL', side: 'BUY', quantity: 100, price: PRICE });
  const market = (): Order => {
    const { price: _price, ...rest } = order({ accountId: 'ACC-1', symbol: 'AAPL', side: 'BUY', quantity: 100, orderType: 'MARKET' });
    return rest;
  };

  it('the two hash alike from seed 0', () => {
    expect(signatureHash('ACC-1', 'AAPL', 'BUY', 100, PRICE, SEED)).toBe(signatureHash('ACC-1', 'AAPL', 'BUY', 100, undefined, SEED));
  });

  it('count apart: the one is never found for the other, in either order', () => {
    const store = new SignatureWindows('account', 10, 1, SEED);
    const ofMarket = store.create(market());
    expect(store.find(priced())).toBeUndefined();
    const ofPriced = store.create(priced());
    expect([store.size, store.hashCount]).toEqual([2, 1]);
    expect([store.find(market()), store.find(priced())]).toEqual([ofMarket, ofPriced]);

    const other = new SignatureWindows('account', 10, 1, SEED);
    other.create(priced());
    expect(other.find(market())).toBeUndefined();
  });
});
