import { describe, expect, it } from 'vitest';
import { ExposureLedger } from '../../src/domain/exposure-ledger.js';
import type { Side } from '../../src/domain/enums.js';
import type { SparePool } from '../../src/domain/spare-pool.js';
import { holdsOrderId } from '../support/engine-fixtures.js';

/**
 * A ledger that makes orders again from spares must be indistinguishable from one that always
 * allocates: random streams of reservations (MARKET too), releases, fills and late fills,
 * take-backs, expiry and forgetting, a closed-order list that overflows, restores, position
 * changes and strategy- and firm-level order tracking go through both, and everything a caller
 * can read is compared after every step.
 */
const ACCOUNTS = ['A', 'B', 'C'];
const STRATEGIES = ['S1', 'S2'];
const SYMBOLS = ['X', 'Y', 'Z'];
const IDS = 40;
const SEEDS = Number(process.env.SPARE_SEEDS ?? 300);
const STEPS = 120;

type Pools = { spareOrders: SparePool<unknown> };

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
}

const makeLedger = () => new ExposureLedger({ maxOpenOrders: 6, maxPositions: 50, maxSymbols: 10 }, 50, 30);

/** Renewals counted per pool. */
type Renewals = Record<keyof Pools, number>;

/** Counts the spares each pool hands out; or, with `isOff`, hands out none (the ledger then allocates). */
function instrument(ledger: ExposureLedger, isOff: boolean, used: Renewals): void {
  const pools = ledger as unknown as Pools;
  for (const name of ['spareOrders'] as const) {
    const pool = pools[name];
    const take = pool.take.bind(pool);
    pool.take = () => {
      if (isOff) return undefined;
      const spare = take();
      if (spare !== undefined) used[name]++;
      return spare;
    };
  }
}

function observe(ledger: ExposureLedger, now: number) {
  const exposures: unknown[] = [];
  for (const family of [ledger.accounts.values(), ledger.strategies.values(), [ledger.firm]]) {
    for (const group of family) {
      for (const e of group.exposures) exposures.push([group.id, e.market.symbol, e.highestOpenBuy, e.lowestOpenSell, e.hasOrders]);
    }
  }
  const holds: boolean[] = [];
  for (const a of ACCOUNTS) for (let i = 0; i < IDS; i++) holds.push(holdsOrderId(ledger, a, `o${i}`, now));
  return { captured: ledger.capture(), exposures, holds, counts: [ledger.openOrderCount, ledger.closedOrderCount, ledger.positionCount] };
}

type Operation = (ledger: ExposureLedger) => unknown;

function nextOperation(r: () => number, clock: { now: number }, tracking: readonly [boolean, boolean]): Operation {
  const k = r();
  const a = ACCOUNTS[Math.floor(r() * ACCOUNTS.length)]!;
  const id = `o${Math.floor(r() * IDS)}`;
  if (k < 0.3) {
    const strategy = STRATEGIES[Math.floor(r() * STRATEGIES.length)]!;
    const symbol = SYMBOLS[Math.floor(r() * SYMBOLS.length)]!;
    const side: Side = r() < 0.5 ? 'BUY' : 'SELL';
    const [quantity, price, isMarket, batch] = [1 + Math.floor(r() * 5), 1 + Math.floor(r() * 9), r() < 0.2, r() < 0.3 ? 'b1' : undefined];
    return (l) => {
      if (holdsOrderId(l, a, id, clock.now) || l.openOrderCount >= 6) return 'skip';
      const open = l.reserve(id, a, strategy, symbol, side, quantity, price, isMarket, clock.now);
      if (batch !== undefined) open.batch = batch;
      return open.orderId;
    };
  }
  if (k < 0.45) return (l) => l.release(a, id, clock.now);
  if (k < 0.6) {
    const [quantity, price] = [1 + Math.floor(r() * 4), 1 + Math.floor(r() * 9)];
    return (l) => l.fill(a, id, quantity, price, clock.now);
  }
  if (k < 0.7) {
    const acceptedAt = clock.now - Math.floor(r() * 3) * 5;
    return (l) => l.unreserve(a, id, 'b1', acceptedAt);
  }
  if (k < 0.85) {
    clock.now += Math.floor(r() * 20);
    return (l) => [l.expireIdle(clock.now, 2), l.forgetClosed(clock.now, 2)];
  }
  if (k < 0.9) {
    return (l) => {
      l.restore(JSON.parse(JSON.stringify(l.capture())) as ReturnType<ExposureLedger['capture']>);
      l.trackOrders(tracking[0], tracking[1]);
    };
  }
  if (k < 0.95) {
    const isReplace = r() < 0.1;
    return (l) => l.applyPositions([{ accountId: a, symbol: SYMBOLS[0]!, quantity: 0, avgPrice: 0 }], isReplace);
  }
  const [strategyLevel, firmLevel] = [r() < 0.5, r() < 0.5];
  return (l) => {
    l.startTracking(strategyLevel, firmLevel);
    return l.trackSome(1);
  };
}

describe('exposure ledger: orders made again from spares (property)', () => {
  it(`reads as a ledger that always allocates (${SEEDS} random streams of ${STEPS} steps)`, () => {
    const renewed: Renewals = { spareOrders: 0 };
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = lcg(seed);
      const pooled = makeLedger();
      const plain = makeLedger();
      instrument(pooled, false, renewed);
      instrument(plain, true, { spareOrders: 0 });
      const tracking = [r() < 0.5, r() < 0.5] as const;
      pooled.trackOrders(tracking[0], tracking[1]);
      plain.trackOrders(tracking[0], tracking[1]);
      const clock = { now: 0 };
      for (let step = 0; step < STEPS; step++) {
        const operation = nextOperation(r, clock, tracking);
        expect(operation(pooled), `seed ${seed} step ${step}`).toEqual(operation(plain));
        expect(observe(pooled, clock.now), `seed ${seed} step ${step}`).toEqual(observe(plain, clock.now));
      }
    }
    // The streams did make open orders again.
    expect(renewed.spareOrders).toBeGreaterThan(SEEDS);
  }, Math.max(30_000, SEEDS * 100));

  it('leaves the exposure a let-go order points at empty', () => {
    const ledger = makeLedger();
    ledger.reserve('k', 'A', 'S', 'X', 'BUY', 1, 1, false, 0);
    const order = ledger.reserve('d', 'A', 'S', 'X', 'BUY', 1, 1, false, 0);
    ledger.release('A', 'd', 0);
    const detached = order.account;
    expect(order.strategy).toBe(detached);
    expect([...detached.rows].every((x) => x === 0) && [...detached.cold].every((x) => x === 0)).toBe(true);
    expect([detached.openCount, detached.group.openCount, detached.hasOrders, detached.group.ordersById]).toEqual([0, 0, false, undefined]);
  });
});
