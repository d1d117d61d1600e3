import { isSymbolLevel, LOSS_WALK } from '../check-context.js';
import type { CheckContext } from '../check-context.js';
import type { Aggregation } from '../enums.js';
import type { Evaluator } from '../compiled-limit.js';
import { NOT_APPLICABLE } from '../compiled-limit.js';
import type { ExposureGroup, SymbolMarket } from '../exposure-ledger.js';
import { AVG_COST, COLD_STRIDE, FLAT_COST, POSITION, REALIZED, STRIDE } from '../exposure-ledger.js';
import { priceGap } from '../rounding.js';
import { roundingMargin } from '../walk-bounds.js';

/**
 * Loss since the session start, realized plus unrealized at the fresh reference, as a positive
 * number; a held position without a fresh reference fails closed (CheckContext.referenceOf).
 * It stops only orders that add to the position: cutting risk is always allowed.
 */
export const evaluateDailyLoss: Evaluator = (limit, ctx) => {
  if (ctx.isReducing) return NOT_APPLICABLE;
  let pnl = 0;
  if (isSymbolLevel(limit.per)) {
    const e = ctx.exposureOf(limit.per);
    if (e !== undefined) pnl = positionPnl(e.position, e.avgCost, e.realized, e.flatCost, e.market, ctx);
  } else {
    const group = ctx.groupOf(limit.per);
    if (group !== undefined) pnl = memoisedGroupPnl(limit.per, limit.cleanBound, group, ctx);
  }
  if (pnl !== pnl) return pnl;
  return pnl < 0 ? -pnl : 0;
};

function memoisedGroupPnl(per: Aggregation, cleanBound: number, group: ExposureGroup, ctx: CheckContext): number {
  const known = ctx.walkResult(LOSS_WALK, per);
  if (known !== undefined) return known === known ? known : ctx.fail('NO_REFERENCE_PRICE');
  const version = ctx.boundsVersion();
  if (group.boundsAt === version) {
    // The least P&L the bounds allow, less rounding: clean there, so clean (NaN compares false and walks).
    const lowest = group.lossLower - group.lossSlack - group.lossScale * roundingMargin(group.markets.length);
    if (Math.max(0, -lowest) <= cleanBound) return lowest;
  }
  const pnl = groupPnl(group, ctx);
  if (group.needsRestamp(version)) group.restampBounds(version);
  return ctx.keepWalkResult(LOSS_WALK, per, pnl);
}

/** A walk over the group's packed rows, as gross_notional's; a flat row's leftover basis is in `cold`. */
function groupPnl(group: ExposureGroup, ctx: CheckContext): number {
  const { rows, cold, markets } = group;
  let pnl = 0;
  for (let slot = 0, base = 0; slot < markets.length; slot++, base += STRIDE) {
    const position = rows[base + POSITION]!;
    if (position === 0) {
      pnl += rows[base + REALIZED]! - cold[slot * COLD_STRIDE + FLAT_COST]!;
      continue;
    }
    const mark = ctx.referenceOf(markets[slot]!);
    if (mark !== mark) return ctx.fail('NO_REFERENCE_PRICE');
    pnl += rows[base + REALIZED]! + position * priceGap(mark, rows[base + AVG_COST]!);
  }
  return pnl;
}

function positionPnl(position: number, avgCost: number, realized: number, flatCost: number, market: SymbolMarket, ctx: CheckContext): number {
  if (position === 0) return realized - flatCost;
  const mark = ctx.referenceOf(market);
  if (mark !== mark) return ctx.fail('NO_REFERENCE_PRICE');
  return realized + position * priceGap(mark, avgCost);
}
