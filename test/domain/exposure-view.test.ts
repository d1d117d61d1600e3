import { afterEach, describe, expect, it, vi } from 'vitest';
import { Exposure } from '../../src/domain/exposure-ledger.js';
import type { AccountExposure } from '../../src/domain/exposure-view.js';
import { accepted, setReference, traded } from '../support/engine-actions.js';
import { makeEngine, testConfig } from '../support/engine-fixtures.js';

const symbols = (n: number): string[] => Array.from({ length: n }, (_, i) => `S${String(i).padStart(4, '0')}`);

/** ACC-1 holding `held` (in that order), 10 of each at avg 100, each marked at 100 + i (by its place in key order) unless unmarked. */
function holding(held: readonly string[], unmarked: readonly string[] = []) {
  const setup = makeEngine([], { capacity: { ...testConfig().capacity, maxSymbols: 10_000 } });
  setup.engine.applyPositions(
    held.map((symbol) => ({ accountId: 'ACC-1', symbol, quantity: 10, avgPrice: 100 })),
    false,
  );
  const sorted = [...held].sort();
  const marked = sorted.filter((symbol) => !unmarked.includes(symbol));
  if (marked.length > 0) setup.engine.setReferencePrices(marked.map((symbol) => ({ symbol, price: 100 + sorted.indexOf(symbol) })));
  return setup;
}

const totalsOf = ({ openOrders, grossNotional, realizedPnl, unrealizedPnl }: AccountExposure) => ({ openOrders, grossNotional, realizedPnl, unrealizedPnl });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the exposure view, a page at a time', () => {
  it('builds views for the page only, not for every symbol the account holds', () => {
    const held = symbols(1_000).reverse();
    const { engine } = holding(held);
    // Only a position's view reads its open buy notional; the totals do not.
    const views = vi.spyOn(Exposure.prototype, 'openBuyNotional', 'get');
    const page = engine.exposure('ACC-1', { cursor: 'S0099', pageSize: 10 });
    expect(page.positions.map((p) => p.symbol)).toEqual(symbols(110).slice(100));
    expect(page.nextCursor).toBe('S0109');
    expect(views).toHaveBeenCalledTimes(10);
  });

  it('answers totals over every position on every page, as the whole view has them', () => {
    const held = ['MSFT', 'AAPL', 'TSLA', 'NVDA', 'AMZN', 'META', 'GOOG'];
    const { engine } = holding(held);
    const whole = engine.exposure('ACC-1');
    // 10 × (100 + i) a symbol: 7,210 gross; 10 × i unrealized: 210.
    expect(totalsOf(whole)).toEqual({ openOrders: 0, grossNotional: 7_210, realizedPnl: 0, unrealizedPnl: 210 });
    const pages = [engine.exposure('ACC-1', { pageSize: 3 })];
    while (pages[pages.length - 1]!.nextCursor !== null) pages.push(engine.exposure('ACC-1', { cursor: pages[pages.length - 1]!.nextCursor!, pageSize: 3 }));
    expect(pages.map((page) => page.positions.length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((page) => page.positions)).toEqual(whole.positions);
    for (const page of pages) expect(totalsOf(page)).toEqual(totalsOf(whole));
  });

  it('adds up to what its positions\' views say: long, short, flat with realized P&L, open orders either side, a mark from the last fill', () => {
    const { engine, clock } = makeEngine([]);
    traded(engine, { symbol: 'LONG', quantity: 100, price: 10 });
    traded(engine, { symbol: 'LONG', side: 'SELL', quantity: 30, price: 13 });
    traded(engine, { symbol: 'SHORT', side: 'SELL', quantity: 50, price: 20 });
    traded(engine, { symbol: 'FLAT', quantity: 10, price: 5 });
    traded(engine, { symbol: 'FLAT', side: 'SELL', quantity: 10, price: 4 });
    accepted(engine, { symbol: 'SHORT', quantity: 80, price: 19 });
    accepted(engine, { symbol: 'OPEN', side: 'SELL', quantity: 7, price: 30 });
    setReference(engine, { LONG: 12, SHORT: 18, OPEN: 31 });
    const sumOf = (values: (number | null)[]) => (values.includes(null) ? null : values.reduce<number>((sum, v) => sum + v!, 0));
    const viewSums = (view: AccountExposure) => ({
      openOrders: view.positions.reduce((sum, p) => sum + p.openOrders, 0),
      grossNotional: sumOf(view.positions.map((p) => p.grossNotional)),
      realizedPnl: view.positions.reduce((sum, p) => sum + p.realizedPnl, 0),
      unrealizedPnl: sumOf(view.positions.map((p) => p.unrealizedPnl)),
    });
    const fresh = engine.exposure('ACC-1');
    expect(fresh.positions.map((p) => p.symbol)).toEqual(['FLAT', 'LONG', 'OPEN', 'SHORT']);
    // LONG 70 × 12 and 90 realized, SHORT max(|−50 + 80|, 50) × 18 and −50 × (18 − 20), OPEN 7 × 31, FLAT −10 realized.
    expect(totalsOf(fresh)).toEqual({ openOrders: 2, grossNotional: 840 + 900 + 217, realizedPnl: 80, unrealizedPnl: 140 + 100 });
    expect(totalsOf(fresh)).toEqual(viewSums(fresh));
    // References gone stale: gross marks at the last fill where there is one, unrealized P&L is unknown.
    clock.advance(10_000);
    const stale = engine.exposure('ACC-1');
    expect(totalsOf(stale)).toEqual({ openOrders: 2, grossNotional: null, realizedPnl: 80, unrealizedPnl: null });
    expect(totalsOf(stale)).toEqual(viewSums(stale));
    expect(stale.positions.map((p) => p.grossNotional)).toEqual([0, 70 * 13, null, 50 * 20]);
  });

  it('answers an unknown total (null) on every page when a symbol on another page has no mark', () => {
    const { engine } = holding(['AAPL', 'MSFT', 'ZZZ'], ['ZZZ']);
    const first = engine.exposure('ACC-1', { pageSize: 1 });
    expect(first.positions.map((p) => [p.symbol, p.grossNotional])).toEqual([['AAPL', 1_000]]);
    expect(totalsOf(first)).toEqual({ openOrders: 0, grossNotional: null, realizedPnl: 0, unrealizedPnl: null });
  });
});
