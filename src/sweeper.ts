import type { LimitEngine } from './domain/engine.js';

/**
 * Sweeps the engine every `intervalMs`; a sweep that left keys due (it drops at most
 * SWEEP_BUDGET) is followed by another on the next turn of the event loop, until none are:
 * a burst's keys go a slice at a time, with requests served in between.
 */
export function startSweeper(engine: LimitEngine, intervalMs: number): { stop(): void } {
  let again: NodeJS.Immediate | undefined;
  const sweep = (): void => {
    again = engine.sweep() ? setImmediate(sweep) : undefined;
  };
  const timer = setInterval(() => {
    if (again === undefined) sweep();
  }, intervalMs);
  timer.unref();
  return {
    stop(): void {
      clearInterval(timer);
      if (again !== undefined) clearImmediate(again);
      again = undefined;
    },
  };
}
