import { priceGap } from './rounding.js';
import { AVG_COST, OPEN_BUY, OPEN_SELL, POSITION, REALIZED, STRIDE } from './exposure-ledger.js';
import type { Exposure, ExposureGroup, ExposureLedger, SymbolMarket } from './exposure-ledger.js';
import { pageByKey } from './key-page.js';
import type { KeyPageQuery } from './key-page.js';

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
  /** One page of the account's positions, in symbol order. */
  positions: PositionView[];
  /** The page's last symbol, for `cursor`, when more follow; null on the last page. */
  nextCursor: string | null;
  /** The totals are over all the account's positions, not the page. */
  openOrders: number;
  /** Null when any held symbol has no mark: the total is then unknown. */
  grossNotional: number | null;
  realizedPnl: number;
  unrealizedPnl: number | null;
}

/**
 * A read model for ops: everything the account's limits see, computed on request. Views are
 * built for the page's positions only, chosen by pageByKey without sorting every symbol; the
 * totals are one walk over the group's packed rows, in row order as the limits add them.
 */
export function accountExposureView(ledger: ExposureLedger, accountId: string, now: number, maxReferenceAgeMs: number, page: KeyPageQuery): AccountExposure {
  const group = ledger.accounts.get(accountId);
  if (group === undefined) return { accountId, positions: [], nextCursor: null, openOrders: 0, grossNotional: 0, realizedPnl: 0, unrealizedPnl: 0 };
  const { items, nextCursor } = pageByKey(group.exposures, symbolOf, page);
  return {
    accountId,
    positions: items.map((exposure) => positionView(ledger, exposure, now, maxReferenceAgeMs)),
    nextCursor: nextCursor ?? null,
    openOrders: group.openCount,
    ...totals(ledger, group, now, maxReferenceAgeMs),
  };
}

const symbolOf = (exposure: Exposure): string => exposure.market.symbol;

/** What the views of all the group's positions add up to, without building them; null once a part is unknown. */
function totals(ledger: ExposureLedger, group: ExposureGroup, now: number, maxReferenceAgeMs: number): Pick<AccountExposure, 'grossNotional' | 'realizedPnl' | 'unrealizedPnl'> {
  const { rows, markets } = group;
  let grossNotional: number | null = 0;
  let realizedPnl = 0;
  let unrealizedPnl: number | null = 0;
  for (let slot = 0, base = 0; slot < markets.length; slot++, base += STRIDE) {
    const market = markets[slot]!;
    const position = rows[base + POSITION]!;
    const reference = ledger.freshReference(market, now, maxReferenceAgeMs);
    realizedPnl += rows[base + REALIZED]!;
    if (unrealizedPnl !== null) {
      const unrealized = unrealizedOf(position, rows[base + AVG_COST]!, reference);
      unrealizedPnl = unrealized === null ? null : unrealizedPnl + unrealized;
    }
    if (grossNotional !== null) {
      const gross = grossOf(position, rows[base + OPEN_BUY]!, rows[base + OPEN_SELL]!, markOf(market, reference));
      grossNotional = gross === null ? null : grossNotional + gross;
    }
  }
  return { grossNotional, realizedPnl, unrealizedPnl };
}

function positionView(ledger: ExposureLedger, e: Exposure, now: number, maxReferenceAgeMs: number): PositionView {
  const reference = ledger.freshReference(e.market, now, maxReferenceAgeMs);
  const mark = markOf(e.market, reference);
  return {
    symbol: e.market.symbol,
    quantity: e.position,
    avgPrice: e.avgCost,
    openBuyQuantity: e.openBuy,
    openSellQuantity: e.openSell,
    openBuyNotional: e.openBuyNotional,
    openSellNotional: e.openSellNotional,
    openOrders: e.openCount,
    markPrice: mark === mark ? mark : null,
    realizedPnl: e.realized,
    unrealizedPnl: unrealizedOf(e.position, e.avgCost, reference),
    grossNotional: grossOf(e.position, e.openBuy, e.openSell, mark),
  };
}

/** The fresh reference if there is one, else the last fill; NaN for neither. */
const markOf = (market: SymbolMarket, reference: number): number => (reference === reference ? reference : market.lastFillPrice);

/** At the fresh reference only; null without one (0 when flat). */
function unrealizedOf(position: number, avgCost: number, reference: number): number | null {
  return position === 0 ? 0 : reference === reference ? position * priceGap(reference, avgCost) : null;
}

/** max(|P + B|, |P − S|) × mark; null without a mark (0 when nothing is held or open). */
function grossOf(position: number, openBuy: number, openSell: number, mark: number): number | null {
  const worst = Math.max(Math.abs(position + openBuy), Math.abs(position - openSell));
  return worst === 0 ? 0 : mark === mark ? worst * mark : null;
}
