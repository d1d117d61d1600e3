import type { CheckContext } from '../check-context.js';
import type { CompiledLimit } from '../compiled-limit.js';

/** Shared by the windowed kinds: counts the order's window and remembers it for the reservation. */
export function countInWindow(limit: CompiledLimit, ctx: CheckContext): number {
  const ring = limit.windows.find(ctx.order);
  if (ring === undefined && limit.windows.size >= ctx.maxWindowKeys) return ctx.fail('CAPACITY_EXCEEDED');
  ctx.addWindow(limit, ring);
  return (ring === undefined ? 0 : ring.countAfter(ctx.now - limit.windowMs)) + 1;
}
