import type { ExposureLedger } from '../../src/domain/exposure-ledger.js';
import type { EngineConfig } from '../../src/domain/engine.js';
import { LimitEngine } from '../../src/domain/engine.js';
import type { Order } from '../../src/domain/orders.js';
import { FakeClock } from './fake-clock.js';

export const testConfig = (overrides: Partial<EngineConfig> = {}): EngineConfig => ({
  severityActions: { WARNING: 'ALERT', SOFT_BREACH: 'ALERT', HARD_BREACH: 'BLOCK', CRITICAL: 'HALT' },
  openOrderTtlMs: 60_000,
  maxReferenceAgeMs: 5_000,
  history: { capacity: 1_000, retentionMs: 3_600_000 },
  capacity: {
    maxOpenOrders: 10_000,
    maxPositions: 10_000,
    maxSymbols: 1_000,
    maxWindowKeys: 1_000,
    maxWindowEntries: 10_000,
    maxTradingStates: 100,
    maxActiveViolations: 1_000,
    maxSubscribers: 10,
    maxLimits: 100_000,
  },
  ...overrides,
});

export function makeEngine(limits: readonly unknown[], overrides: Partial<EngineConfig> = {}, clock = new FakeClock()) {
  return { engine: new LimitEngine(testConfig(overrides), clock, limits), clock };
}

let nextId = 1;
export const order = (fields: Partial<Order> = {}): Order => ({
  orderId: `o-${nextId++}`,
  accountId: 'ACC-1',
  strategyId: 'STRAT-1',
  symbol: 'AAPL',
  side: 'BUY',
  quantity: 100,
  price: 100,
  orderType: 'LIMIT',
  ...fields,
});

/** Whether an account holds an order id at `now`, found as the engine's check finds it. */
export const holdsOrderId = (ledger: ExposureLedger, accountId: string, orderId: string, now: number): boolean =>
  ledger.holdsId(ledger.orderById(ledger.accounts.get(accountId), accountId, orderId), now);
