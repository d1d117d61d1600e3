/**
 * Time enters the engine only through this interface, so tests drive it with a fake.
 * `now` is wall-clock epoch milliseconds, read once per check or batch (timestamps, windows,
 * expiry). `monotonic` is a high-resolution monotonic reading in milliseconds, used only to
 * test a request's deadline.
 */
export interface Clock {
  now(): number;
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

/** A deadline that never expires; the engine then skips every monotonic clock read. */
export const NO_DEADLINE = Number.POSITIVE_INFINITY;
