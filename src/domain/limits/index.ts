import type { LimitKind } from '../enums.js';
import type { Evaluator } from '../compiled-limit.js';
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

/** `value` limits are fed by callers (POST /v1/limits/{id}/evaluate), never by orders. */
export const EVALUATORS: Readonly<Record<Exclude<LimitKind, 'value'>, Evaluator>> = Object.freeze({
  order_quantity: evaluateOrderQuantity,
  order_notional: evaluateOrderNotional,
  price_deviation: evaluatePriceDeviation,
  position: evaluatePosition,
  gross_notional: evaluateGrossNotional,
  open_orders: evaluateOpenOrders,
  order_rate: evaluateOrderRate,
  duplicate_order: evaluateDuplicateOrder,
  daily_loss: evaluateDailyLoss,
  restricted: evaluateRestricted,
  self_trade: evaluateSelfTrade,
});
