import { describe, expect, it } from 'vitest';
import type { LimitEngine } from '../../src/domain/engine.js';
import { AVG_COST, POSITION, SymbolMarket } from '../../src/domain/exposure-ledger.js';
import type { Exposure } from '../../src/domain/exposure-ledger.js';
import { EDITS_BEFORE_RESTAMP, roundingMargin, WalkBounds } from '../../src/domain/walk-bounds.js';
import { makeEngine, order } from '../support/engine-fixtures.js';
import { accountExposure, setReference, traded } from '../support/engine-actions.js';

const MAX_AGE = 5_000;

function marketAt(bounds: WalkBounds, markets: Map<string, SymbolMarket>, symbol: string, price: number, at: number): SymbolMarket {
  const market = markets.get(symbol) ?? new SymbolMarket(symbol);
  markets.set(symbol, market);
  market.refPrice = price;
  market.refAt = at;
  bounds.onReference(market, at);
  return market;
}

describe('WalkBounds', () => {
  it('bounds a first reference 2 % either side without a new version, and moves (with one) only when a price leaves them', () => {
    const markets = new Map<string, SymbolMarket>();
    const bounds = new WalkBounds();
    const market = marketAt(bounds, markets, 'X', 100, 0);
    expect([market.lossLow, market.lossHigh, market.grossMark, bounds.version]).toEqual([98, 102, 102, 0]);
    marketAt(bounds, markets, 'X', 102, 1);
    marketAt(bounds, markets, 'X', 98, 2);
    expect(bounds.version).toBe(0);
    marketAt(bounds, markets, 'X', 102.5, 3);
    expect(bounds.version).toBe(1);
    expect(market.lossLow).toBeLessThanOrEqual(102.5);
    expect([market.lossHigh, market.grossMark].every((b) => b >= 102.5)).toBe(true);
    // Falling out of the band loosens the low bound: a new version too.
    marketAt(bounds, markets, 'X', 90, 4);
    expect([market.lossLow <= 90, market.lossHigh >= 90, bounds.version]).toEqual([true, true, 2]);
  });

  it('raises the gross mark for a fill above it (a new version), and sets it without one where it was open', () => {
    const markets = new Map<string, SymbolMarket>();
    const bounds = new WalkBounds();
    const unpriced = new SymbolMarket('U');
    markets.set('U', unpriced);
    unpriced.lastFillPrice = 50;
    bounds.onFill(unpriced);
    expect([unpriced.grossMark, bounds.version]).toEqual([51, 0]);
    const market = marketAt(bounds, markets, 'X', 100, 0);
    market.lastFillPrice = 102;
    bounds.onFill(market);
    expect(bounds.version).toBe(0);
    market.lastFillPrice = 102.01;
    bounds.onFill(market);
    expect(bounds.version).toBe(1);
    expect(market.grossMark).toBeGreaterThanOrEqual(102.01);
  });

  it('finds stale references oldest first, a refreshed symbol leaving the front, and opens one stamped before the newest', () => {
    const markets = new Map<string, SymbolMarket>();
    const bounds = new WalkBounds();
    const a = marketAt(bounds, markets, 'A', 100, 0);
    const b = marketAt(bounds, markets, 'B', 100, 1_000);
    marketAt(bounds, markets, 'A', 100, 2_000);
    // B is now the oldest: at 6,001 it is stale and A (2,000) is not.
    expect(bounds.versionAt(MAX_AGE + 1_001, MAX_AGE)).toBe(1);
    expect([a.lossLow, b.lossLow]).toEqual([98, Number.NEGATIVE_INFINITY]);
    // The wall clock steps back: a reference stamped before the newest one is not trusted to bound.
    marketAt(bounds, markets, 'B', 100, 1_500);
    expect([b.lossLow, b.grossMark, bounds.version]).toEqual([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 1]);
    marketAt(bounds, markets, 'C', 100, 3_000);
    marketAt(bounds, markets, 'A', 100, 2_500);
    expect([a.lossLow, a.grossMark, bounds.version]).toEqual([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 2]);
    // Once the clock is past the newest again, references close their bounds as usual.
    expect(marketAt(bounds, markets, 'B', 100, 3_000).lossLow).toBe(98);
  });

  it('raises the gross mark over a reference stamped before the newest one (found by the differential property)', () => {
    const markets = new Map<string, SymbolMarket>();
    const bounds = new WalkBounds();
    marketAt(bounds, markets, 'X', 99, 10);
    const z = new SymbolMarket('Z');
    markets.set('Z', z);
    z.lastFillPrice = 90;
    bounds.onFill(z);
    expect([z.grossMark, bounds.version]).toEqual([91.8, 0]);
    // Fresh, so the gross walk marks Z at 103: a mark left at 91.8 would bound it below its walk.
    marketAt(bounds, markets, 'Z', 103, 5);
    expect(z.grossMark).toBeGreaterThanOrEqual(103);
    expect([z.lossLow, bounds.version]).toEqual([Number.NEGATIVE_INFINITY, 1]);
  });

  it('sets an open gross mark over the last reference too, stale or not, since a clock step back can make it fresh again', () => {
    const markets = new Map<string, SymbolMarket>();
    const bounds = new WalkBounds();
    const market = marketAt(bounds, markets, 'X', 200, 0);
    bounds.versionAt(MAX_AGE + 1, MAX_AGE);
    expect(market.grossMark).toBe(Number.POSITIVE_INFINITY);
    market.lastFillPrice = 100;
    bounds.onFill(market);
    expect(market.grossMark).toBeGreaterThanOrEqual(200);
  });

  it('opens the bounds a stale reference held, once it is stale and not before', () => {
    const markets = new Map<string, SymbolMarket>();
    const bounds = new WalkBounds();
    const filled = marketAt(bounds, markets, 'F', 100, 0);
    filled.lastFillPrice = 99;
    bounds.onFill(filled);
    const unfilled = marketAt(bounds, markets, 'U', 50, 1_000);
    expect(bounds.versionAt(MAX_AGE, MAX_AGE)).toBe(0);
    expect(bounds.versionAt(MAX_AGE + 1, MAX_AGE)).toBe(1);
    // P&L needs a fresh reference; gross falls back on the last fill, where there is one.
    expect([filled.lossLow, filled.lossHigh, filled.grossMark]).toEqual([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 102]);
    expect(unfilled.grossMark).toBe(51);
    expect(bounds.versionAt(MAX_AGE + 1_001, MAX_AGE)).toBe(2);
    expect(unfilled.grossMark).toBe(Number.POSITIVE_INFINITY);
    expect(bounds.versionAt(MAX_AGE + 100_000, MAX_AGE)).toBe(2);
    // A fresh reference closes them again: tighter bounds need no new version.
    marketAt(bounds, markets, 'U', 50, MAX_AGE + 100_000);
    expect([unfilled.lossLow, unfilled.grossMark, bounds.version]).toEqual([49, 51, 2]);
  });
});

/**
 * The shortcut's use is seen by writing a row behind the bound sums' back: a check that still
 * reads clean did not walk; one that sees the write did.
 */
function writeBehindBounds(e: Exposure, field: number, value: number): void {
  e.rows[e.base + field] = value;
}

function heldAt100(limit: object): { engine: LimitEngine; held: Exposure } {
  const { engine } = makeEngine([limit]);
  engine.applyPositions([{ accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: 'MSFT', quantity: 100, avgPrice: 100 }], false);
  setReference(engine, { MSFT: 100, AAPL: 100 });
  // The first check walks and stamps the account's sums.
  expect(engine.checkOrder(order({ quantity: 1, price: 100 })).decision).toBe('ACCEPT');
  return { engine, held: accountExposure(engine, 'ACC-1', 'MSFT')! };
}

describe('the group walks take the bound sums as a shortcut', () => {
  it('gross_notional: far under the threshold, the walk is skipped', () => {
    const { engine, held } = heldAt100({ id: 'g', kind: 'gross_notional', per: 'account', thresholds: { hard: 1_000_000 } });
    writeBehindBounds(held, POSITION, 1_000_000);
    expect(engine.checkOrder(order({ quantity: 1, price: 100 })).decision).toBe('ACCEPT');
  });

  it('gross_notional: within the bounds of the threshold, the walk decides', () => {
    // Held 100 × 100, the first check's 1 × 100 still open and this order's 1 × 100 are 10,200, clean at hard; at the bound mark (102) they are not.
    const { engine, held } = heldAt100({ id: 'g', kind: 'gross_notional', per: 'account', thresholds: { hard: 10_300 } });
    expect(engine.checkOrder(order({ quantity: 1, price: 100 })).decision).toBe('ACCEPT');
    writeBehindBounds(held, POSITION, 101);
    expect(engine.checkOrder(order({ quantity: 1, price: 100 })).reasons).toEqual(['LIMIT_BREACH']);
  });

  it('gross_notional: a fresh reference above the last-fill mark a stale symbol was summed at makes the walk run (found by review)', () => {
    const { engine, clock } = makeEngine([{ id: 'g', kind: 'gross_notional', per: 'account', thresholds: { hard: 12_000 } }]);
    setReference(engine, { MSFT: 100, AAPL: 100 });
    traded(engine, { symbol: 'MSFT', quantity: 100, price: 100 });
    clock.advance(MAX_AGE + 1);
    setReference(engine, { AAPL: 100 });
    // MSFT stale: gross marks it at its last fill, and the walk stamps the sums so.
    expect(engine.checkOrder(order({ symbol: 'AAPL', quantity: 1, price: 100 })).decision).toBe('ACCEPT');
    setReference(engine, { MSFT: 150, AAPL: 100 });
    // 100 × 150 + 2 × 100 > 12,000.
    expect(engine.checkOrder(order({ symbol: 'AAPL', quantity: 1, price: 100 })).reasons).toEqual(['LIMIT_BREACH']);
  });

  it('gross_notional: an account concentrated in the order\'s own symbol is not counted twice', () => {
    const { engine } = makeEngine([{ id: 'g', kind: 'gross_notional', per: 'account', thresholds: { hard: 15_000 } }]);
    engine.applyPositions(
      [
        { accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: 'AAPL', quantity: 100, avgPrice: 100 },
        { accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: 'MSFT', quantity: 1, avgPrice: 100 },
      ],
      false,
    );
    setReference(engine, { MSFT: 100, AAPL: 100 });
    expect(engine.checkOrder(order({ quantity: 1, price: 100, side: 'SELL' })).decision).toBe('ACCEPT');
    // 10,000 held in AAPL at its bound mark is 10,200, and the order's own symbol adds 10,000 more
    // exactly: counting both would be over 15,000 and walk; the walk would see the write below.
    writeBehindBounds(accountExposure(engine, 'ACC-1', 'MSFT')!, POSITION, 1_000_000);
    expect(engine.checkOrder(order({ quantity: 1, price: 100, side: 'SELL' })).decision).toBe('ACCEPT');
  });

  it('daily_loss: far under the threshold, the walk is skipped', () => {
    const { engine, held } = heldAt100({ id: 'd', kind: 'daily_loss', per: 'account', thresholds: { hard: 1_000 } });
    writeBehindBounds(held, AVG_COST, 200);
    expect(engine.checkOrder(order({ quantity: 1, price: 100 })).decision).toBe('ACCEPT');
  });

  it('daily_loss: within the bounds of the threshold, the walk decides', () => {
    // Flat at the reference, so no loss; at the low bound (98) the 100 held would lose 200.
    const { engine, held } = heldAt100({ id: 'd', kind: 'daily_loss', per: 'account', thresholds: { hard: 100 } });
    expect(engine.checkOrder(order({ quantity: 1, price: 100 })).decision).toBe('ACCEPT');
    writeBehindBounds(held, AVG_COST, 102);
    expect(engine.checkOrder(order({ quantity: 1, price: 100 })).reasons).toEqual(['LIMIT_BREACH']);
  });

  it.each([100, -100])('fails closed as the walk does once a held symbol\'s reference goes stale, bounds clean or not (position %d)', (quantity) => {
    const { engine, clock } = makeEngine([{ id: 'd', kind: 'daily_loss', per: 'account', thresholds: { hard: 1_000_000 } }]);
    engine.applyPositions([{ accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: 'MSFT', quantity, avgPrice: 100 }], false);
    setReference(engine, { MSFT: 100, AAPL: 100 });
    expect(engine.checkOrder(order({ quantity: 1, price: 100 })).decision).toBe('ACCEPT');
    clock.advance(5_001);
    setReference(engine, { AAPL: 100 });
    expect(engine.checkOrder(order({ quantity: 1, price: 100 })).reasons).toEqual(['NO_REFERENCE_PRICE']);
  });

  it('restamps sums made while a held symbol had no price, once it has one, and takes the shortcut after', () => {
    const { engine } = makeEngine([{ id: 'g', kind: 'gross_notional', per: 'account', thresholds: { hard: 1_000_000 } }]);
    engine.applyPositions([{ accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: 'MSFT', quantity: 100, avgPrice: 100 }], false);
    setReference(engine, { AAPL: 100 });
    // MSFT has no price: the walk fails closed, and the sums it stamps are infinite.
    expect(engine.checkOrder(order({ quantity: 1, price: 100 })).reasons).toEqual(['NO_REFERENCE_PRICE']);
    const group = engine.ledger.accounts.get('ACC-1')!;
    expect(group.grossUpper).toBe(Number.POSITIVE_INFINITY);
    // A first reference only tightens the bounds: no new version, so only the infinite sums say restamp.
    const version = engine.ledger.walkBounds.version;
    setReference(engine, { MSFT: 100 });
    expect(engine.ledger.walkBounds.version).toBe(version);
    expect(engine.checkOrder(order({ quantity: 1, price: 100 })).decision).toBe('ACCEPT');
    expect(group.grossUpper).toBeLessThan(Number.POSITIVE_INFINITY);
    writeBehindBounds(accountExposure(engine, 'ACC-1', 'MSFT')!, POSITION, 1_000_000);
    expect(engine.checkOrder(order({ quantity: 1, price: 100 })).decision).toBe('ACCEPT');
  });

  it('leaves the sums of a positions replace to be restamped, not edited row by row', () => {
    const { engine } = heldAt100({ id: 'g', kind: 'gross_notional', per: 'account', thresholds: { hard: 1_000_000 } });
    const group = engine.ledger.accounts.get('ACC-1')!;
    expect(group.boundsAt).toBe(engine.ledger.walkBounds.version);
    engine.applyPositions([{ accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: 'MSFT', quantity: 50, avgPrice: 100 }], true);
    expect(group.boundsAt).not.toBe(engine.ledger.walkBounds.version);
    expect(engine.checkOrder(order({ quantity: 1, price: 100 })).decision).toBe('ACCEPT');
    expect(group.boundsAt).toBe(engine.ledger.walkBounds.version);
  });

  it('has a walk restamp sums edited more than EDITS_BEFORE_RESTAMP times, reservations counted too, so their slack stops gathering', () => {
    // Near enough the threshold that the bound sums cannot decide (see the test above): every check walks.
    const { engine } = heldAt100({ id: 'g', kind: 'gross_notional', per: 'account', thresholds: { hard: 10_300 } });
    const group = engine.ledger.accounts.get('ACC-1')!;
    const version = engine.ledger.walkBounds.version;
    // Reservations and releases on the one row, each one edit of an open quantity or more.
    for (let i = 0; group.boundEdits <= EDITS_BEFORE_RESTAMP && i < EDITS_BEFORE_RESTAMP; i++) {
      expect(group.needsRestamp(version)).toBe(false);
      engine.ledger.reserve(`r${i}`, 'ACC-1', 'STRAT-1', 'MSFT', 'BUY', 1, 100, false, 0);
      engine.ledger.release('ACC-1', `r${i}`, 0);
    }
    expect(group.needsRestamp(version)).toBe(true);
    expect(engine.checkOrder(order({ quantity: 1, price: 100 })).decision).toBe('ACCEPT');
    expect(group.needsRestamp(version)).toBe(false);
  });

  it('keeps the sums with their slack above the rows at the bound marks, through edits that round far above what is left', () => {
    const { engine } = heldAt100({ id: 'g', kind: 'gross_notional', per: 'account', thresholds: { hard: 1e15 } });
    const group = engine.ledger.accounts.get('ACC-1')!;
    const rows = group.exposures;
    for (let i = 0; i < 2_000; i++) {
      engine.applyPositions([{ accountId: 'ACC-1', strategyId: 'STRAT-1', symbol: 'MSFT', quantity: i % 2 === 0 ? 1e12 + i / 3 : 3 + i / 7, avgPrice: 100 }], false);
      expect(group.boundsAt).toBe(engine.ledger.walkBounds.version);
      // The 2 % headroom hides rounding from the walk at the real marks: the sums are exact only at the bound marks.
      const atBounds = rows.reduce((sum, e) => sum + Math.max(e.position + e.openBuy, e.openSell - e.position) * e.market.grossMark, 0);
      const upper = group.grossUpper + group.grossSlack;
      expect(upper + upper * roundingMargin(rows.length)).toBeGreaterThanOrEqual(atBounds);
    }
  });
});
