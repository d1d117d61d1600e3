import type { CheckContext } from '../check-context.js';
import { isSymbolLevel } from '../check-context.js';
import type { Evaluator } from '../compiled-limit.js';
import type { Exposure } from '../exposure-ledger.js';

/**
 * Σ over the key's symbols of the worst-case absolute position (all open buys fill, or all
 * open sells fill) × mark, this order included. Any held symbol without a mark fails closed.
 */
export const evaluateGrossNotional: Evaluator = (limit, ctx) => {
  if (isSymbolLevel(limit.per)) return exposureNotional(ctx.exposureOf(limit.per), ctx);
  const group = ctx.groupOf(limit.per);
  let total = 0;
  let hasOwnSymbol = false;
  if (group !== undefined) {
    for (const exposure of group.bySymbol.values()) {
      if (exposure.market === ctx.market) hasOwnSymbol = true;
      total += exposureNotional(exposure, ctx);
    }
  }
  if (!hasOwnSymbol) total += exposureNotional(undefined, ctx);
  return total;
};

function exposureNotional(exposure: Exposure | undefined, ctx: CheckContext): number {
  const isOwn = exposure === undefined || exposure.market === ctx.market;
  const position = exposure?.position ?? 0;
  let buys = exposure?.openBuy ?? 0;
  let sells = exposure?.openSell ?? 0;
  if (isOwn) {
    if (ctx.isBuy) buys += ctx.quantity;
    else sells += ctx.quantity;
  }
  const worst = Math.max(Math.abs(position + buys), Math.abs(position - sells));
  if (worst === 0) return 0;
  const mark = isOwn ? ctx.markPrice : ctx.markOf(exposure.market);
  if (mark !== mark) return ctx.fail('NO_REFERENCE_PRICE');
  return worst * mark;
}
