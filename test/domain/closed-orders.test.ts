import { describe, expect, it } from 'vitest';
import { ClosedOrder, closedOrderIds, ClosedOrders } from '../../src/domain/closed-orders.js';

const entry = (orderId: string, at: number, accountId = 'A') => new ClosedOrder(accountId, orderId, 'S', 'X', 'BUY', at);

function listOf(capacity: number) {
  const forgotten: string[] = [];
  const list = new ClosedOrders(capacity, (e) => forgotten.push(`${e.accountId}|${e.orderId}`));
  const keys = () => list.entries().map(([key]) => key);
  return { list, forgotten, keys };
}

describe('ClosedOrders', () => {
  it('lists orders oldest first and, full, forgets the oldest to make room, telling onForget', () => {
    const { list, forgotten, keys } = listOf(3);
    for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) list.add(entry(id, i));
    expect(keys()).toEqual(['A|b', 'A|c', 'A|d']);
    expect([list.size, list.oldestClosedAt, forgotten]).toEqual([3, 1, ['A|a']]);
  });

  it('forgets from the oldest, telling onForget each, and is empty after the last', () => {
    const { list, forgotten, keys } = listOf(5);
    list.add(entry('a', 1));
    list.add(entry('b', 2, 'B'));
    list.forgetOldest();
    expect([keys(), forgotten]).toEqual([['B|b'], ['A|a']]);
    list.forgetOldest();
    list.forgetOldest();
    expect([list.size, list.oldestClosedAt, keys(), forgotten]).toEqual([0, undefined, [], ['A|a', 'B|b']]);
    list.add(entry('c', 3));
    expect(keys()).toEqual(['A|c']);
  });

  it('lists an id twice when it closes again (after its window), and forgets the older first', () => {
    const { list, forgotten, keys } = listOf(5);
    const older = entry('x', 1);
    list.add(older);
    list.add(entry('x', 9));
    expect(keys()).toEqual(['A|x', 'A|x']);
    list.forgetOldest();
    expect([list.size, list.oldestClosedAt, forgotten]).toEqual([1, 9, ['A|x']]);
    expect([older.older, older.newer]).toEqual([undefined, undefined]);
  });

  it('takes an entry out anywhere in the list without telling onForget', () => {
    const { list, forgotten, keys } = listOf(5);
    const [a, b, c] = [entry('a', 1), entry('b', 2), entry('c', 3)];
    for (const e of [a, b, c]) list.add(e);
    list.remove(b);
    list.remove(a);
    expect([keys(), list.size, list.oldestClosedAt, forgotten]).toEqual([['A|c'], 1, 3, []]);
    list.remove(c);
    expect([keys(), list.size, list.oldestClosedAt]).toEqual([[], 0, undefined]);
  });

  it('stays at its capacity over any number of orders, oldest first, and a clear tells no one', () => {
    const { list, forgotten } = listOf(100);
    for (let i = 0; i < 10_000; i++) list.add(entry(`k${(i * 7919) % 250}`, i, `A${i % 3}`));
    expect([list.size, list.entries().length, forgotten.length]).toEqual([100, 100, 9_900]);
    const times = list.entries().map(([, c]) => c.closedAt);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    list.clear();
    expect([list.size, list.oldestClosedAt, forgotten.length]).toEqual([0, undefined, 9_900]);
  });

  it('reads a snapshot key back as its two ids, and refuses one that is not account|order', () => {
    expect(closedOrderIds('ACC-1|o-7')).toEqual({ accountId: 'ACC-1', orderId: 'o-7' });
    for (const bad of ['ACC-1', '|o', 'ACC|', 'A|b|c']) expect(() => closedOrderIds(bad)).toThrow(/account\|order/);
  });
});
