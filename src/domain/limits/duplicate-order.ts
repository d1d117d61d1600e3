import type { Evaluator } from '../compiled-limit.js';
import { localKey } from '../keys.js';
import { countInWindow } from './windows.js';

/** Accepted orders on the key with the same symbol, side, quantity and price in the window, this one included. */
export const evaluateDuplicateOrder: Evaluator = (limit, ctx) => {
  const o = ctx.order;
  const signature = `${localKey(limit.per, o)}|${o.symbol}|${o.side}|${o.quantity}|${o.price ?? 'MKT'}`;
  return countInWindow(limit, ctx, signature);
};
