import type { Clock } from '../src/domain/clock.js';

/**
 * Simulated time: the bench advances it at a fixed offered rate, so windows, reference ages
 * and TTLs hold the same amount of state however fast or slow the machine runs.
 */
export class SimClock implements Clock {
  constructor(public wall: number) {}

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.wall;
  }

  isPast(deadline: number): boolean {
    return this.wall >= deadline;
  }

  advance(ms: number): void {
    this.wall += ms;
  }
}
