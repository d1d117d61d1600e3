import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LimitEngine } from '../src/domain/engine.js';
import { startSweeper } from '../src/sweeper.js';

// Fake immediates run on the next advance of the fake clock: each 1 ms step below is a turn.
beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setImmediate', 'clearImmediate'] }));
afterEach(() => vi.useRealTimers());

describe('the sweeper', () => {
  it('sweeps every interval, and again on the next turns while a sweep says more is due', () => {
    let calls = 0;
    const engine = { sweep: () => ++calls % 4 !== 0 } as unknown as LimitEngine;
    const sweeper = startSweeper(engine, 1_000);
    try {
      vi.advanceTimersByTime(999);
      expect(calls).toBe(0);
      const seen: number[] = [];
      for (let turn = 0; turn < 6; turn++) {
        vi.advanceTimersByTime(1);
        seen.push(calls);
      }
      // The interval's sweep and three more, one a turn: the fourth found nothing more due.
      expect(seen).toEqual([1, 2, 3, 4, 4, 4]);
      vi.advanceTimersByTime(994);
      expect(calls).toBe(4);
      vi.advanceTimersByTime(1);
      expect(calls).toBe(5);
    } finally {
      sweeper.stop();
    }
  });

  it('starts no second chain while one runs, and stop() ends both', () => {
    let calls = 0;
    const engine = { sweep: () => (calls++, true) } as unknown as LimitEngine;
    const sweeper = startSweeper(engine, 10);
    vi.advanceTimersByTime(10);
    for (let turn = 0; turn < 20; turn++) vi.advanceTimersByTime(1);
    // One chain, one sweep a turn, however many intervals passed meanwhile.
    expect(calls).toBe(21);
    sweeper.stop();
    vi.advanceTimersByTime(100);
    expect(calls).toBe(21);
  });
});
