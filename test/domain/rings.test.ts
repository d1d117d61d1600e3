import { describe, expect, it } from 'vitest';
import { Ring } from '../../src/domain/ring.js';
import { TimeRing } from '../../src/domain/time-ring.js';

describe('TimeRing', () => {
  it('counts only entries strictly newer than the cutoff', () => {
    const ring = new TimeRing(100);
    for (const at of [10, 20, 30]) ring.push(at);
    expect([ring.countAfter(9), ring.countAfter(10), ring.countAfter(30)]).toEqual([3, 2, 0]);
  });

  it('grows past its initial storage up to maxEntries without losing entries', () => {
    const ring = new TimeRing(20);
    for (let at = 1; at <= 20; at++) ring.push(at);
    expect([ring.size, ring.countAfter(10)]).toEqual([20, 10]);
  });

  it('overwrites the oldest entry once maxEntries is reached', () => {
    const ring = new TimeRing(3);
    for (let at = 1; at <= 5; at++) ring.push(at);
    expect([ring.size, ring.countAfter(2), ring.countAfter(3)]).toEqual([3, 3, 2]);
  });

  it('removes only the newest entry with the given time on removeNewest', () => {
    const ring = new TimeRing(10);
    for (const at of [1, 2, 2, 3]) ring.push(at);
    ring.removeNewest(2);
    expect(ring.toArray()).toEqual([1, 2, 3]);
    ring.removeNewest(7);
    expect(ring.toArray()).toEqual([1, 2, 3]);
  });

  it('removes across the wrap-around of its storage', () => {
    const ring = new TimeRing(4);
    for (let at = 1; at <= 6; at++) ring.push(at);
    ring.removeNewest(4);
    expect(ring.toArray()).toEqual([3, 5, 6]);
  });

  it('keeps counting correctly after wrapping around its storage', () => {
    const ring = new TimeRing(4);
    for (let at = 1; at <= 4; at++) ring.push(at);
    ring.countAfter(2);
    ring.push(5);
    ring.push(6);
    expect([ring.size, ring.countAfter(4)]).toEqual([4, 2]);
  });
});

describe('Ring', () => {
  it('returns the dropped oldest item when pushing into a full ring', () => {
    const ring = new Ring<number>(2);
    ring.push(1);
    ring.push(2);
    expect(ring.push(3)).toBe(1);
    expect([ring.at(0), ring.at(1), ring.length]).toEqual([2, 3, 2]);
  });

  it('shifts items oldest first', () => {
    const ring = new Ring<string>(40);
    for (let i = 0; i < 20; i++) ring.push(`i${i}`);
    expect([ring.shift(), ring.peekOldest(), ring.length]).toEqual(['i0', 'i1', 19]);
  });
});
