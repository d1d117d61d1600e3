import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LimitEngine } from '../../src/domain/engine.js';
import { breachBound } from '../../src/domain/compiled-limit.js';
import type { LimitDefinition } from '../../src/domain/limit-definition.js';
import type { Order } from '../../src/domain/orders.js';
import { testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

/**
 * The rounding room of the group walks' shortcut (walk-bounds.ts): the slack the sums' edits
 * keep, the own row taken back out, and the margin for the walk's own rounding. Where it
 * matters, a symbol's bound mark is its very price (the price moved up to the edge of its band)
 * and the sums and the walk add the same terms in other orders, with decimal sizes that round.
 * At the highest threshold the walk's total breaches, the shortcut must not find the order clean.
 * Without the room, it does at once (an order the walk rejects is accepted): the slack alone
 * holds gross_notional here, the slack or the margin daily_loss.
 */
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 2_000);
const SEED = process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) };

const SYMBOLS = ['S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7'];
const quantityArb: fc.Arbitrary<number> = fc.constantFrom(0.1, 0.3, 0.7, 1.1, 2.9, 0.001, 13.37, 1e-8, 333.3, 7);
const priceArb: fc.Arbitrary<number> = fc.constantFrom(0.3, 1.1, 10.01, 99.99, 123.456, 1234.567, 0.07, 3.3);

const rowArb = fc.record({ symbol: fc.constantFrom(...SYMBOLS), quantity: quantityArb, isShort: fc.boolean(), cost: priceArb });
const caseArb = fc.record({
  prices: fc.tuple(...SYMBOLS.map(() => priceArb)),
  /** Per symbol, whether its price moves to the top of its band (else to the bottom). */
  atTop: fc.tuple(...SYMBOLS.map(() => fc.boolean())),
  before: fc.array(rowArb, { minLength: 1, maxLength: 10 }),
  after: fc.array(rowArb, { maxLength: 10 }),
  order: fc.record({ symbol: fc.constantFrom(...SYMBOLS, 'NEW'), isBuy: fc.boolean(), quantity: quantityArb }),
  /** One account trades: its strategy's and the firm's rows hold the same positions, written through their own edits. */
  per: fc.constantFrom<GroupLevel>('account', 'strategy', 'global'),
});
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

type Kind = 'gross_notional' | 'daily_loss';
type GroupLevel = 'account' | 'strategy' | 'global';
const limitOf = (kind: Kind, per: GroupLevel, hard: number): LimitDefinition => ({ id: 'G', kind, per, thresholds: { hard } });

/** The next double after a positive one, down or up. */
function step(value: number, by: -1n | 1n): number {
  const bits = new BigInt64Array(new Float64Array([value]).buffer);
  bits[0]! += by;
  return new Float64Array(bits.buffer)[0]!;
}

/** The highest threshold that `value` breaches: its bound (with the rounding tolerance) is just below it. */
function highestBreached(value: number): number {
  let threshold = value / (1 + 1e-12);
  while (breachBound(threshold) >= value) threshold = step(threshold, -1n);
  while (breachBound(step(threshold, 1n)) < value) threshold = step(threshold, 1n);
  return threshold;
}

function engines(kind: Kind, per: GroupLevel): { taking: LimitEngine; walking: LimitEngine } {
  const taking = new LimitEngine(testConfig(), new FakeClock(), [limitOf(kind, per, 1e15)]);
  const walking = new LimitEngine(testConfig(), new FakeClock(), [limitOf(kind, per, 1e15)]);
  let version = 1e9;
  walking.ledger.walkBounds.versionAt = () => version++;
  return { taking, walking };
}

let orderSeq = 0;
const anOrder = (symbol: string, isBuy: boolean, quantity: number, price: number): Order => ({
  orderId: `r-${++orderSeq}`,
  accountId: 'ACC',
  strategyId: 'STRAT',
  symbol,
  side: isBuy ? 'BUY' : 'SELL',
  quantity,
  price,
  orderType: 'LIMIT',
});

/**
 * Runs one case on both engines; returns whether the taking engine's sums were stamped when the
 * order came at the highest threshold the walk breaches (so the shortcut was there to take).
 */
function edgeCase(kind: Kind, { prices, atTop, before, after, order, per }: Case): boolean {
  const { taking, walking } = engines(kind, per);
  const both = [taking, walking];
  // A first price, then an edge of its band: a bound is then the price itself.
  for (const e of both) e.setReferencePrices(SYMBOLS.map((symbol, i) => ({ symbol, price: prices[i]! })));
  const edges = SYMBOLS.map((symbol, i) => {
    const market = taking.ledger.market(symbol)!;
    return { symbol, price: atTop[i] ? market.lossHigh : market.lossLow };
  });
  for (const e of both) e.setReferencePrices([...edges, { symbol: 'NEW', price: 50.5 }]);
  const rows = (list: Case['before']) =>
    list.map((r) => ({ accountId: 'ACC', strategyId: 'STRAT', symbol: r.symbol, quantity: r.isShort ? -r.quantity : r.quantity, avgPrice: r.cost }));
  for (const e of both) e.applyPositions(rows(before), false);
  // A check walks and stamps the sums; the rows written after it edit them.
  for (const e of both) e.checkOrder(anOrder('S0', true, 1, 1));
  for (const e of both) e.applyPositions(rows(after), false);
  const price = order.symbol === 'NEW' ? 50.5 : edges[SYMBOLS.indexOf(order.symbol)]!.price;
  const probe = anOrder(order.symbol, order.isBuy, order.quantity, price);
  for (const e of both) e.upsertLimit(limitOf(kind, per, Number.MIN_VALUE));
  const walked = walking.checkOrder(probe).violations[0]?.value;
  if (walked === undefined || !(walked > 0)) return false;
  for (const e of both) e.upsertLimit(limitOf(kind, per, highestBreached(walked)));
  expect(walking.checkOrder(probe).decision).toBe('REJECT');
  const { ledger } = taking;
  const group = per === 'account' ? ledger.accounts.get('ACC')! : per === 'strategy' ? ledger.strategies.get('STRAT')! : ledger.firm;
  const stamped = group.boundsAt === ledger.walkBounds.version;
  const result = taking.checkOrder(probe);
  expect(result.decision).toBe('REJECT');
  expect(result.violations[0]?.value).toBe(walked);
  return stamped;
}

describe('the group walks\u2019 shortcut at the highest threshold the walk breaches', () => {
  for (const kind of ['gross_notional', 'daily_loss'] as const) {
    it(`is refused for ${kind}, with prices at the edges of their bands and sums edited in another order than the walk adds`, () => {
      let stamped = 0;
      fc.assert(
        fc.property(caseArb, (c) => {
          if (edgeCase(kind, c)) stamped++;
        }),
        { numRuns: NUM_RUNS, ...SEED },
      );
      // In most cases the sums were stamped: the shortcut was there to take, and was refused.
      expect(stamped).toBeGreaterThan(NUM_RUNS / 4);
    });
  }

  it('is refused after a row shrank from 333.3 to 0.1 since the stamp, leaving rounding of the larger size in the sum', () => {
    // A counterexample of the property without gross_notional's slack (1 in a few thousand cases there).
    const low = (symbol: string) => ({ symbol, quantity: 0.1, isShort: false, cost: 0.3 });
    const stamped = edgeCase('gross_notional', {
      prices: [0.3, 0.3, 0.3, 123.456, 0.3, 0.3, 0.3, 0.3],
      atTop: [false, false, false, true, false, false, false, false],
      before: [{ symbol: 'S3', quantity: 333.3, isShort: false, cost: 0.3 }, low('S0')],
      after: [low('S3')],
      order: { symbol: 'S0', isBuy: false, quantity: 0.1 },
      per: 'account',
    });
    expect(stamped).toBe(true);
  });
});
