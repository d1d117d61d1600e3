import { describe, expect, it } from 'vitest';
import { SparePool } from '../../src/domain/spare-pool.js';

describe('SparePool', () => {
  it('keeps an item only while the spares are fewer than the items in use', () => {
    const pool = new SparePool<string>();
    pool.keep('a', 2);
    pool.keep('b', 2);
    pool.keep('c', 2);
    expect(pool.size).toBe(2);
    pool.keep('d', 0);
    expect(pool.size).toBe(2);
  });

  it('hands back the last kept first, then undefined when empty', () => {
    const pool = new SparePool<string>();
    pool.keep('a', 5);
    pool.keep('b', 5);
    expect([pool.take(), pool.take(), pool.take()]).toEqual(['b', 'a', undefined]);
  });

  it('trims to the items in use, keeping those kept first', () => {
    const pool = new SparePool<string>();
    for (const item of ['a', 'b', 'c']) pool.keep(item, 5);
    pool.trimTo(5);
    expect(pool.size).toBe(3);
    pool.trimTo(1);
    expect([pool.size, pool.take(), pool.take()]).toEqual([1, 'a', undefined]);
  });

  it('is empty after clear', () => {
    const pool = new SparePool<string>();
    pool.keep('a', 5);
    pool.clear();
    expect([pool.size, pool.take()]).toEqual([0, undefined]);
  });
});
