/**
 * Time enters the engine only through this interface, so tests drive it with a fake.
 * `now` is wall-clock epoch milliseconds, read once per check or batch (timestamps, windows,
 * expiry). `monotonic` is a high-resolution monotonic reading in milliseconds, in which a
 * request's deadline is given.
 */
export interface Clock {
  now(): number;
  monotonic(): number;
  /**
   * Whether the monotonic clock has reached `deadline`: what the engine asks before each limit.
   * A boolean crosses the call as it is, where a returned reading is a double boxed on the heap
   * whenever the call is not inlined, as in the engine's large check it was not: 16 bytes a
   * read, about 420 of the ~3,800 bytes an order allocated in a batch of 100.
   */
  isPast(deadline: number): boolean;
}

/**
 * The system's monotonic clock, shared by the live engine and the warm-up engines: the engine's
 * call to `isPast` then meets one function, whichever engine runs, and can be inlined.
 */
export const systemMonotonic: Pick<Clock, 'monotonic' | 'isPast'> = {
  monotonic: () => performance.now(),
  isPast: (deadline) => performance.now() >= deadline,
};

export const systemClock: Clock = { now: () => Date.now(), ...systemMonotonic };

/** A deadline that never expires; the engine then skips every monotonic clock read. */
export const NO_DEADLINE = Number.POSITIVE_INFINITY;
