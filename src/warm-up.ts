import { systemMonotonic } from './domain/clock.js';
import type { EngineConfig } from './domain/engine.js';
import { LimitEngine } from './domain/engine.js';
import type { LimitDefinition } from './domain/limit-definition.js';
import type { Order } from './domain/orders.js';

const WARM_UP_ORDERS = 5_000;

/**
 * Runs the check path on a scratch engine with the real book until V8 has optimised it, so
 * the first real orders do not pay for compilation (review ISSUE-3015). The live engine's
 * state is not touched.
 */
export function warmUp(config: EngineConfig, limits: readonly LimitDefinition[]): void {
  let wall = Date.now();
  const scratch = new LimitEngine(config, { now: () => wall, ...systemMonotonic }, limits);
  const accounts = pick(limits, (l) => l.scope?.accounts, 'WARM-ACC');
  const symbols = pick(limits, (l) => l.scope?.symbols, 'WARM-SYM');
  scratch.setReferencePrices(symbols.map((symbol) => ({ symbol, price: 100 })));
  for (let i = 0; i < WARM_UP_ORDERS; i++) {
    const order: Order = {
      orderId: `warm-${i}`,
      accountId: accounts[i % accounts.length]!,
      strategyId: 'WARM-STRAT',
      symbol: symbols[i % symbols.length]!,
      side: i % 2 === 0 ? 'BUY' : 'SELL',
      quantity: 1 + (i % 7),
      price: 100 + (i % 5),
      orderType: 'LIMIT',
    };
    scratch.checkOrder(order, performance.now() + 1_000);
    if (i % 3 === 0) scratch.applyExecutions([{ type: 'CANCEL', accountId: order.accountId, orderId: order.orderId }]);
    wall += 1;
  }
}

function pick(limits: readonly LimitDefinition[], ids: (l: LimitDefinition) => readonly string[] | undefined, fallback: string): string[] {
  const found = new Set<string>([fallback]);
  for (const limit of limits) for (const id of ids(limit) ?? []) if (found.size < 50) found.add(id);
  return [...found];
}
