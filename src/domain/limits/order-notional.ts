import type { Evaluator } from '../compiled-limit.js';

/** Quantity × effective price (the order's price, else the reference price). */
export const evaluateOrderNotional: Evaluator = (_limit, ctx) => {
  const price = ctx.effectivePrice;
  if (price !== price) return ctx.fail('NO_REFERENCE_PRICE');
  return ctx.quantity * price;
};
