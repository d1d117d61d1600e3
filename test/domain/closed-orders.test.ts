import { describe, expect, it } from 'vitest';
import { closedOrderIds, ClosedOrders } from '../../src/domain/closed-orders.js';
import { KEYS_PER_SHARD } from '../../src/domain/sharded-map.js';

const closedAt = (at: number) => ({ strategyId: 'S', symbol: 'X', side: 'BUY' as const, closedAt: at });
const keys = (table: ClosedOrders) => table.entries().map(([key]) => key);
const remember = (table: ClosedOrders, orderId: string, at: number, accountId = 'A') => table.remember(accountId, orderId, closedAt(at));

describe('ClosedOrders', () => {
  it('keeps orders oldest first and drops the oldest when full', () => {
    const table = new ClosedOrders(3);
    for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) remember(table, id, i);
    expect(keys(table)).toEqual(['A|b', 'A|c', 'A|d']);
    expect(table.size).toBe(3);
    expect(table.get('A', 'a')).toBeUndefined();
    expect(table.oldestClosedAt).toBe(1);
  });

  it('moves an order closed again to the newest end with its new time, without dropping another', () => {
    const table = new ClosedOrders(3);
    for (const [i, id] of ['a', 'b', 'c'].entries()) remember(table, id, i);
    remember(table, 'a', 9);
    expect(keys(table)).toEqual(['A|b', 'A|c', 'A|a']);
    expect(table.get('A', 'a')?.closedAt).toBe(9);
    expect(table.oldestClosedAt).toBe(1);
  });

  it('keeps one order id under two accounts apart, and drops an account with its last order', () => {
    const table = new ClosedOrders(3);
    remember(table, 'o', 1, 'A');
    remember(table, 'o', 2, 'B');
    expect([table.get('A', 'o')?.closedAt, table.get('B', 'o')?.closedAt, table.get('C', 'o')]).toEqual([1, 2, undefined]);
    expect(table.accountCount).toBe(2);
    table.forgetOldest();
    expect([table.get('A', 'o'), table.get('B', 'o')?.closedAt, table.accountCount]).toEqual([undefined, 2, 1]);
    // Full: the oldest (B's only order) goes as C's comes, and B's map with it.
    remember(table, 'p', 3, 'C');
    remember(table, 'q', 4, 'C');
    remember(table, 'r', 5, 'C');
    expect([keys(table), table.accountCount]).toEqual([['C|p', 'C|q', 'C|r'], 1]);
  });

  it('re-remembers the only order of an account in place, and forgets it once', () => {
    const table = new ClosedOrders(5);
    remember(table, 'a', 1);
    remember(table, 'a', 2);
    expect([table.get('A', 'a')?.closedAt, table.size, table.accountCount]).toEqual([2, 1, 1]);
    table.forgetOldest();
    expect([table.get('A', 'a'), table.size, table.accountCount]).toEqual([undefined, 0, 0]);
  });

  it('holds an account\'s single order as itself, a map from the second, and drops the account with its last', () => {
    const table = new ClosedOrders(10);
    remember(table, 'a', 1);
    expect(table.shardsOf('A')).toBe(0);
    remember(table, 'b', 2);
    expect([table.shardsOf('A'), table.get('A', 'a')?.closedAt, table.get('A', 'b')?.closedAt, table.get('A', 'c')]).toEqual([1, 1, 2, undefined]);
    table.forgetOldest();
    table.forgetOldest();
    expect([table.accountCount, table.shardsOf('A')]).toEqual([0, 0]);
  });

  it('finds every order of an account holding more than one map shard of them, its map sharded', () => {
    const table = new ClosedOrders(3 * KEYS_PER_SHARD);
    const n = 2 * KEYS_PER_SHARD + 7;
    for (let i = 0; i < n; i++) remember(table, `o${i}`, i);
    expect(table.shardsOf('A')).toBeGreaterThan(1);
    for (let i = 0; i < n; i += 97) expect(table.get('A', `o${i}`)?.closedAt).toBe(i);
    expect(table.get('A', `o${n}`)).toBeUndefined();
    for (let i = 0; i < n; i++) table.forgetOldest();
    expect([table.size, table.accountCount]).toEqual([0, 0]);
  });

  it('forgets from the oldest, and is empty after the last', () => {
    const table = new ClosedOrders(5);
    remember(table, 'a', 1);
    remember(table, 'b', 2);
    table.forgetOldest();
    expect(keys(table)).toEqual(['A|b']);
    table.forgetOldest();
    table.forgetOldest();
    expect([table.size, table.oldestClosedAt, keys(table), table.accountCount]).toEqual([0, undefined, [], 0]);
    remember(table, 'c', 3);
    expect(keys(table)).toEqual(['A|c']);
  });

  it('stays at its capacity over any mix of new and repeated orders and accounts', () => {
    const table = new ClosedOrders(100);
    for (let i = 0; i < 10_000; i++) remember(table, `k${(i * 7919) % 250}`, i, `A${i % 3}`);
    expect(table.size).toBe(100);
    expect(keys(table)).toHaveLength(100);
    const times = table.entries().map(([, c]) => c.closedAt);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('reads a snapshot key back as its two ids, and refuses one that is not account|order', () => {
    expect(closedOrderIds('ACC-1|o-7')).toEqual({ accountId: 'ACC-1', orderId: 'o-7' });
    for (const bad of ['ACC-1', '|o', 'ACC|', 'A|b|c']) expect(() => closedOrderIds(bad)).toThrow(/account\|order/);
  });
});
