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
  | { kind: 'takeBack'; signature: number; back: number }
  | { kind: 'sweep'; advance: number; budget: number }
  | { kind: 'stepBack'; by: number }
  | { kind: 'restore' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('accept' as const), signature: fc.nat(SIGNATURES.length - 1), advance: fc.nat(4) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('takeBack' as const), signature: fc.nat(SIGNATURES.length - 1), back: fc.nat(3) }) },
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

/** As an atomic batch takes an order back (LimitEngine.takeBack): trim, take its entry out, drop the key if it made it and it is empty. */
function takeBack(store: WindowStore, o: Order, now: number, acceptedAt: number, windowMs: number): void {
  const ring: WindowRing | undefined = store.find(o);
  if (ring === undefined) return;
  ring.trim(now - windowMs);
  ring.removeNewest(acceptedAt);
  if (ring.size === 0) store.drop(o, ring);
}

function restored(from: WindowStore, make: () => WindowStore): WindowStore {
  const store = make();
  for (const [name, times] of listed(from)) store.restore(name, times);
  return store;
}

function run(steps: readonly Step[], maxEntries: number, windowMs: number): void {
  const makeColumns = () => new SignatureWindows('account', maxEntries, windowMs, SEED);
  const makeRings = () => new RingSignatureWindows('account', maxEntries, windowMs, SEED);
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
        for (const store of [columns, rings]) takeBack(store, SIGNATURES[s.signature]!, now, acceptedAt, windowMs);
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
    expect(listed(columns)).toEqual(listed(rings));
    expect(counts(columns, now - windowMs)).toEqual(counts(rings, now - windowMs));
  }
}

describe('SignatureWindows against the ring-per-signature store it replaced', () => {
  it('agrees at every step of random streams: finds, counts, sweeps (budgets, clock steps back), take-backs, restores', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom(4, 10, 25), (steps, maxEntries, windowMs) =>
        run(steps, maxEntries, windowMs),
      ),
      { numRuns: 300 },
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
});
