import type { Evaluator } from '../compiled-limit.js';
import { isRounding } from '../rounding.js';

/**
 * Worst-case net position if this order and every open order on its side fill. Landing on flat
 * up to rounding (covering a short of 0.1 + 0.2 with 0.3) is flat, as for REDUCE_ONLY.
 */
export const evaluatePosition: Evaluator = (limit, ctx) => {
  const e = ctx.exposureOf(limit.per);
  const position = e?.position ?? 0;
  const flow = ctx.quantity + (e === undefined ? 0 : ctx.isBuy ? e.openBuy : e.openSell);
  const after = ctx.isBuy ? position + flow : position - flow;
  return isRounding(after, Math.max(Math.abs(position), flow)) ? 0 : Math.abs(after);
};
