import type { Evaluator } from '../compiled-limit.js';

/**
 * Price collar: distance of the order's price from the reference, in basis points. Without a
 * fresh reference the limit rejects unless it was configured with `missingReference: allow`,
 * MARKET orders included: a market order sent while market data is missing is what a collar
 * is for. A MARKET order without a price trades at the market, so it deviates by 0.
 */
export const evaluatePriceDeviation: Evaluator = (limit, ctx) => {
  const reference = ctx.reference;
  if (reference !== reference) return limit.allowsMissingReference ? 0 : ctx.fail('NO_REFERENCE_PRICE');
  const price = ctx.orderPrice;
  if (price !== price) return 0;
  return (Math.abs(price - reference) / reference) * 10_000;
};
