import type { CheckContext } from '../check-context.js';
import type { CompiledLimit } from '../compiled-limit.js';

/** Shared by the windowed kinds: counts the key's window and remembers it for the reservation. */
export function countInWindow(limit: CompiledLimit, ctx: CheckContext, key: string): number {
  const ring = limit.windows.get(key);
  if (ring === undefined && limit.windows.size >= ctx.maxWindowKeys) return ctx.fail('CAPACITY_EXCEEDED');
  ctx.windowOwners.push(limit);
  ctx.windowKeys.push(key);
  ctx.windowRings.push(ring);
  return (ring === undefined ? 0 : ring.countAfter(ctx.now - limit.windowMs)) + 1;
}
