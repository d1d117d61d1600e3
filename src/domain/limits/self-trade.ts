import type { Evaluator } from '../compiled-limit.js';

/**
 * 1 when the order would cross one of the key's own resting orders on the other side (a buy
 * at or above the lowest open sell, a sell at or below the highest open buy). A MARKET order
 * without a price crosses any.
 */
export const evaluateSelfTrade: Evaluator = (limit, ctx) => {
  const exposure = ctx.exposureOf(limit.per);
  if (exposure?.orders === undefined) return 0;
  const opposite = ctx.isBuy ? 'SELL' : 'BUY';
  const price = ctx.orderPrice;
  for (const resting of exposure.orders) {
    if (resting.side !== opposite) continue;
    if (price !== price) return 1;
    if (ctx.isBuy ? price >= resting.price : price <= resting.price) return 1;
  }
  return 0;
};
