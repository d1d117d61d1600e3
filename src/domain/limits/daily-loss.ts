import { isSymbolLevel } from '../check-context.js';
import type { CheckContext } from '../check-context.js';
import type { Evaluator } from '../compiled-limit.js';
import { NOT_APPLICABLE } from '../compiled-limit.js';
import type { Exposure } from '../exposure-ledger.js';

/**
 * Loss since the session start, realized plus unrealized at the mark, as a positive number.
 * It stops only orders that add to the position: cutting risk is always allowed.
 */
export const evaluateDailyLoss: Evaluator = (limit, ctx) => {
  if (ctx.isReducing) return NOT_APPLICABLE;
  let pnl = 0;
  if (isSymbolLevel(limit.per)) {
    pnl = exposurePnl(ctx.exposureOf(limit.per), ctx);
  } else {
    const group = ctx.groupOf(limit.per);
    if (group !== undefined) for (const exposure of group.bySymbol.values()) pnl += exposurePnl(exposure, ctx);
  }
  if (pnl !== pnl) return pnl;
  return pnl < 0 ? -pnl : 0;
};

function exposurePnl(exposure: Exposure | undefined, ctx: CheckContext): number {
  if (exposure === undefined) return 0;
  if (exposure.position === 0) return exposure.realized;
  const mark = ctx.markOf(exposure.market);
  if (mark !== mark) return ctx.fail('NO_REFERENCE_PRICE');
  return exposure.realized + exposure.position * (mark - exposure.avgCost);
}
