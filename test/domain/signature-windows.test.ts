/**
 * SignatureWindows keeps duplicate_order's windows in columns; before, each signature was a
 * TimeRing object (RingSignatureWindows, kept in test/support as the reference). Random streams
 * of what the engine does to a store (find, create and push, trim, take back, drop, sweep with
 * budgets and a clock that steps back, snapshot and restore) go through both, and every step must
 * agree: what is found and what it counts, sweeps' results, and the entries in push order, which
 * sweeps walk and snapshots hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Order } from '../../src/domain/orders.js';
import { SignatureWindows } from '../../src/domain/signature-windows.js';
import type { WindowRing, WindowStore } from '../../src/domain/window-store.js';
import { order } from '../support/engine-fixtures.js';
import { RingSignatureWindows } from '../support/ring-signature-windows.js';

/** The first three hash alike for (AAPL, BUY, 100, 10) from seed 0, so chains form (see window-store-chains.test.ts). */
const ACCOUNTS = ['ACC-36679', 'ACC-1877440', 'ACC-4643004', 'ACC-1'];
const SEED = 0;
const SIGNATURES: Order[] = [];
for (const accountId of ACCOUNTS) {
  for (const symbol of ['AAPL', 'MSFT']) {
    for (const side of ['BUY', 'SELL'] as const) {
      for (const quantity of [100, 7]) {
        for (const price of [10, 10.5, undefined]) SIGNATURES.push(order({ accountId, symbol, side, quantity, price }));
      }
    }
  }
}

type Step =
  | { kind: 'accept'; signature: number; advance: number }
  | { kind: 'takeBack'; signature: number; back: number; isNew: boolean }
  | { kind: 'sweep'; advance: number; budget: number }
  | { kind: 'stepBack'; by: number }
  | { kind: 'restore' };

/** Half the time one of the first twelve, so that signatures repeat: duplicates, rings, take-backs of what was accepted. */
const signature = fc.oneof(fc.nat(11), fc.nat(SIGNATURES.length - 1));
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('accept' as const), signature, advance: fc.nat(4) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('takeBack' as const), signature, back: fc.nat(3), isNew: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sweep' as const), advance: fc.nat(8), budget: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stepBack' as const), by: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restore' as const }) },
);

const listed = (store: WindowStore): [string, number[]][] => Array.from(store.entries(), ([name, ring]) => [name, ring.toArray()]);
const counts = (store: WindowStore, cutoff: number): (number[] | undefined)[] =>
  SIGNATURES.map((o) => {
    const ring = store.find(o);
    return ring === undefined ? undefined : [ring.size, ring.countAfter(cutoff), ring.newest];
  });

/** As the engine enters an accepted order's window (enterWindow): trim the found ring, or make one, then push. */
function accept(store: WindowStore, o: Order, at: number, windowMs: number): void {
  const found = store.find(o);
  found?.trim(at - windowMs);
  (found ?? store.create(o)).push(at);
}

/**
 * As an atomic batch takes an order back (LimitEngine.takeBack): trim, take its entry out, drop
 * the key if the order made it and it is now empty. A key it found stays, empty or not.
 */
function takeBack(store: WindowStore, o: Order, now: number, acceptedAt: number, windowMs: number, isNew: boolean): void {
  const ring: WindowRing | undefined = store.find(o);
  if (ring === undefined) return;
  ring.trim(now - windowMs);
  ring.removeNewest(acceptedAt);
  if (isNew && ring.size === 0) store.drop(o, ring);
}

function restored(from: WindowStore, make: () => WindowStore): WindowStore {
  const store = make();
  for (const [name, times] of listed(from)) store.restore(name, times);
  return store;
}

/** Stores whose signatures all hash alike: one chain of signatures that differ in any field. */
class CollidingColumns extends SignatureWindows {
  protected override hashOf(): number {
    return 1;
  }
}
class CollidingRings extends RingSignatureWindows {
  protected override hashOf(): number {
    return 1;
  }
}

function run(steps: readonly Step[], maxEntries: number, windowMs: number, colliding = false): void {
  const makeColumns = () => (colliding ? new CollidingColumns('account', maxEntries, windowMs) : new SignatureWindows('account', maxEntries, windowMs, SEED));
  const makeRings = () => (colliding ? new CollidingRings('account', maxEntries, windowMs) : new RingSignatureWindows('account', maxEntries, windowMs, SEED));
  let columns: WindowStore = makeColumns();
  let rings: WindowStore = makeRings();
  let now = 1_000;
  const accepted: number[][] = SIGNATURES.map(() => []);
  for (const s of steps) {
    switch (s.kind) {
      case 'accept':
        now += s.advance;
        for (const store of [columns, rings]) accept(store, SIGNATURES[s.signature]!, now, windowMs);
        accepted[s.signature]!.push(now);
        break;
      case 'takeBack': {
        const times = accepted[s.signature]!;
        const acceptedAt = times[times.length - 1 - s.back] ?? now;
        for (const store of [columns, rings]) takeBack(store, SIGNATURES[s.signature]!, now, acceptedAt, windowMs, s.isNew);
        break;
      }
      case 'sweep': {
        now += s.advance;
        const fromColumns = { count: 0 };
        const fromRings = { count: 0 };
        expect(columns.sweep(now - windowMs, s.budget, fromColumns)).toBe(rings.sweep(now - windowMs, s.budget, fromRings));
        expect(fromColumns.count).toBe(fromRings.count);
        break;
      }
      case 'stepBack':
        now -= s.by;
        break;
      case 'restore':
        columns = restored(columns, makeColumns);
        rings = restored(rings, makeRings);
        break;
    }
    expect(columns.size).toBe(rings.size);
    // A free entry keeps no text of the signature it counted.
    expect((columns as SignatureWindows).textsHeld).toBe(columns.size);
    expect(listed(columns)).toEqual(listed(rings));
    expect(counts(columns, now - windowMs)).toEqual(counts(rings, now - windowMs));
  }
}

describe('SignatureWindows against the ring-per-signature store it replaced', () => {
  it('agrees at every step of random streams: finds, counts, sweeps (budgets, clock steps back), take-backs, restores', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 20, maxLength: 150 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom(4, 10, 25), (steps, maxEntries, windowMs) =>
        run(steps, maxEntries, windowMs),
      ),
      { numRuns: 300 },
    );
  });

  it('agrees when every signature hashes alike: one chain of signatures unlike in any field', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 20, maxLength: 100 }), fc.integer({ min: 1, max: 3 }), (steps, maxEntries) => run(steps, maxEntries, 10, true)),
      { numRuns: 150 },
    );
  });

  it('agrees over a long stream that fills and reuses more than a chunk of entries', () => {
    const many: Order[] = Array.from({ length: 6_000 }, (_, i) => order({ accountId: ACCOUNTS[i % 4]!, quantity: 1 + i }));
    const columns = new SignatureWindows('account', 3, 50, SEED);
    const rings = new RingSignatureWindows('account', 3, 50, SEED);
    let now = 0;
    for (let round = 0; round < 3; round++) {
      for (const o of many) {
        now += 0.01;
        for (const store of [columns, rings]) accept(store, o, now, 50);
      }
      // Repeats of every tenth signature, then a sweep that takes part of them.
      for (let i = 0; i < many.length; i += 10) for (const store of [columns, rings]) accept(store, many[i]!, now, 50);
      now += 40;
      expect(columns.sweep(now - 50, 2_500)).toBe(rings.sweep(now - 50, 2_500));
      expect(listed(columns)).toEqual(listed(rings));
    }
    expect(columns.chunkCount).toBe(2);
  });

  it('a view kept past its entry\'s removal writes nothing: the store, its push order and its sweeps stay as the rings\' do', () => {
    const [a, b] = [SIGNATURES[0]!, SIGNATURES[5]!];
    const stores: WindowStore[] = [new SignatureWindows('account', 3, 10, SEED), new RingSignatureWindows('account', 3, 10, SEED)];
    const results = stores.map((store) => {
      store.create(a).push(1);
      store.create(b).push(8);
      const stale = store.find(a)!;
      const swept = store.sweep(5, 10);
      stale.push(9);
      return [swept, store.size, listed(store), store.sweep(20, 10), store.size];
    });
    expect(results[0]).toEqual(results[1]);
    expect(results[0]).toEqual([1, 1, [['ACC-36679|AAPL|BUY|7|MKT', [8]]], 1, 0]);
  });
});

describe('SignatureWindows chunks', () => {
  it('makes its first chunk small and doubles it up to 4,096 entries before making a second; a store made again after clear() starts small', () => {
    const store = new SignatureWindows('account', 3, 1_000, SEED);
    expect([store.chunkCount, store.capacity]).toEqual([0, 0]);
    const make = (n: number, from: number) => {
      for (let i = from; i < from + n; i++) store.create(order({ quantity: 1 + i })).push(1);
    };
    make(1, 0);
    expect([store.chunkCount, store.capacity]).toEqual([1, 16]);
    make(16, 1);
    expect([store.chunkCount, store.capacity]).toEqual([1, 32]);
    make(4_096 - 17, 17);
    expect([store.chunkCount, store.capacity]).toEqual([1, 4_096]);
    make(1, 4_096);
    expect([store.chunkCount, store.capacity, store.size]).toEqual([2, 8_192, 4_097]);
    // Entries made before a doubling are found, with their times, after it.
    expect(store.find(order({ quantity: 1 }))?.toArray()).toEqual([1]);
    store.clear();
    expect([store.chunkCount, store.capacity, store.size]).toEqual([0, 0, 0]);
    make(2, 0);
    expect([store.chunkCount, store.capacity, listed(store).length]).toEqual([1, 16, 2]);
  });
});
