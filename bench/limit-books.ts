import { ORDER_LIMIT_KINDS } from '../src/domain/enums.js';
import type { LimitDefinition } from '../src/domain/limit-definition.js';
import type { World } from './engine-fixture.js';

/**
 * The ~20 limits every bench order meets: firm-wide rules of every order-checked kind, then
 * rules scoped to every strategy, symbol or venue. Thresholds sit far above what the flow
 * produces, so orders ACCEPT and reserve. gross_notional and daily_loss per account walk all
 * 100 of the account's symbols: the two costly evaluations, kept in because real books have them.
 */
export function applicableLimits(world: World): LimitDefinition[] {
  const all = { strategies: world.strategies };
  return [
    // The first ten form the 10-limit book.
    { id: 'max-order-qty', kind: 'order_quantity', thresholds: { warn: 50_000, hard: 1_000_000 } },
    { id: 'max-order-notional', kind: 'order_notional', thresholds: { warn: 5e6, hard: 5e7 } },
    { id: 'price-collar', kind: 'price_deviation', thresholds: { warn: 300, hard: 500 } },
    { id: 'position-acct-sym', kind: 'position', thresholds: { hard: 1e9 } },
    { id: 'gross-acct', kind: 'gross_notional', per: 'account', thresholds: { warn: 1e13, hard: 1e14 } },
    { id: 'open-orders-acct', kind: 'open_orders', per: 'account', thresholds: { hard: 10_000 } },
    { id: 'rate-strategy', kind: 'order_rate', per: 'strategy', windowMs: 1_000, thresholds: { hard: 100_000 } },
    { id: 'duplicates', kind: 'duplicate_order', windowMs: 1_000, thresholds: { hard: 5 } },
    { id: 'daily-loss-acct', kind: 'daily_loss', per: 'account', thresholds: { warn: 1e13, hard: 1e14 } },
    { id: 'self-trade', kind: 'self_trade', thresholds: { hard: 0 } },
    { id: 'position-firm-sym', kind: 'position', per: 'symbol', thresholds: { hard: 1e12 } },
    { id: 'open-orders-sym', kind: 'open_orders', per: 'symbol', thresholds: { hard: 1_000_000 } },
    { id: 'strategy-order-qty', kind: 'order_quantity', scope: all, per: 'strategy', thresholds: { hard: 1_000_000 } },
    { id: 'venue-notional', kind: 'order_notional', scope: { venues: world.venues }, thresholds: { hard: 1e8 } },
    { id: 'position-strat-sym', kind: 'position', scope: { symbols: world.symbols }, per: 'strategy+symbol', thresholds: { hard: 1e12 } },
    { id: 'open-orders-strategy', kind: 'open_orders', scope: all, per: 'strategy', thresholds: { hard: 1_000_000 } },
    { id: 'rate-acct', kind: 'order_rate', scope: { venues: world.venues }, per: 'account', windowMs: 1_000, thresholds: { hard: 1_000 } },
    { id: 'symbol-collar', kind: 'price_deviation', scope: { symbols: world.symbols }, per: 'symbol', thresholds: { hard: 1_000 } },
    { id: 'gross-acct-sym', kind: 'gross_notional', scope: { symbols: world.symbols }, per: 'account+symbol', thresholds: { hard: 1e12 } },
    { id: 'daily-loss-acct-sym', kind: 'daily_loss', scope: all, per: 'account+symbol', thresholds: { hard: 1e12 } },
  ];
}

const KINDS = ORDER_LIMIT_KINDS;

/** Limits on accounts, strategies, symbols and venues the flow never uses: they must cost nothing. */
export function inapplicableLimits(count: number): LimitDefinition[] {
  const limits: LimitDefinition[] = [];
  for (let i = 0; i < count; i++) {
    const kind = KINDS[i % KINDS.length]!;
    const dimension = i % 5;
    const scope =
      dimension < 2
        ? { accounts: [`NX-ACC-${i}`, `NX-ACC-${i + 1}`] }
        : dimension === 2
          ? { strategies: [`NX-STRAT-${i}`] }
          : dimension === 3
            ? { symbols: [`NX-SYM-${i}`] }
            : { venues: [`NX-VENUE-${i}`] };
    const isWindowed = kind === 'order_rate' || kind === 'duplicate_order';
    limits.push({
      id: `nx-${i}`,
      kind,
      scope,
      thresholds: { hard: kind === 'restricted' || kind === 'self_trade' ? 0 : 1_000 },
      ...(isWindowed ? { windowMs: 1_000 } : {}),
    });
  }
  return limits;
}

export function limitBook(size: number, world: World): LimitDefinition[] {
  const applicable = applicableLimits(world);
  if (size <= applicable.length) return applicable.slice(0, size);
  return [...applicable, ...inapplicableLimits(size - applicable.length)];
}
