import { describe, expect, it } from 'vitest';
import { ClosedOrders } from '../../src/domain/closed-orders.js';

const closedAt = (at: number) => ({ strategyId: 'S', symbol: 'X', side: 'BUY' as const, closedAt: at });
const keys = (table: ClosedOrders) => table.entries().map(([key]) => key);

describe('ClosedOrders', () => {
  it('keeps orders oldest first and drops the oldest when full', () => {
    const table = new ClosedOrders(3);
    for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) table.remember(key, closedAt(i));
    expect(keys(table)).toEqual(['b', 'c', 'd']);
    expect(table.size).toBe(3);
    expect(table.get('a')).toBeUndefined();
    expect(table.oldestClosedAt).toBe(1);
  });

  it('moves an order closed again to the newest end with its new time, without dropping another', () => {
    const table = new ClosedOrders(3);
    for (const [i, key] of ['a', 'b', 'c'].entries()) table.remember(key, closedAt(i));
    table.remember('a', closedAt(9));
    expect(keys(table)).toEqual(['b', 'c', 'a']);
    expect(table.get('a')?.closedAt).toBe(9);
    expect(table.oldestClosedAt).toBe(1);
  });

  it('forgets from the oldest, and is empty after the last', () => {
    const table = new ClosedOrders(5);
    table.remember('a', closedAt(1));
    table.remember('b', closedAt(2));
    table.forgetOldest();
    expect(keys(table)).toEqual(['b']);
    table.forgetOldest();
    table.forgetOldest();
    expect([table.size, table.oldestClosedAt, keys(table)]).toEqual([0, undefined, []]);
    table.remember('c', closedAt(3));
    expect(keys(table)).toEqual(['c']);
  });

  it('stays at its capacity over any mix of new and repeated keys', () => {
    const table = new ClosedOrders(100);
    for (let i = 0; i < 10_000; i++) table.remember(`k${(i * 7919) % 250}`, closedAt(i));
    expect(table.size).toBe(100);
    expect(keys(table)).toHaveLength(100);
    const times = table.entries().map(([, c]) => c.closedAt);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
