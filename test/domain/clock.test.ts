import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/domain/clock.js';

describe('systemClock', () => {
  it('tells a deadline already reached, the instant of a reading included, from one still ahead', () => {
    expect(systemClock.isPast(Number.NEGATIVE_INFINITY)).toBe(true);
    const reading = systemClock.monotonic();
    // The monotonic clock never goes back: a deadline at an earlier reading has been reached.
    expect(systemClock.isPast(reading)).toBe(true);
    expect(systemClock.isPast(systemClock.monotonic() + 60_000)).toBe(false);
    expect(systemClock.isPast(Number.POSITIVE_INFINITY)).toBe(false);
  });

  it('reads the monotonic clock in milliseconds, as deadlines are given', () => {
    const before = performance.now();
    const reading = systemClock.monotonic();
    expect(reading).toBeGreaterThanOrEqual(before);
    expect(reading).toBeLessThan(performance.now() + 1);
  });
});
