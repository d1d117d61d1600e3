import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closedOrderIds, ClosedOrders } from '../../src/domain/closed-orders.js';
import { ExposureLedger } from '../../src/domain/exposure-ledger.js';
import type { ClosedHandle } from '../../src/domain/closed-orders.js';

/** Entries a chunk holds (see closed-orders.ts): the tests cross its edges. */
const CHUNK = 4096;

function listOf(capacity: number, handleBits?: number) {
  const forgotten: string[] = [];
  const list: ClosedOrders = new ClosedOrders(capacity, (h) => forgotten.push(`${list.accountIdOf(h)}|${list.orderIdOf(h)}`), handleBits);
  const add = (orderId: string, at: number, accountId = 'A'): ClosedHandle => list.add(accountId, orderId, 'S', 'X', 'BUY', at);
  const keys = () => list.entries().map(([key]) => key);
  return { list, forgotten, add, keys };
}

describe('ClosedOrders', () => {
  it('lists orders oldest first and, full, forgets the oldest to make room, telling onForget', () => {
    const { list, forgotten, add, keys } = listOf(3);
    for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) add(id, i);
    expect(keys()).toEqual(['A|b', 'A|c', 'A|d']);
    expect([list.size, list.oldestClosedAt, forgotten]).toEqual([3, 1, ['A|a']]);
  });

  it('reads back every field of an entry by its handle, and snapshots them', () => {
    const { list } = listOf(5);
    const buy = list.add('ACC-1', 'o-1', 'STRAT-1', 'AAPL', 'BUY', 10);
    const sell = list.add('ACC-2', 'o-2', 'STRAT-2', 'MSFT', 'SELL', 11.5);
    expect([list.accountIdOf(sell), list.orderIdOf(sell), list.strategyIdOf(sell), list.symbolOf(sell), list.sideOf(sell), list.closedAtOf(sell)]).toEqual(['ACC-2', 'o-2', 'STRAT-2', 'MSFT', 'SELL', 11.5]);
    expect(list.sideOf(buy)).toBe('BUY');
    expect(list.entries()).toEqual([
      ['ACC-1|o-1', { strategyId: 'STRAT-1', symbol: 'AAPL', side: 'BUY', closedAt: 10 }],
      ['ACC-2|o-2', { strategyId: 'STRAT-2', symbol: 'MSFT', side: 'SELL', closedAt: 11.5 }],
    ]);
  });

  it('forgets from the oldest, telling onForget each, and is empty after the last', () => {
    const { list, forgotten, add, keys } = listOf(5);
    add('a', 1);
    add('b', 2, 'B');
    list.forgetOldest();
    expect([keys(), forgotten]).toEqual([['B|b'], ['A|a']]);
    list.forgetOldest();
    list.forgetOldest();
    expect([list.size, list.oldestClosedAt, keys(), forgotten]).toEqual([0, undefined, [], ['A|a', 'B|b']]);
    const c = add('c', 3);
    expect([keys(), list.orderIdOf(c)]).toEqual([['A|c'], 'c']);
  });

  it('lists an id twice when it closes again (after its window), and forgets the older first', () => {
    const { list, forgotten, add, keys } = listOf(5);
    add('x', 1);
    add('x', 9);
    expect(keys()).toEqual(['A|x', 'A|x']);
    list.forgetOldest();
    expect([list.size, list.oldestClosedAt, forgotten]).toEqual([1, 9, ['A|x']]);
  });

  it('takes an entry out anywhere in the list without telling onForget, and keeps no text of it', () => {
    const { list, forgotten, add, keys } = listOf(5);
    const [a, b, c] = [add('a', 1), add('b', 2), add('c', 3)];
    list.remove(b);
    expect([list.orderIdOf(b), list.accountIdOf(b)]).toEqual(['', '']);
    list.remove(a);
    expect([keys(), list.size, list.oldestClosedAt, forgotten]).toEqual([['A|c'], 1, 3, []]);
    list.remove(b);
    expect(list.size).toBe(1);
    list.remove(c);
    expect([keys(), list.size, list.oldestClosedAt]).toEqual([[], 0, undefined]);
  });

  it('stays at its capacity over any number of orders, oldest first, and a clear tells no one', () => {
    const { list, forgotten, add } = listOf(100);
    for (let i = 0; i < 10_000; i++) add(`k${(i * 7919) % 250}`, i, `A${i % 3}`);
    expect([list.size, list.entries().length, forgotten.length]).toEqual([100, 100, 9_900]);
    const times = list.entries().map(([, c]) => c.closedAt);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    list.clear();
    expect([list.size, list.oldestClosedAt, list.chunkCount, forgotten.length]).toEqual([0, undefined, 0, 9_900]);
  });

  it('holds chunks for the orders it keeps only: made as the newest end needs them, let go of as the oldest end passes', () => {
    const { list, add } = listOf(10 * CHUNK);
    const handles = Array.from({ length: 3 * CHUNK + 1 }, (_, i) => add(`o${i}`, i));
    expect(list.chunkCount).toBe(4);
    for (let i = 0; i < 2 * CHUNK; i++) list.forgetOldest();
    expect([list.chunkCount, list.size, list.oldestClosedAt]).toEqual([2, CHUNK + 1, 2 * CHUNK]);
    // Out of turn: nothing is let go of until the oldest end passes them.
    for (let i = 3 * CHUNK; i > 2 * CHUNK; i--) list.remove(handles[i]!);
    expect([list.chunkCount, list.size]).toEqual([2, 1]);
    list.remove(handles[2 * CHUNK]!);
    expect([list.chunkCount, list.size, list.oldestClosedAt]).toEqual([0, 0, undefined]);
    const next = add('again', 1);
    expect([list.chunkCount, list.orderIdOf(next), list.entries().length]).toEqual([1, 'again', 1]);
  });

  it('forgets the oldest when entries taken out of turn leave the held handles spanning twice its capacity', () => {
    const { list, forgotten, add } = listOf(4);
    add('old', 0);
    for (let i = 1; i <= 7; i++) list.remove(add(`gone${i}`, i));
    expect([list.size, forgotten]).toEqual([1, []]);
    add('new', 9);
    expect([forgotten, list.entries().map(([key]) => key)]).toEqual([['A|old'], ['A|new']]);
  });

  it('answers as a plain list of records does, over random adds, forgets and removals across chunk edges and handles wrapping', () => {
    type Step = { op: 'add'; id: number } | { op: 'forget' } | { op: 'remove'; pick: number };
    const step = fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('add' as const), id: fc.nat(50) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('forget' as const) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }) },
    );
    // 14 bits of handle (four chunks' worth) wrap every 16,384 adds; 30, the default, never here.
    const sized = fc.oneof(fc.tuple(fc.constant(14), fc.integer({ min: 1, max: 6_000 })), fc.tuple(fc.constant(30), fc.integer({ min: 1, max: 3 * CHUNK })));
    fc.assert(
      fc.property(sized, fc.array(fc.tuple(step, fc.integer({ min: 1, max: CHUNK })), { maxLength: 40 }), ([handleBits, capacity], steps: [Step, number][]) => {
        const { list, forgotten, add } = listOf(capacity, handleBits);
        const model: { handle: ClosedHandle; key: string; at: number }[] = [];
        const modelForgotten: string[] = [];
        let at = 0;
        let newest = -1;
        // Handles from the oldest held to the newest, removed ones between included.
        const span = (): number => (model.length === 0 ? 0 : (newest + 1 - model[0]!.handle) & (2 ** handleBits - 1));
        for (const [s, times] of steps) {
          for (let t = 0; t < (s.op === 'add' ? times : 1); t++) {
            if (s.op === 'add') {
              const id = `o${s.id}-${at}`;
              // A full list forgets its oldest; so does one whose out-of-turn removals span twice its capacity.
              while (model.length > 0 && (model.length >= capacity || span() >= 2 * capacity)) modelForgotten.push(model.shift()!.key);
              newest = add(id, at);
              model.push({ handle: newest, key: `A|${id}`, at });
              at++;
            } else if (s.op === 'forget') {
              list.forgetOldest();
              const gone = model.shift();
              if (gone !== undefined) modelForgotten.push(gone.key);
            } else if (model.length > 0) {
              const [gone] = model.splice(s.pick % model.length, 1);
              list.remove(gone!.handle);
            }
          }
          expect(list.entries().map(([key, c]) => [key, c.closedAt])).toEqual(model.map((m) => [m.key, m.at]));
          expect([list.size, list.oldestClosedAt]).toEqual([model.length, model[0]?.at]);
          for (const m of model) expect([`A|${list.orderIdOf(m.handle)}`, list.closedAtOf(m.handle)]).toEqual([m.key, m.at]);
          expect(new Set(model.map((m) => m.handle)).size).toBe(model.length);
          expect(forgotten).toEqual(modelForgotten);
          expect(list.chunkCount).toBeLessThanOrEqual(Math.ceil((2 * capacity) / CHUNK) + 1);
        }
      }),
      { numRuns: Number(process.env.FC_NUM_RUNS ?? 40) },
    );
  });

  it('wraps its handles: an entry keeps its fields however many came before it', () => {
    const { list, add } = listOf(5, 14);
    let last = -1;
    for (let i = 0; i < 3 * 16_384; i++) {
      last = add(`o${i}`, i);
      if (i % 3 === 0) list.forgetOldest();
    }
    expect(last).toBeLessThan(16_384);
    // Full, it keeps the five newest.
    const newest = Array.from({ length: 5 }, (_, k) => 3 * 16_384 - 5 + k);
    expect(list.entries().map(([key, c]) => [key, c.closedAt])).toEqual(newest.map((i) => [`A|o${i}`, i]));
    expect([list.orderIdOf(last), list.closedAtOf(last)]).toEqual([`o${3 * 16_384 - 1}`, 3 * 16_384 - 1]);
    expect(() => new ClosedOrders(6_200, () => undefined, 14)).toThrow(/cannot hold twice a capacity/);
  });

  it('reads a snapshot key back as its two ids, and refuses one that is not account|order', () => {
    expect(closedOrderIds('ACC-1|o-7')).toEqual({ accountId: 'ACC-1', orderId: 'o-7' });
    for (const bad of ['ACC-1', '|o', 'ACC|', 'A|b|c']) expect(() => closedOrderIds(bad)).toThrow(/account\|order/);
  });
});

describe('ClosedOrders in the ledger', () => {
  // A table finds a closed order's handle by the id it reads through the handle: the order taking
  // the id must be put in its place before the entry is cleared, or the handle stays behind.
  it('puts an order that takes an id after its window in the closed entry\'s place, leaving no handle behind', () => {
    const ledger = new ExposureLedger({ maxOpenOrders: 4, maxPositions: 50, maxSymbols: 10 }, 1_000, 10);
    ledger.reserve('x', 'A', 'S', 'X', 'BUY', 1, 1, false, 0);
    ledger.release('A', 'x', 0);
    ledger.reserve('k', 'A', 'S', 'X', 'BUY', 1, 1, false, 0);
    // x's window is over, its entry not yet forgotten (forgetting is budgeted): the order takes it out.
    ledger.reserve('x', 'A', 'S', 'X', 'SELL', 2, 1, false, 20);
    expect(ledger.closedOrderCount).toBe(0);
    const byId = ledger.accounts.get('A')!.ordersById!;
    expect([byId.size, [...byId.keys()].sort()]).toEqual([2, ['k', 'x']]);
    ledger.release('A', 'x', 20);
    expect([byId.size, typeof ledger.orderById(ledger.accounts.get('A'), 'A', 'x')]).toEqual([2, 'number']);
    expect(ledger.capture().closed.map(([key]) => key)).toEqual(['A|x']);
    ledger.forgetClosed(30, Number.POSITIVE_INFINITY);
    expect([ledger.closedOrderCount, byId.size, ledger.orderById(ledger.accounts.get('A'), 'A', 'x')]).toEqual([0, 1, undefined]);
  });
});
