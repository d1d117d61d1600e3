import { isSymbolLevel } from '../check-context.js';
import type { Evaluator } from '../compiled-limit.js';

/** Open orders on the key, this one included. */
export const evaluateOpenOrders: Evaluator = (limit, ctx) => {
  const open = isSymbolLevel(limit.per) ? ctx.exposureOf(limit.per)?.openCount : ctx.groupOf(limit.per)?.openCount;
  return (open ?? 0) + 1;
};
