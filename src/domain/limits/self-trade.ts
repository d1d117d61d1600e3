import type { Evaluator } from '../compiled-limit.js';

/**
 * 1 when the order would cross one of the key's own resting orders on the other side (a buy
 * at or above the lowest open sell, a sell at or below the highest open buy). A MARKET order
 * crosses any, with a price or without (it executes at whatever the other side offers); a
 * resting MARKET order is crossed by any order on the other side (it rests at ±Infinity for
 * this: see OpenOrder.crossingPrice).
 */
export const evaluateSelfTrade: Evaluator = (limit, ctx) => {
  const exposure = ctx.exposureOf(limit.per);
  if (exposure?.hasOrders !== true) return 0;
  const price = ctx.order.orderType === 'MARKET' ? Number.NaN : ctx.orderPrice;
  if (ctx.isBuy) {
    const lowestSell = exposure.lowestOpenSell;
    return lowestSell !== Number.POSITIVE_INFINITY && (price !== price || price >= lowestSell) ? 1 : 0;
  }
  const highestBuy = exposure.highestOpenBuy;
  return highestBuy !== Number.NEGATIVE_INFINITY && (price !== price || price <= highestBuy) ? 1 : 0;
};
