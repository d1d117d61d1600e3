import type { Clock } from '../../src/domain/clock.js';

/** A clock that moves only when told; `monotonicStep` advances it on every deadline read. */
export class FakeClock implements Clock {
  wall: number;
  mono = 0;
  monotonicReads = 0;

  constructor(
    start = Date.UTC(2026, 10, 25, 14, 30),
    private readonly monotonicStep = 0,
  ) {
    this.wall = start;
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    this.monotonicReads++;
    const value = this.mono;
    this.mono += this.monotonicStep;
    return value;
  }

  /** A deadline test is a monotonic read (counted, and stepping the clock). */
  isPast(deadline: number): boolean {
    return this.monotonic() >= deadline;
  }

  advance(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }
}
