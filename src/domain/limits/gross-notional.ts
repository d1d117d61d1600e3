import type { CheckContext } from '../check-context.js';
import { GROSS_WALK, isSymbolLevel } from '../check-context.js';
import type { Evaluator } from '../compiled-limit.js';
import type { Exposure, ExposureGroup } from '../exposure-ledger.js';
import { OPEN_BUY, OPEN_SELL, POSITION, STRIDE } from '../exposure-ledger.js';
import { EDIT_ROUNDING, roundingMargin } from '../walk-bounds.js';

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
    if (upper + upper * roundingMargin(group.markets.length) <= limit.cleanBound) return upper;
  }
  const total = groupNotional(group, ctx);
  if (group.needsRestamp(version)) group.restampBounds(version);
  return ctx.keepWalkResult(GROSS_WALK, limit.per, total);
};

/**
 * At least the group walk's total, from the group's bound sums: every row but the order's own
 * symbol at its bound mark, and the own symbol exactly as the walk takes it, with the order (NaN
 * where the walk fails on it; an unmarked other row is an infinite term). Taking the own row's
 * term back out rounds by at most a unit in the last place of the sum, added to the slack.
 */
function boundedNotional(group: ExposureGroup, own: Exposure | undefined, ctx: CheckContext): number {
  let others = group.grossUpper + group.grossSlack;
  let buys = 0;
  let sells = 0;
  let position = 0;
  if (own !== undefined) {
    buys = own.openBuy;
    sells = own.openSell;
    position = own.position;
    const held = Math.max(position + buys, sells - position);
    if (held !== 0) others = others - held * own.market.grossMark + group.grossUpper * EDIT_ROUNDING;
  }
  if (ctx.isBuy) buys += ctx.quantity;
  else sells += ctx.quantity;
  const worst = Math.max(position + buys, sells - position);
  return others + (worst === 0 ? 0 : worst * ctx.markPrice);
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
