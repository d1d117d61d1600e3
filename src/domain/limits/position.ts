import type { Evaluator } from '../compiled-limit.js';

/** Worst-case net position if this order and every open order on its side fill. */
export const evaluatePosition: Evaluator = (limit, ctx) => {
  const e = ctx.exposureOf(limit.per);
  const position = e?.position ?? 0;
  return ctx.isBuy
    ? Math.abs(position + (e?.openBuy ?? 0) + ctx.quantity)
    : Math.abs(position - (e?.openSell ?? 0) - ctx.quantity);
};
