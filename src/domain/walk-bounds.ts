import type { SymbolMarket } from './exposure-ledger.js';
import { LinkedQueue } from './linked-queue.js';

/**
 * Bounds that let an order skip the group walks of gross_notional and daily_loss.
 *
 * A walk reads every row of the order's account (or strategy, or the firm) on each check: on a
 * cold account of 100 symbols that is ~2 µs of memory reads, and it grows with the symbols held.
 * Most orders are far from those limits, and to know that no exact sum is needed. Each symbol
 * keeps price bounds that hold until its prices leave them:
 *   - `grossMark` ≥ every mark gross_notional may use for it (fresh reference or last fill),
 *   - `lossLow` ≤ its fresh reference ≤ `lossHigh`; ±Infinity (open) before its first reference,
 *     and from the first `versionAt` that finds the reference stale.
 * Each group keeps sums of its rows at those bounds, edited as its rows change (see
 * ExposureGroup): an upper bound of its gross notional and a lower bound of its P&L. When the
 * bound alone is clean, the limit is clean; otherwise the walk runs, exact as before. A bound
 * loosening makes every group's sums stale (one version for all); a group's next walk restamps
 * them. A bound tightening does not: sums made with the looser one still bound.
 */
export class WalkBounds {
  /** Bumped whenever a symbol's bounds loosen: group sums stamped with another version are stale. */
  version = 0;
  /**
   * The symbols whose bounds assume a fresh reference, oldest reference first (a list threaded
   * through the markets): staleness is found at the front, one symbol at a time, however many
   * symbols there are.
   */
  private readonly references = new LinkedQueue<SymbolMarket>();

  /** The current version, after letting go of bounds that assumed references now stale. */
  versionAt(now: number, maxReferenceAgeMs: number): number {
    // The same test as ExposureLedger.freshReference, on the oldest reference any bound assumes.
    const references = this.references;
    for (let market = references.oldest; market !== undefined && now - market.refAt > maxReferenceAgeMs; market = references.oldest) {
      references.unlink(market);
      if (open(market)) this.version++;
    }
    return this.version;
  }

  /**
   * A new reference price: bounds move only when it leaves them. Bounds that were open (no fresh
   * reference, or no price at all) close around it without a new version: sums made with open
   * bounds still bound, and are infinite, so the next walk restamps them (needsRestamp).
   */
  onReference(market: SymbolMarket, now: number): void {
    const references = this.references;
    if (references.has(market)) references.unlink(market);
    const price = market.refPrice;
    // Stamped before the newest reference (the wall clock stepped back, or a rewind put back old
    // prices): the queue would not find it stale in time, so its P&L bounds assume no reference.
    // Its gross mark still covers this price, fresh or not (and is open without a last fill).
    if (references.newest !== undefined && now < references.newest.refAt) {
      let loosens = open(market);
      if (!(price <= market.grossMark)) {
        market.grossMark = above(largest(price, market.lastFillPrice));
        loosens = true;
      }
      if (loosens) this.version++;
      return;
    }
    references.append(market);
    const isOpen = market.lossLow === Number.NEGATIVE_INFINITY;
    const isLeaving = !isOpen && !(market.lossLow <= price && price <= market.lossHigh);
    const raisesMark = !(price <= market.grossMark);
    if (isOpen || isLeaving) {
      market.lossLow = price * (1 - HEADROOM);
      market.lossHigh = above(price);
    }
    if (raisesMark || market.grossMark === Number.POSITIVE_INFINITY) market.grossMark = above(largest(price, market.lastFillPrice));
    // Leaving a band, or raising a mark, loosens a bound: sums made with the old one no longer hold.
    if (isLeaving || raisesMark) this.version++;
  }

  /** A fill (or a restored last fill): gross_notional marks at it once the reference is stale. */
  onFill(market: SymbolMarket): void {
    const price = market.lastFillPrice;
    const raisesMark = !(price <= market.grossMark);
    if (!raisesMark && market.grossMark !== Number.POSITIVE_INFINITY) return;
    market.grossMark = above(largest(price, market.refPrice));
    if (raisesMark) this.version++;
  }

  /** Every group's sums are stale (their rows were written around the edits: a session reset). */
  invalidate(): void {
    this.version++;
  }

  /** Forgets every symbol (the ledger's markets were replaced: a snapshot restore). */
  clear(): void {
    this.references.clear();
    this.version++;
  }
}

/**
 * A symbol's reference is stale (or was never queued): P&L bounds open, and gross bounds too
 * where no last fill is left to mark at. Returns whether any bound loosened.
 */
function open(market: SymbolMarket): boolean {
  let isChanged = false;
  if (market.lossLow !== Number.NEGATIVE_INFINITY || market.lossHigh !== Number.POSITIVE_INFINITY) {
    market.lossLow = Number.NEGATIVE_INFINITY;
    market.lossHigh = Number.POSITIVE_INFINITY;
    isChanged = true;
  }
  if (market.lastFillPrice !== market.lastFillPrice && market.grossMark !== Number.POSITIVE_INFINITY) {
    market.grossMark = Number.POSITIVE_INFINITY;
    isChanged = true;
  }
  return isChanged;
}

/**
 * Room a symbol's bounds leave around its price. Wider bounds move less often (each move
 * restamps every group once); narrower ones leave fewer groups near a threshold to walk.
 */
const HEADROOM = 0.02;

/** Prices are positive (PriceSchema). */
const above = (price: number): number => price * (1 + HEADROOM);

/** The larger of two prices, either of which may be NaN (absent). */
function largest(a: number, b: number): number {
  if (a !== a) return b;
  if (b !== b) return a;
  return Math.max(a, b);
}

/**
 * Relative room left for rounding when a bound is compared with a threshold, for a walk over
 * `rows` rows: a sum of n products rounds by at most (n + 1) half-units of the last place of the
 * sizes added (with room to spare here), and daily_loss snaps price gaps within 2^-46 of the
 * price (see rounding.ts).
 */
export const roundingMargin = (rows: number): number => (rows + 2) * EDIT_ROUNDING + 2 ** -45;

/** Rounding of one edit of a running sum, relative to the numbers it adds. */
export const EDIT_ROUNDING = 2 ** -52;
/** Edits after which a group's next walk restamps its sums, so the rounding slack stays small. */
export const EDITS_BEFORE_RESTAMP = 65_536;
