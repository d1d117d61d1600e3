import { createHash, randomBytes } from 'node:crypto';
import type { AppConfigInput } from '../src/config/schema.js';
import type { LimitDefinition } from '../src/domain/limit-definition.js';
import { seededRandom } from '../bench/stats.js';

/**
 * The firm a load test trades for: 100 accounts (one strategy each), 50 symbols, 4 venues,
 * reference prices, start-of-day positions, and a book of about 1,000 limits of which about
 * 22 apply to any one order. Thresholds sit far above what the flow produces, so orders
 * ACCEPT and reserve (a REJECT writes a log line, which is not what is being measured).
 */
export const ACCOUNTS = 100;
export const SYMBOLS = 50;
const VENUES = ['XNAS', 'XNYS', 'BATS', 'ARCX'] as const;
/** Distinct order shapes cycled through; large enough that no shape repeats within the duplicate window. */
const SHAPES = 1 << 16;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const cents = (value: number): number => Math.round(value * 100) / 100;

export const accountId = (i: number): string => `ACC-${pad(i, 3)}`;
export const strategyId = (i: number): string => `STRAT-${pad(i, 3)}`;
export const symbolId = (i: number): string => `SYM-${pad(i, 3)}`;

export type Durability = 'fsync' | 'async' | 'off';


export class World {
  readonly prices: number[];
  /** The bearer token the load generator sends; only its SHA-256 goes into the config. */
  readonly gatewayToken = randomBytes(24).toString('hex');
  private readonly random = seededRandom(20_261_125);

  constructor() {
    this.prices = Array.from({ length: SYMBOLS }, () => cents(10 + this.random() * 490));
  }

  marketData(): { prices: { symbol: string; price: number }[] } {
    return { prices: this.prices.map((price, i) => ({ symbol: symbolId(i), price })) };
  }

  /** Every account holds every symbol, long or short, bought within ±5 % of the reference. */
  positions(): { positions: object[]; replace: boolean } {
    const random = seededRandom(7);
    const positions: object[] = [];
    for (let a = 0; a < ACCOUNTS; a++) {
      for (let s = 0; s < SYMBOLS; s++) {
        const size = Math.ceil(random() * 50) * 100;
        positions.push({
          accountId: accountId(a),
          strategyId: strategyId(a),
          symbol: symbolId(s),
          quantity: random() < 0.5 ? -size : size,
          avgPrice: cents(this.prices[s]! * (0.95 + random() * 0.1)),
        });
      }
    }
    return { positions, replace: true };
  }

  /**
   * The service's config: production defaults (metrics on, rate limits on, no access log,
   * info level, the 50 ms default deadline), with the rate limits and capacities raised so
   * that a load test measures the service rather than its 429s, and batches of 10,000 allowed.
   */
  config(options: { openOrderTtlMs?: number; lateFillWindowMs?: number; durability?: Durability } = {}): AppConfigInput {
    return {
      schemaVersion: 1,
      server: {
        host: '127.0.0.1',
        port: 0,
        bodyLimitBytes: 16 * 1024 * 1024,
        defaultDeadlineMs: 50,
        maxBatchSize: 10_000,
        openOrderTtlMs: options.openOrderTtlMs ?? 300_000,
        ...(options.lateFillWindowMs === undefined ? {} : { lateFillWindowMs: options.lateFillWindowMs }),
        maxReferenceAgeMs: 60_000,
        accessLog: false,
        logLevel: 'info',
      },
      auth: {
        enabled: true,
        tokens: [{ name: 'load-gateway', sha256: createHash('sha256').update(this.gatewayToken).digest('hex'), roles: ['gateway'] }],
      },
      rateLimit: {
        enabled: true,
        perStrategy: { max: 1_000_000, timeWindowMs: 1_000 },
        perToken: { max: 100_000, timeWindowMs: 1_000 },
      },
      capacity: { maxOpenOrders: 5_000_000, maxWindowEntries: 1_000_000 },
      history: { capacity: 100_000, retentionMs: 3_600_000 },
      // The production default (async journal) unless a run asks otherwise.
      storage: options.durability === undefined ? {} : { durability: options.durability },
      limits: limitBook(),
    };
  }
}

/**
 * About 1,000 limits: 14 firm-wide rules of every order-checked kind, 8 per account, 2 per
 * symbol and 1 per strategy, plus a restricted list. An order meets about 25 of them.
 */
export function limitBook(): LimitDefinition[] {
  const limits: LimitDefinition[] = [
    { id: 'fat-finger-qty', kind: 'order_quantity', thresholds: { warn: 50_000, hard: 1_000_000 } },
    { id: 'fat-finger-notional', kind: 'order_notional', thresholds: { warn: 5e6, hard: 5e7 } },
    { id: 'price-collar', kind: 'price_deviation', thresholds: { warn: 300, hard: 500 } },
    { id: 'position-acct-sym', kind: 'position', thresholds: { hard: 1e10 } },
    { id: 'gross-acct', kind: 'gross_notional', per: 'account', thresholds: { warn: 1e13, hard: 1e14 } },
    { id: 'firm-gross', kind: 'gross_notional', per: 'global', thresholds: { warn: 1e14, hard: 1e15 } },
    { id: 'open-orders-acct', kind: 'open_orders', per: 'account', thresholds: { hard: 1_000_000 } },
    { id: 'rate-strategy', kind: 'order_rate', per: 'strategy', windowMs: 1_000, thresholds: { warn: 50_000, hard: 100_000 } },
    { id: 'duplicates', kind: 'duplicate_order', per: 'account', windowMs: 2_000, thresholds: { hard: 5 } },
    { id: 'daily-loss-acct', kind: 'daily_loss', per: 'account', thresholds: { warn: 1e12, hard: 1e13 } },
    { id: 'self-trade', kind: 'self_trade', thresholds: { hard: 0 } },
    { id: 'position-firm-sym', kind: 'position', per: 'symbol', thresholds: { hard: 1e12 } },
    { id: 'open-orders-sym', kind: 'open_orders', per: 'symbol', thresholds: { hard: 10_000_000 } },
    { id: 'restricted-list', kind: 'restricted', scope: { symbols: ['RSTR', 'XYZQ'] }, thresholds: { hard: 0 } },
  ];
  for (let a = 0; a < ACCOUNTS; a++) {
    const scope = { accounts: [accountId(a)] };
    const id = (name: string) => `acct-${pad(a, 3)}-${name}`;
    limits.push(
      { id: id('qty'), kind: 'order_quantity', scope, thresholds: { warn: 20_000, hard: 100_000 } },
      { id: id('notional'), kind: 'order_notional', scope, thresholds: { warn: 2e6, hard: 1e7 } },
      { id: id('position'), kind: 'position', scope, thresholds: { warn: 1e8, hard: 1e9 } },
      { id: id('gross'), kind: 'gross_notional', scope, per: 'account', thresholds: { warn: 1e13, hard: 1e14 } },
      { id: id('open'), kind: 'open_orders', scope, per: 'account', thresholds: { hard: 1_000_000 } },
      { id: id('loss'), kind: 'daily_loss', scope, per: 'account', thresholds: { warn: 1e11, hard: 1e12 } },
      { id: id('rate'), kind: 'order_rate', scope, per: 'account', windowMs: 1_000, thresholds: { hard: 100_000 } },
      { id: id('collar'), kind: 'price_deviation', scope, thresholds: { hard: 800 } },
    );
  }
  for (let s = 0; s < SYMBOLS; s++) {
    const scope = { symbols: [symbolId(s)] };
    limits.push(
      { id: `sym-${pad(s, 3)}-position`, kind: 'position', scope, per: 'symbol', thresholds: { hard: 1e12 } },
      { id: `sym-${pad(s, 3)}-collar`, kind: 'price_deviation', scope, per: 'symbol', thresholds: { hard: 1_000 } },
    );
  }
  for (let t = 0; t < ACCOUNTS; t++) {
    limits.push({ id: `strat-${pad(t, 3)}-qty`, kind: 'order_quantity', scope: { strategies: [strategyId(t)] }, per: 'strategy', thresholds: { hard: 500_000 } });
  }
  return limits;
}

/** One order shape without its id: the JSON text after `"orderId":"…"`, and what a fill needs. */
interface Shape {
  readonly rest: string;
  readonly account: string;
  readonly quantity: number;
  readonly price: number;
}

/**
 * Order bodies for the load generator, built by concatenating a unique id onto a precomputed
 * shape: a market maker's passive flow (buys below the reference, sells above, so no self-cross),
 * any symbol and venue, the account's own strategy. Ids are `<prefix><sequence>`, unique per run.
 */
export class OrderFlow {
  private readonly shapes: Shape[] = [];
  private readonly byStrategy: Shape[][] = Array.from({ length: ACCOUNTS }, () => []);
  private seq = 0;

  constructor(
    world: World,
    readonly prefix: string,
  ) {
    const random = seededRandom(42);
    for (let i = 0; i < SHAPES; i++) {
      const a = Math.floor(random() * ACCOUNTS);
      const s = Math.floor(random() * SYMBOLS);
      const isBuy = random() < 0.5;
      const offset = 0.0005 + Math.floor(random() * 400) * 0.00005;
      const price = cents(world.prices[s]! * (isBuy ? 1 - offset : 1 + offset));
      const quantity = Math.ceil(random() * 100) * 10;
      const rest =
        `","accountId":"${accountId(a)}","strategyId":"${strategyId(a)}","symbol":"${symbolId(s)}","side":"${isBuy ? 'BUY' : 'SELL'}",` +
        `"quantity":${quantity},"price":${price},"orderType":"LIMIT","venue":"${VENUES[i % VENUES.length]!}"}`;
      const shape = { rest, account: accountId(a), quantity, price };
      this.shapes.push(shape);
      this.byStrategy[a]!.push(shape);
    }
  }

  get issued(): number {
    return this.seq;
  }

  /** The next order's JSON body. */
  next(): string {
    const seq = this.seq++;
    return `{"orderId":"${this.prefix}${seq}${this.shapes[seq & (SHAPES - 1)]!.rest}`;
  }

  /** The next order of one strategy (its account), for scenarios that pin a connection to a strategy. */
  nextFor(strategy: number): string {
    const seq = this.seq++;
    const shapes = this.byStrategy[strategy % ACCOUNTS]!;
    return `{"orderId":"${this.prefix}${seq}${shapes[seq % shapes.length]!.rest}`;
  }

  /** A batch body of `size` orders. */
  batch(size: number): string {
    let body = '{"orders":[';
    for (let i = 0; i < size; i++) body += (i === 0 ? '' : ',') + this.next();
    return body + ']}';
  }

  /**
   * Executions for orders `from` … `to - 1` issued by `next()`: three in four cancelled, one in
   * four filled in full at its price (rejected orders come back as unknown_order, harmlessly).
   */
  executions(from: number, to: number): { type: 'CANCEL' | 'FILL'; accountId: string; orderId: string; quantity?: number; price?: number }[] {
    const events: { type: 'CANCEL' | 'FILL'; accountId: string; orderId: string; quantity?: number; price?: number }[] = [];
    for (let seq = from; seq < to; seq++) {
      const shape = this.shapes[seq & (SHAPES - 1)]!;
      const orderId = `${this.prefix}${seq}`;
      events.push(
        (seq & 3) === 3
          ? { type: 'FILL', accountId: shape.account, orderId, quantity: shape.quantity, price: shape.price }
          : { type: 'CANCEL', accountId: shape.account, orderId },
      );
    }
    return events;
  }
}
