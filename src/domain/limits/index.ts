import type { LimitKind } from '../enums.js';
import type { StoringEvaluator } from '../compiled-limit.js';
import { evaluateDailyLoss } from './daily-loss.js';
import { evaluateDuplicateOrder } from './duplicate-order.js';
import { evaluateGrossNotional } from './gross-notional.js';
import { evaluateOpenOrders } from './open-orders.js';
import { evaluateOrderNotional } from './order-notional.js';
import { evaluateOrderQuantity } from './order-quantity.js';
import { evaluateOrderRate } from './order-rate.js';
import { evaluatePosition } from './position.js';
import { evaluatePriceDeviation } from './price-deviation.js';
import { evaluateRestricted } from './restricted.js';
import { evaluateSelfTrade } from './self-trade.js';

/**
 * `value` limits are fed by callers (POST /v1/limits/{id}/evaluate), never by orders. Each kind's
 * evaluator is wrapped in a function of its own: its call inside is then to one target, which the
 * compiler can inline, so the value reaches `ctx.value` unboxed (see StoringEvaluator). One
 * factory making the wrappers would share one call site between every kind.
 */
export const EVALUATORS: Readonly<Record<Exclude<LimitKind, 'value'>, StoringEvaluator>> = Object.freeze({
  order_quantity: (limit, ctx) => {
    ctx.value = evaluateOrderQuantity(limit, ctx);
  },
  order_notional: (limit, ctx) => {
    ctx.value = evaluateOrderNotional(limit, ctx);
  },
  price_deviation: (limit, ctx) => {
    ctx.value = evaluatePriceDeviation(limit, ctx);
  },
  position: (limit, ctx) => {
    ctx.value = evaluatePosition(limit, ctx);
  },
  gross_notional: (limit, ctx) => {
    ctx.value = evaluateGrossNotional(limit, ctx);
  },
  open_orders: (limit, ctx) => {
    ctx.value = evaluateOpenOrders(limit, ctx);
  },
  order_rate: (limit, ctx) => {
    ctx.value = evaluateOrderRate(limit, ctx);
  },
  duplicate_order: (limit, ctx) => {
    ctx.value = evaluateDuplicateOrder(limit, ctx);
  },
  daily_loss: (limit, ctx) => {
    ctx.value = evaluateDailyLoss(limit, ctx);
  },
  restricted: (limit, ctx) => {
    ctx.value = evaluateRestricted(limit, ctx);
  },
  self_trade: (limit, ctx) => {
    ctx.value = evaluateSelfTrade(limit, ctx);
  },
});

/** `value` limits: never evaluated for an order (they are not indexed); NaN if they were. */
export const evaluateNothing: StoringEvaluator = (_limit, ctx) => {
  ctx.value = Number.NaN;
};
