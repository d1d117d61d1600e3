import type { Evaluator } from '../compiled-limit.js';

/** The order's own size. */
export const evaluateOrderQuantity: Evaluator = (_limit, ctx) => ctx.quantity;
