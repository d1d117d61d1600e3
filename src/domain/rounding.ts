/**
 * Quantities may be fractional (coins, FX) and prices are decimals, so binary floating point
 * rounds what the ledger adds up: 0.1 + 0.2 − 0.3 is 5.6e-17, 0.1 + 0.7 is 0.7999999999999999,
 * and 0.8 bought at 100.1 in two fills averages 100.10000000000001. Left as they are, such
 * remainders are positions nobody holds (each needing a fresh reference for gross_notional
 * and daily_loss, so trading fails closed), orders fully filled yet still open, and losses a
 * zero-loss limit rejects on.
 *
 * One addition rounds by at most half a unit in the last place of the largest number involved;
 * a remainder within 64 such units (2^-46, about 1.4e-14, of that scale) is rounding, not a
 * quantity or a price difference anyone traded. A real remainder is far larger: a satoshi
 * (1e-8) left of 10,000 coins is 1e-12 of them.
 */
const ROUNDING = 2 ** -46;

/** Whether `value` is rounding left over from numbers of size `scale`. */
export function isRounding(value: number, scale: number): boolean {
  return Math.abs(value) <= ROUNDING * scale;
}

/** `price − cost`, 0 when the two differ only by rounding (a fill at the average cost realizes nothing). */
export function priceGap(price: number, cost: number): number {
  const gap = price - cost;
  return Math.abs(gap) <= ROUNDING * Math.abs(price) ? 0 : gap;
}
