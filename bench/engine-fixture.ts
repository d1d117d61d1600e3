import type { EngineConfig } from '../src/domain/engine.js';
import { LimitEngine } from '../src/domain/engine.js';
import type { ExecutionEvent, Order, PositionRow } from '../src/domain/orders.js';
import { limitBook } from './limit-books.js';
import { SimClock } from './sim-clock.js';
import { seededRandom } from './stats.js';

export const ACCOUNTS = 10_000;
export const SYMBOLS = 100;
const STRATEGIES = 20;
const VENUES = 4;
/** Offered rate in simulated time: 100 orders per millisecond, 100,000 orders/s. */
const ORDERS_PER_MS = 100;
/** Open orders held at steady state: about 5 per account, like resting quotes. */
const OPEN_ORDERS_PER_ACCOUNT = 5;
const POSITION_CHUNK = 10_000;
/**
 * How far a reference price moves per 100 ms tick (a uniform step of this standard deviation):
 * about three times a typical equity's volatility, so that what the engine keeps around prices
 * (the group walks' bounds) meets markets that move.
 */
const TICK_VOLATILITY = 0.0001;

export const benchConfig = (): EngineConfig => ({
  severityActions: { WARNING: 'ALERT', SOFT_BREACH: 'ALERT', HARD_BREACH: 'BLOCK', CRITICAL: 'HALT' },
  openOrderTtlMs: 60_000,
  maxReferenceAgeMs: 5_000,
  history: { capacity: 10_000, retentionMs: 3_600_000 },
  capacity: {
    maxOpenOrders: 200_000,
    maxPositions: 1_200_000,
    maxSymbols: 1_000,
    maxWindowKeys: 1_000_000,
    maxWindowEntries: 1_000_000,
    maxTradingStates: 1_000,
    maxActiveViolations: 10_000,
    maxSubscribers: 10,
    maxLimits: 100_000,
  },
});

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** The firm: ids and reference prices, shared by the state loader, the limits and the order flow. */
export class World {
  readonly accounts: string[];
  readonly strategies = Array.from({ length: STRATEGIES }, (_, i) => `STRAT-${pad(i, 2)}`);
  readonly symbols = Array.from({ length: SYMBOLS }, (_, i) => `SYM-${pad(i, 3)}`);
  readonly venues = Array.from({ length: VENUES }, (_, i) => `VENUE-${i}`);
  readonly prices: Float64Array;
  /** Its own sequence, so that moving prices leaves the order flow's draws as they were. */
  private readonly priceMoves = seededRandom(2026);

  constructor(
    readonly random: () => number,
    accountCount = ACCOUNTS,
  ) {
    this.accounts = Array.from({ length: accountCount }, (_, i) => `ACC-${pad(i, 5)}`);
    this.prices = Float64Array.from(this.symbols, () => cents(10 + random() * 490));
  }

  /** Every reference price takes one random step. */
  movePrices(): void {
    for (let i = 0; i < this.prices.length; i++) {
      this.prices[i] = cents(this.prices[i]! * (1 + (this.priceMoves() * 2 - 1) * Math.sqrt(3) * TICK_VOLATILITY));
    }
  }

  /** Each account trades through one strategy. */
  strategyOf(account: number): string {
    return this.strategies[account % STRATEGIES]!;
  }
}

const cents = (value: number): number => Math.round(value * 100) / 100;

export function makeEngine(world: World): { engine: LimitEngine; clock: SimClock } {
  const clock = new SimClock(Date.UTC(2026, 10, 25, 14, 30));
  const engine = new LimitEngine(benchConfig(), clock, []);
  refreshPrices(engine, world);
  return { engine, clock };
}

function refreshPrices(engine: LimitEngine, world: World): void {
  engine.setReferencePrices(world.symbols.map((symbol, i) => ({ symbol, price: world.prices[i]! })));
}

/** Every account holds every symbol, long or short, bought within ±5 % of today's reference. */
export function loadPositions(engine: LimitEngine, world: World): void {
  let rows: PositionRow[] = [];
  for (let a = 0; a < world.accounts.length; a++) {
    for (let s = 0; s < SYMBOLS; s++) {
      const size = Math.ceil(world.random() * 100) * 100;
      rows.push({
        accountId: world.accounts[a]!,
        strategyId: world.strategyOf(a),
        symbol: world.symbols[s]!,
        quantity: world.random() < 0.5 ? -size : size,
        avgPrice: cents(world.prices[s]! * (0.95 + world.random() * 0.1)),
      });
      if (rows.length === POSITION_CHUNK) {
        engine.applyPositions(rows, false);
        rows = [];
      }
    }
  }
  if (rows.length > 0) engine.applyPositions(rows, false);
}

/**
 * Orders as a market maker's flow looks: any account, its own strategy, any symbol and venue,
 * passive prices (buys below the reference, sells above), so no order crosses its own resting
 * orders and self_trade stays clean. Accepted orders are retired oldest first (3 in 4
 * cancelled, 1 in 4 filled) to hold the open-order count steady; time advances at the
 * offered rate, reference prices take a random step every 100 ms and windows are swept every
 * second.
 */
export class OrderFlow {
  private seq = 0;
  private readonly open: Order[] = [];
  private openHead = 0;
  private sinceTick = 0;
  private ticks = 0;

  constructor(
    private readonly engine: LimitEngine,
    private readonly clock: SimClock,
    private readonly world: World,
  ) {}

  get openCount(): number {
    return this.open.length - this.openHead;
  }

  next(): Order {
    const w = this.world;
    const r = w.random;
    const a = Math.floor(r() * w.accounts.length);
    const s = Math.floor(r() * SYMBOLS);
    const isBuy = r() < 0.5;
    const offset = 0.0005 + r() * 0.0045;
    const price = cents(w.prices[s]! * (isBuy ? 1 - offset : 1 + offset));
    return {
      orderId: `B-${++this.seq}`,
      accountId: w.accounts[a]!,
      strategyId: w.strategyOf(a),
      symbol: w.symbols[s]!,
      side: isBuy ? 'BUY' : 'SELL',
      quantity: Math.ceil(r() * 50) * 10,
      price,
      orderType: 'LIMIT',
      venue: w.venues[Math.floor(r() * VENUES)]!,
    };
  }

  accepted(order: Order): void {
    this.open.push(order);
  }

  /** Housekeeping after `count` orders; never inside a timed region. */
  advance(count: number): void {
    this.sinceTick += count;
    while (this.sinceTick >= ORDERS_PER_MS) {
      this.sinceTick -= ORDERS_PER_MS;
      this.clock.advance(1);
      this.ticks++;
      if (this.ticks % 100 === 0) {
        this.world.movePrices();
        refreshPrices(this.engine, this.world);
      }
      // As the service's sweeper does: again while a sweep leaves keys or orders due (an older
      // build's sweep returns nothing, and sweeps all at once).
      if (this.ticks % 1_000 === 0) this.sweepAll();
    }
    this.retire();
  }

  private sweepAll(): void {
    let isDue = true;
    while (isDue) isDue = Boolean(this.engine.sweep());
  }

  private retire(): void {
    const excess = this.openCount - OPEN_ORDERS_PER_ACCOUNT * this.world.accounts.length;
    if (excess <= 0) return;
    const events: ExecutionEvent[] = [];
    for (let i = 0; i < excess; i++) {
      const o = this.open[this.openHead++]!;
      events.push(
        (this.openHead & 7) < 6
          ? { type: 'CANCEL', accountId: o.accountId, orderId: o.orderId }
          : { type: 'FILL', accountId: o.accountId, orderId: o.orderId, quantity: o.quantity, price: o.price! },
      );
    }
    this.engine.applyExecutions(events);
    if (this.openHead > 100_000) {
      this.open.splice(0, this.openHead);
      this.openHead = 0;
    }
  }
}

/**
 * One untimed check of the flow's next order, keeping the flow's bookkeeping (reservations,
 * retirements, time). Uses only OrderFlow's and LimitEngine's public API, so bench:ab runs it
 * on another checkout's engine and flow too.
 */
export function checkNext(engine: LimitEngine, flow: OrderFlow): boolean {
  const order = flow.next();
  const isAccepted = engine.checkOrder(order).decision === 'ACCEPT';
  if (isAccepted) flow.accepted(order);
  flow.advance(1);
  return isAccepted;
}

/**
 * The engine bench's state and flow past a warm-up: `accounts` × 100 symbols of positions, a
 * book of `limits` limits, `warmUpOrders` checked, so windows and open orders churn at their
 * steady size rather than grow.
 */
export function steadyFlow(accounts: number, limits: number, warmUpOrders: number): { engine: LimitEngine; flow: OrderFlow; world: World } {
  const world = new World(seededRandom(42), accounts);
  const { engine, clock } = makeEngine(world);
  loadPositions(engine, world);
  const flow = new OrderFlow(engine, clock, world);
  engine.replaceLimits(limitBook(limits, world));
  for (let i = 0; i < warmUpOrders; i++) checkNext(engine, flow);
  return { engine, flow, world };
}
