import type { Evaluator } from '../compiled-limit.js';

/**
 * Price collar: distance of the order's price from the reference, in basis points. A MARKET
 * order without a price has nothing to deviate. Without a fresh reference the limit rejects
 * unless it was configured with `missingReference: allow`.
 */
export const evaluatePriceDeviation: Evaluator = (limit, ctx) => {
  const price = ctx.orderPrice;
  if (price !== price) return 0;
  const reference = ctx.reference;
  if (reference !== reference) return limit.allowsMissingReference ? 0 : ctx.fail('NO_REFERENCE_PRICE');
  return (Math.abs(price - reference) / reference) * 10_000;
};
