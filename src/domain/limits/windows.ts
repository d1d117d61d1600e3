import type { CheckContext } from '../check-context.js';
import type { CompiledLimit } from '../compiled-limit.js';

/**
 * Shared by the windowed kinds: counts the order's window and remembers it for the reservation.
 * A ring holds at least the entries its window counts (aged-out ones wait for the next trim), so
 * when even all it holds plus this order is clean, that is the value: a clean value is only
 * compared with the limit's clean bound, and the check reads none of the ring's entries (a busy
 * key's window is thousands of entries, its oldest in a cache line no recent check touched).
 */
export function countInWindow(limit: CompiledLimit, ctx: CheckContext): number {
  const ring = limit.windows.find(ctx.order);
  if (ring === undefined && limit.windows.size >= ctx.maxWindowKeys) return ctx.fail('CAPACITY_EXCEEDED');
  ctx.addWindow(limit, ring);
  if (ring === undefined) return 1;
  const held = ring.size + 1;
  return held <= limit.cleanBound ? held : ring.countAfter(ctx.now - limit.windowMs) + 1;
}
