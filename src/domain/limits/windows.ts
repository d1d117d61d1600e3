import type { CheckContext } from '../check-context.js';
import type { CompiledLimit } from '../compiled-limit.js';
import { localKey } from '../keys.js';
import type { Order } from '../orders.js';

/** The window an order counts in: its aggregation key, plus its signature for duplicate_order. */
export function windowKeyOf(limit: CompiledLimit, o: Order): string {
  const key = localKey(limit.per, o);
  return limit.kind === 'duplicate_order' ? `${key}|${o.symbol}|${o.side}|${o.quantity}|${o.price ?? 'MKT'}` : key;
}

/** Shared by the windowed kinds: counts the key's window and remembers it for the reservation. */
export function countInWindow(limit: CompiledLimit, ctx: CheckContext, key: string): number {
  const ring = limit.windows.get(key);
  if (ring === undefined && limit.windows.size >= ctx.maxWindowKeys) return ctx.fail('CAPACITY_EXCEEDED');
  ctx.windowOwners.push(limit);
  ctx.windowKeys.push(key);
  ctx.windowRings.push(ring);
  return (ring === undefined ? 0 : ring.countAfter(ctx.now - limit.windowMs)) + 1;
}
