import type { CheckContext } from '../check-context.js';
import { GROSS_WALK, isSymbolLevel } from '../check-context.js';
import type { Evaluator } from '../compiled-limit.js';
import type { Exposure, ExposureGroup } from '../exposure-ledger.js';
import { OPEN_BUY, OPEN_SELL, POSITION, STRIDE } from '../exposure-ledger.js';
import { BOUND_MARGIN } from '../walk-bounds.js';

/**
 * Σ over the key's symbols of the worst-case absolute position (all open buys fill, or all
 * open sells fill) × mark, this order included. Any held symbol without a mark fails closed.
 */
export const evaluateGrossNotional: Evaluator = (limit, ctx) => {
  if (isSymbolLevel(limit.per)) {
    const e = ctx.exposureOf(limit.per);
    return e === undefined ? worstNotional(0, 0, 0, ctx.markPrice, true, ctx) : exposureNotional(e, ctx);
  }
  const group = ctx.groupOf(limit.per);
  if (group === undefined) return worstNotional(0, 0, 0, ctx.markPrice, true, ctx);
  const known = ctx.walkResult(GROSS_WALK, limit.per);
  if (known !== undefined) return known === known ? known : ctx.fail('NO_REFERENCE_PRICE');
  const version = ctx.boundsVersion();
  if (group.boundsAt === version) {
    const upper = boundedNotional(group, ctx.ownExposureIn(limit.per), ctx);
    // Clean at the bound, so clean: the walk would find no more (NaN compares false and walks).
    if (upper + upper * BOUND_MARGIN <= limit.cleanBound) return upper;
  }
  const total = groupNotional(group, ctx);
  if (group.needsRestamp(version)) group.restampBounds(version);
  return ctx.keepWalkResult(GROSS_WALK, limit.per, total);
};

/**
 * At least the group walk's total, from the group's bound sums: every row at its symbol's bound
 * mark, plus the order's own symbol exactly as the walk takes it (NaN where the walk would fail).
 * The own row's term in the sums stays: prices are positive, so every term is at least 0.
 */
function boundedNotional(group: ExposureGroup, own: Exposure | undefined, ctx: CheckContext): number {
  let buys = own === undefined ? 0 : own.openBuy;
  let sells = own === undefined ? 0 : own.openSell;
  const position = own === undefined ? 0 : own.position;
  if (ctx.isBuy) buys += ctx.quantity;
  else sells += ctx.quantity;
  const worst = Math.max(position + buys, sells - position);
  return group.grossUpper + group.grossSlack + (worst === 0 ? 0 : worst * ctx.markPrice);
}

function exposureNotional(e: Exposure, ctx: CheckContext): number {
  const isOwn = e.market === ctx.market;
  return worstNotional(e.position, e.openBuy, e.openSell, isOwn ? ctx.markPrice : ctx.markOf(e.market), isOwn, ctx);
}

/**
 * A walk over the group's packed rows: the hot loop of an account-level limit. The order's
 * own symbol is taken out and added once, with the order in it.
 */
function groupNotional(group: ExposureGroup, ctx: CheckContext): number {
  const { rows, markets } = group;
  const own = ctx.market;
  let total = 0;
  let ownBase = -1;
  for (let slot = 0, base = 0; slot < markets.length; slot++, base += STRIDE) {
    const market = markets[slot]!;
    if (market === own) {
      ownBase = base;
      continue;
    }
    const position = rows[base + POSITION]!;
    // max(|P + B|, |P − S|) with B, S ≥ 0 is max(P + B, S − P), the same floating-point values;
    // one Math.max instead of two abs and a branch the sign of each position makes unpredictable.
    const worst = Math.max(position + rows[base + OPEN_BUY]!, rows[base + OPEN_SELL]! - position);
    if (worst === 0) continue;
    const mark = ctx.markOf(market);
    if (mark !== mark) return ctx.fail('NO_REFERENCE_PRICE');
    total += worst * mark;
  }
  if (ownBase < 0) return total + worstNotional(0, 0, 0, ctx.markPrice, true, ctx);
  return total + worstNotional(rows[ownBase + POSITION]!, rows[ownBase + OPEN_BUY]!, rows[ownBase + OPEN_SELL]!, ctx.markPrice, true, ctx);
}

function worstNotional(position: number, buys: number, sells: number, mark: number, isOwn: boolean, ctx: CheckContext): number {
  if (isOwn) {
    if (ctx.isBuy) buys += ctx.quantity;
    else sells += ctx.quantity;
  }
  // As in the walk: buys and sells stay ≥ 0 with the order in them.
  const worst = Math.max(position + buys, sells - position);
  if (worst === 0) return 0;
  if (mark !== mark) return ctx.fail('NO_REFERENCE_PRICE');
  return worst * mark;
}
