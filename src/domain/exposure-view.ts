import { priceGap } from './rounding.js';
import type { Exposure, ExposureLedger } from './exposure-ledger.js';

export interface PositionView {
  symbol: string;
  quantity: number;
  avgPrice: number;
  openBuyQuantity: number;
  openSellQuantity: number;
  openBuyNotional: number;
  openSellNotional: number;
  openOrders: number;
  /** Reference if fresh, else last fill; null when the symbol has no mark. */
  markPrice: number | null;
  realizedPnl: number;
  /** At the fresh reference only, as daily_loss counts it; null without one (0 when flat). */
  unrealizedPnl: number | null;
  /** max(|P + B|, |P − S|) × mark, as gross_notional counts it; null without a mark. */
  grossNotional: number | null;
}

export interface AccountExposure {
  accountId: string;
  positions: PositionView[];
  openOrders: number;
  /** Null when any held symbol has no mark: the total is then unknown. */
  grossNotional: number | null;
  realizedPnl: number;
  unrealizedPnl: number | null;
}

/** A read model for ops: everything the account's limits see, computed on request. */
export function accountExposureView(ledger: ExposureLedger, accountId: string, now: number, maxReferenceAgeMs: number): AccountExposure {
  const group = ledger.accounts.get(accountId);
  const positions = group === undefined ? [] : [...group.bySymbol.values()].map((e) => positionView(ledger, e, now, maxReferenceAgeMs));
  positions.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  return {
    accountId,
    positions,
    openOrders: group?.openCount ?? 0,
    grossNotional: sumOrNull(positions.map((p) => p.grossNotional)),
    realizedPnl: positions.reduce((sum, p) => sum + p.realizedPnl, 0),
    unrealizedPnl: sumOrNull(positions.map((p) => p.unrealizedPnl)),
  };
}

function positionView(ledger: ExposureLedger, e: Exposure, now: number, maxReferenceAgeMs: number): PositionView {
  const reference = ledger.freshReference(e.market, now, maxReferenceAgeMs);
  const mark = reference === reference ? reference : e.market.lastFillPrice;
  const hasMark = mark === mark;
  const worst = Math.max(Math.abs(e.position + e.openBuy), Math.abs(e.position - e.openSell));
  return {
    symbol: e.market.symbol,
    quantity: e.position,
    avgPrice: e.avgCost,
    openBuyQuantity: e.openBuy,
    openSellQuantity: e.openSell,
    openBuyNotional: e.openBuyNotional,
    openSellNotional: e.openSellNotional,
    openOrders: e.openCount,
    markPrice: hasMark ? mark : null,
    realizedPnl: e.realized,
    unrealizedPnl: e.position === 0 ? 0 : reference === reference ? e.position * priceGap(reference, e.avgCost) : null,
    grossNotional: worst === 0 ? 0 : hasMark ? worst * mark : null,
  };
}

function sumOrNull(values: readonly (number | null)[]): number | null {
  let total = 0;
  for (const value of values) {
    if (value === null) return null;
    total += value;
  }
  return total;
}
