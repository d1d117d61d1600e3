import type { ExecutionOutcome, LimitEngine } from '../../src/domain/engine.js';
import type { Exposure } from '../../src/domain/exposure-ledger.js';
import type { Order } from '../../src/domain/orders.js';
import { order } from './engine-fixtures.js';

/** Checks an order and fails the test unless it was accepted; returns the order for later executions. */
export function accepted(engine: LimitEngine, fields: Partial<Order> = {}): Order {
  const o = order(fields);
  const result = engine.checkOrder(o);
  if (result.decision !== 'ACCEPT') throw new Error(`expected ACCEPT for ${o.orderId}, got ${result.reasons.join(',')}`);
  return o;
}

export function fill(engine: LimitEngine, o: Order, quantity = o.quantity, price = o.price ?? 0): ExecutionOutcome {
  return engine.applyExecutions([{ type: 'FILL', accountId: o.accountId, orderId: o.orderId, quantity, price }])[0]!;
}

export function cancel(engine: LimitEngine, o: Order, type: 'CANCEL' | 'REJECT' | 'EXPIRE' = 'CANCEL'): ExecutionOutcome {
  return engine.applyExecutions([{ type, accountId: o.accountId, orderId: o.orderId }])[0]!;
}

/** Builds a filled position the way production does: accept an order, then fill it entirely. */
export function traded(engine: LimitEngine, fields: Partial<Order>, fillPrice?: number): Order {
  const o = accepted(engine, fields);
  fill(engine, o, o.quantity, fillPrice ?? o.price ?? 0);
  return o;
}

export function setReference(engine: LimitEngine, prices: Readonly<Record<string, number>>): void {
  engine.setReferencePrices(Object.entries(prices).map(([symbol, price]) => ({ symbol, price })));
}

export function accountExposure(engine: LimitEngine, accountId = 'ACC-1', symbol = 'AAPL'): Exposure | undefined {
  return engine.ledger.heldExposure(engine.ledger.accounts.get(accountId), symbol);
}

export function strategyExposure(engine: LimitEngine, strategyId = 'STRAT-1', symbol = 'AAPL'): Exposure | undefined {
  return engine.ledger.heldExposure(engine.ledger.strategies.get(strategyId), symbol);
}

export function firmExposure(engine: LimitEngine, symbol = 'AAPL'): Exposure | undefined {
  return engine.ledger.heldExposure(engine.ledger.firm, symbol);
}
