/**
 * A deliberately slow, obviously correct model of the limit engine's decisions, written from
 * the semantics in DESIGN.md §2–3 (and the test brief), not from the engine's code. It keeps
 * plain lists (open orders, accepted orders, a log of trades and position snapshots) and
 * recomputes every metric from scratch on every check by filtering and replaying them.
 */
import type { Action, Aggregation, LimitKind, ReasonCode, Severity, Side, TradingState } from '../../src/domain/enums.js';
import type { LimitDefinition } from '../../src/domain/limit-definition.js';
import type { ExecutionEvent, Order, PositionRow } from '../../src/domain/orders.js';

export type BreachSeverity = Exclude<Severity, 'INFO'>;

export interface ModelConfig {
  openOrderTtlMs: number;
  lateFillWindowMs: number;
  maxReferenceAgeMs: number;
  severityActions: Readonly<Record<BreachSeverity, Action>>;
}

export interface ModelViolation {
  limitId: string;
  kind: LimitKind;
  severity: Severity;
  action: Action;
  value: number;
  threshold: number;
  key: string;
}

export interface ModelResult {
  orderId: string;
  decision: 'ACCEPT' | 'REJECT';
  reasons: ReasonCode[];
  violations: ModelViolation[];
  evaluated: number;
}

export interface ModelOpenOrder {
  accountId: string;
  orderId: string;
  strategyId: string;
  symbol: string;
  side: Side;
  /** The price the reservation was made at. */
  price: number;
  /** A MARKET order executes at any price: resting, it crosses every order on the other side. */
  isMarket: boolean;
  quantity: number;
  remaining: number;
  lastActivityAt: number;
}

/** An order closed by TTL expiry, by a CANCEL, REJECT or EXPIRE, or filled up: a late fill still moves the position. */
interface ClosedOrder {
  accountId: string;
  orderId: string;
  strategyId: string;
  symbol: string;
  side: Side;
  closedAt: number;
  by: 'TTL' | 'CANCEL' | 'REJECT' | 'EXPIRE' | 'FILL';
}

type LedgerEvent =
  | { type: 'trade'; accountId: string; strategyId: string; symbol: string; side: Side; quantity: number; price: number }
  | { type: 'snapshot'; rows: readonly PositionRow[]; replace: boolean }
  | { type: 'session' };

/**
 * One level's book for one symbol: net position, average cost, realized P&L, and the cost basis
 * a flat aggregate still holds for its accounts' offsetting positions (P&L = realized − flatCost).
 */
export interface PositionBook {
  position: number;
  avgCost: number;
  realized: number;
  flatCost: number;
  /** The largest cost basis held since last flat: rounding below 1e-12 of it is no basis. */
  peakBasis: number;
  /** The largest absolute position held since last flat: what rounding of the position is judged against. */
  peakQuantity: number;
  /** How often rounding was taken for flat or for no price difference: shows the generators reach it (FC_STATS). */
  roundedAway: number;
}

export type Level = 'account' | 'strategy' | 'firm';

export interface ModelActiveViolation {
  limitId: string;
  key: string;
  severity: Severity;
  count: number;
  value: number;
  maxValue: number;
}

export interface Universe {
  accounts: readonly string[];
  strategies: readonly string[];
  symbols: readonly string[];
}

const NOT_APPLICABLE = 'not applicable';
const NO_PRICE = 'no price';
type Metric = number | typeof NOT_APPLICABLE | typeof NO_PRICE;

const DEFAULT_PER: Record<LimitKind, Aggregation> = {
  order_quantity: 'account',
  order_notional: 'account',
  price_deviation: 'account',
  position: 'account+symbol',
  gross_notional: 'account',
  open_orders: 'account',
  order_rate: 'strategy',
  duplicate_order: 'account',
  daily_loss: 'account',
  restricted: 'account',
  self_trade: 'account+symbol',
  value: 'global',
};

const STATE_RANK: Record<TradingState, number> = { ACTIVE: 0, REDUCE_ONLY: 1, HALTED: 2 };

export const perOf = (limit: LimitDefinition): Aggregation => limit.per ?? DEFAULT_PER[limit.kind];

/** Whether two orders (or an order and an open order) fall on the same aggregation key. */
function sameKey(per: Aggregation, a: { accountId: string; strategyId: string; symbol: string }, b: typeof a): boolean {
  const sameAccount = a.accountId === b.accountId;
  const sameStrategy = a.strategyId === b.strategyId;
  const sameSymbol = a.symbol === b.symbol;
  switch (per) {
    case 'global':
      return true;
    case 'account':
      return sameAccount;
    case 'strategy':
      return sameStrategy;
    case 'symbol':
      return sameSymbol;
    case 'account+symbol':
      return sameAccount && sameSymbol;
    case 'strategy+symbol':
      return sameStrategy && sameSymbol;
  }
}

export function keyOf(per: Aggregation, o: { accountId: string; strategyId: string; symbol: string }): string {
  switch (per) {
    case 'global':
      return 'global';
    case 'account':
      return `account:${o.accountId}`;
    case 'strategy':
      return `strategy:${o.strategyId}`;
    case 'symbol':
      return `symbol:${o.symbol}`;
    case 'account+symbol':
      return `account+symbol:${o.accountId}|${o.symbol}`;
    case 'strategy+symbol':
      return `strategy+symbol:${o.strategyId}|${o.symbol}`;
  }
}

export const bookKey = (level: Level, id: string, symbol: string): string => `${level}:${id}|${symbol}`;

function inScope(limit: LimitDefinition, o: Order): boolean {
  if (limit.enabled === false || limit.kind === 'value') return false;
  const s = limit.scope;
  if (s?.accounts !== undefined && !s.accounts.includes(o.accountId)) return false;
  if (s?.strategies !== undefined && !s.strategies.includes(o.strategyId)) return false;
  if (s?.symbols !== undefined && !s.symbols.includes(o.symbol)) return false;
  if (s?.venues !== undefined && (o.venue === undefined || !s.venues.includes(o.venue))) return false;
  return true;
}

function severityOf(limit: LimitDefinition, value: number): { severity: Severity; threshold: number } {
  const t = limit.thresholds;
  const bands: [BreachSeverity, number | undefined][] = [
    ['CRITICAL', t.critical],
    ['HARD_BREACH', t.hard],
    ['SOFT_BREACH', t.soft],
    ['WARNING', t.warn],
  ];
  for (const [severity, threshold] of bands) {
    // Equal on paper counts as equal: a trillionth of the threshold absorbs binary rounding.
    if (threshold !== undefined && value > threshold + Math.abs(threshold) * 1e-12) return { severity, threshold };
  }
  return { severity: 'INFO', threshold: Number.NaN };
}

/**
 * What counts as rounding, restated from DESIGN §3 and src/domain/rounding.ts rather than imported,
 * so that a change to the engine's rule shows up as a disagreement: one binary addition is off by
 * at most half a unit in the last place of the largest number involved, so a result within 64 such
 * units (2^-46) of the largest of them is what rounding left, not a quantity or price anyone traded.
 */
const ROUNDING_ULPS = 2 ** -46;

function isRoundingOf(value: number, ...involved: number[]): boolean {
  return Math.abs(value) <= ROUNDING_ULPS * Math.max(...involved.map(Math.abs));
}

/** price − cost, 0 for prices equal up to rounding: 0.1 and 0.7 bought at 100.1 cost 100.10000000000001 each. */
function gapOf(price: number, cost: number): number {
  return isRoundingOf(price - cost, price, cost) ? 0 : price - cost;
}

const isRejecting = (a: Action): boolean => a === 'BLOCK' || a === 'REDUCE_ONLY' || a === 'HALT';

/** Average-cost accounting of one trade on an account's book. */
function trade(book: PositionBook, signed: number, price: number): void {
  const p = book.position;
  const adds = p === 0 || (p > 0) === (signed > 0);
  if (adds) {
    book.avgCost = (Math.abs(p) * book.avgCost + Math.abs(signed) * price) / (Math.abs(p) + Math.abs(signed));
  } else {
    const closed = Math.min(Math.abs(p), Math.abs(signed));
    const gap = gapOf(price, book.avgCost);
    if (gap === 0 && price !== book.avgCost) book.roundedAway++;
    book.realized += p > 0 ? closed * gap : -closed * gap;
    // What is left after closing the whole position opens the other way at the fill price.
    if (Math.abs(signed) > Math.abs(p)) book.avgCost = price;
  }
  move(book, signed);
  if (book.position === 0) book.avgCost = 0;
}

/**
 * A position closed up to rounding (0.1 + 0.2 − 0.3) is flat. The sums that left it may have been
 * as large as any position held since it was last flat, so that is what the rounding is judged against.
 */
function move(book: PositionBook, delta: number): number {
  const before = book.position;
  const next = before + delta;
  const isFlat = isRoundingOf(next, book.peakQuantity, before, delta);
  if (isFlat && next !== 0) book.roundedAway++;
  book.position = isFlat ? 0 : next;
  book.peakQuantity = isFlat ? 0 : Math.max(book.peakQuantity, Math.abs(before), Math.abs(delta), Math.abs(next));
  return book.position;
}

/**
 * A strategy or the firm moves by what a trade or a snapshot row moved the account: position,
 * cost basis (position × avg cost) and realized P&L. Its average cost is the resulting cost basis
 * over the resulting position; flat, the basis stays as flatCost.
 */
function shift(book: PositionBook, delta: number, deltaCost: number, deltaRealized = 0): void {
  const basis = book.position * book.avgCost + book.flatCost;
  const next = move(book, delta);
  const cost = basis + deltaCost;
  const peak = Math.max(book.peakBasis, Math.abs(basis), Math.abs(deltaCost));
  book.avgCost = next === 0 ? 0 : cost / next;
  book.realized += deltaRealized;
  const isDust = next === 0 && Math.abs(cost) <= peak * 1e-12;
  book.flatCost = next === 0 && !isDust ? cost : 0;
  book.peakBasis = next !== 0 || !isDust ? peak : 0;
}

export class ReferenceModel {
  openOrders: ModelOpenOrder[] = [];
  /** Every order ever accepted (and not rolled back), for executions and id reuse. */
  readonly everAccepted: { accountId: string; orderId: string }[] = [];
  private closed: ClosedOrder[] = [];
  /** Accepted orders of this session with their acceptance time: the rate and duplicate windows. */
  private accepted: { at: number; order: Order }[] = [];
  private ledgerEvents: LedgerEvent[] = [];
  private readonly references = new Map<string, { price: number; at: number }>();
  private readonly lastFill = new Map<string, number>();
  states: Record<string, TradingState> = {};
  readonly active = new Map<string, ModelActiveViolation>();
  /** How often interesting paths were taken, so a test can show its generators reach them. */
  readonly seen = new Map<string, number>();

  private note(what: string): void {
    this.seen.set(what, (this.seen.get(what) ?? 0) + 1);
  }

  constructor(
    private readonly config: ModelConfig,
    private readonly limits: readonly LimitDefinition[],
    readonly universe: Universe,
  ) {}

  // ---- derived state, recomputed from the lists -------------------------------------------

  /** Replays every trade and snapshot in order into per-level books. */
  books(): Map<string, PositionBook> {
    const books = new Map<string, PositionBook>();
    const at = (key: string): PositionBook => {
      let book = books.get(key);
      if (book === undefined) {
        book = { position: 0, avgCost: 0, realized: 0, flatCost: 0, peakBasis: 0, peakQuantity: 0, roundedAway: 0 };
        books.set(key, book);
      }
      return book;
    };
    for (const event of this.ledgerEvents) {
      if (event.type === 'trade') {
        const signed = event.side === 'BUY' ? event.quantity : -event.quantity;
        const account = at(bookKey('account', event.accountId, event.symbol));
        const [basis, realized] = [account.position * account.avgCost, account.realized];
        trade(account, signed, event.price);
        const [deltaCost, deltaRealized] = [account.position * account.avgCost - basis, account.realized - realized];
        shift(at(bookKey('strategy', event.strategyId, event.symbol)), signed, deltaCost, deltaRealized);
        shift(at(bookKey('firm', '', event.symbol)), signed, deltaCost, deltaRealized);
      } else if (event.type === 'session') {
        for (const book of books.values()) book.realized = 0;
      } else {
        if (event.replace) {
          for (const book of books.values()) {
            book.position = 0;
            book.avgCost = 0;
            book.flatCost = 0;
            book.peakBasis = 0;
            book.peakQuantity = 0;
          }
        }
        for (const row of event.rows) {
          const account = at(bookKey('account', row.accountId, row.symbol));
          const avgCost = row.quantity === 0 ? 0 : row.avgPrice;
          const delta = row.quantity - account.position;
          const deltaCost = row.quantity * avgCost - account.position * account.avgCost;
          account.position = row.quantity;
          account.peakQuantity = Math.abs(row.quantity);
          account.avgCost = avgCost;
          shift(at(bookKey('firm', '', row.symbol)), delta, deltaCost);
          if (row.strategyId !== undefined) shift(at(bookKey('strategy', row.strategyId, row.symbol)), delta, deltaCost);
        }
      }
    }
    return books;
  }

  /** The account's net position in the symbol (for orders that flatten it). */
  positionOf(accountId: string, symbol: string): number {
    return this.books().get(bookKey('account', accountId, symbol))?.position ?? 0;
  }

  private freshReference(symbol: string, now: number): number {
    const ref = this.references.get(symbol);
    return ref !== undefined && now - ref.at <= this.config.maxReferenceAgeMs ? ref.price : Number.NaN;
  }

  /** Fresh reference, else last fill, else (for the order's own symbol) the order's price. */
  private mark(symbol: string, order: Order, now: number): number {
    const ref = this.freshReference(symbol, now);
    if (!Number.isNaN(ref)) return ref;
    const last = this.lastFill.get(symbol);
    if (last !== undefined) return last;
    return symbol === order.symbol ? (order.price ?? Number.NaN) : Number.NaN;
  }

  private openOn(per: Aggregation, o: Order, symbol: string, side: Side): number {
    return this.openOrders
      .filter((open) => open.symbol === symbol && open.side === side && sameKey(per, o, open))
      .reduce((sum, open) => sum + open.remaining, 0);
  }

  /** Which level's books a per adds up, for which id, over which symbols. */
  private exposureScope(per: Aggregation, o: Order): { level: Level; id: string; symbols: readonly string[] } {
    const all = this.universe.symbols;
    switch (per) {
      case 'global':
        return { level: 'firm', id: '', symbols: all };
      case 'account':
        return { level: 'account', id: o.accountId, symbols: all };
      case 'strategy':
        return { level: 'strategy', id: o.strategyId, symbols: all };
      case 'symbol':
        return { level: 'firm', id: '', symbols: [o.symbol] };
      case 'account+symbol':
        return { level: 'account', id: o.accountId, symbols: [o.symbol] };
      case 'strategy+symbol':
        return { level: 'strategy', id: o.strategyId, symbols: [o.symbol] };
    }
  }

  /**
   * Whether the order, with every open order on its side filled too, moves the account's position
   * towards flat without passing it. Passing flat by rounding only (selling 0.8 of 0.1 + 0.7) lands on it.
   */
  private isReducing(o: Order, books: Map<string, PositionBook>): boolean {
    const p = books.get(bookKey('account', o.accountId, o.symbol))?.position ?? 0;
    const flow = o.side === 'BUY' ? this.openOn('account+symbol', o, o.symbol, 'BUY') + o.quantity : -(this.openOn('account+symbol', o, o.symbol, 'SELL') + o.quantity);
    if (p === 0 || p > 0 === flow > 0) return false;
    const after = p + flow;
    if (after === 0 || Math.sign(after) === Math.sign(p)) return true;
    if (!isRoundingOf(after, p, flow)) return false;
    this.note('reducing only up to rounding');
    return true;
  }

  private windowCount(limit: LimitDefinition, o: Order, now: number, sameOrder: boolean): number {
    const per = perOf(limit);
    const windowMs = limit.windowMs ?? 0;
    return this.accepted.filter(
      ({ at, order }) =>
        at > now - windowMs &&
        inScope(limit, order) &&
        sameKey(per, o, order) &&
        (!sameOrder ||
          (order.symbol === o.symbol && order.side === o.side && order.quantity === o.quantity && (order.price ?? 'MKT') === (o.price ?? 'MKT'))),
    ).length;
  }

  private metric(limit: LimitDefinition, o: Order, now: number, books: Map<string, PositionBook>): Metric {
    const per = perOf(limit);
    const book = (level: Level, id: string, symbol: string): PositionBook =>
      books.get(bookKey(level, id, symbol)) ?? { position: 0, avgCost: 0, realized: 0, flatCost: 0, peakBasis: 0, peakQuantity: 0, roundedAway: 0 };
    switch (limit.kind) {
      case 'order_quantity':
        return o.quantity;
      case 'order_notional': {
        const price = o.price ?? this.freshReference(o.symbol, now);
        return Number.isNaN(price) ? NO_PRICE : o.quantity * price;
      }
      case 'price_deviation': {
        const ref = this.freshReference(o.symbol, now);
        if (Number.isNaN(ref)) return limit.missingReference === 'allow' ? 0 : NO_PRICE;
        if (o.price === undefined) return 0;
        return (Math.abs(o.price - ref) / ref) * 10_000;
      }
      case 'position': {
        const { level, id } = this.exposureScope(per, o);
        const p = book(level, id, o.symbol).position;
        const flow = o.quantity + this.openOn(per, o, o.symbol, o.side);
        const after = o.side === 'BUY' ? p + flow : p - flow;
        // Landing on flat up to rounding (covering a short of 0.1 + 0.2 with 0.3) is flat, as for REDUCE_ONLY.
        if (after !== 0 && isRoundingOf(after, p, flow)) {
          this.note('position lands on flat up to rounding');
          return 0;
        }
        return Math.abs(after);
      }
      case 'gross_notional': {
        const { level, id, symbols } = this.exposureScope(per, o);
        let total = 0;
        for (const symbol of symbols) {
          const p = book(level, id, symbol).position;
          const own = symbol === o.symbol;
          const buys = this.openOn(per, o, symbol, 'BUY') + (own && o.side === 'BUY' ? o.quantity : 0);
          const sells = this.openOn(per, o, symbol, 'SELL') + (own && o.side === 'SELL' ? o.quantity : 0);
          const worst = Math.max(Math.abs(p + buys), Math.abs(p - sells));
          if (worst === 0) continue;
          const mark = this.mark(symbol, o, now);
          if (Number.isNaN(mark)) return NO_PRICE;
          total += worst * mark;
        }
        return total;
      }
      case 'open_orders':
        return this.openOrders.filter((open) => sameKey(per, o, open)).length + 1;
      case 'order_rate':
        return this.windowCount(limit, o, now, false) + 1;
      case 'duplicate_order':
        return this.windowCount(limit, o, now, true) + 1;
      case 'daily_loss': {
        if (this.isReducing(o, books)) {
          this.note('daily_loss not applicable (reducing)');
          return NOT_APPLICABLE;
        }
        const { level, id, symbols } = this.exposureScope(per, o);
        this.note('daily_loss evaluated');
        let pnl = 0;
        for (const symbol of symbols) {
          const b = book(level, id, symbol);
          if (b.position === 0) {
            if (b.realized !== 0) this.note('daily_loss counts realized of a flat position');
            if (b.flatCost !== 0) this.note('daily_loss counts the basis a flat aggregate keeps');
            pnl += b.realized - b.flatCost;
            continue;
          }
          const mark = this.freshReference(symbol, now);
          if (Number.isNaN(mark)) return NO_PRICE;
          if (symbol !== o.symbol) this.note('daily_loss marks another symbol');
          pnl += b.realized + b.position * gapOf(mark, b.avgCost);
        }
        return Math.max(0, -pnl);
      }
      case 'restricted':
        return 1;
      case 'self_trade': {
        const opposite = this.openOrders.filter((open) => open.side !== o.side && sameKey(per, o, open));
        const crosses = opposite.some(
          (open) =>
            o.price === undefined || o.orderType === 'MARKET' || open.isMarket || (o.side === 'BUY' ? o.price >= open.price : o.price <= open.price),
        );
        if (crosses) this.note('self trade');
        return crosses ? 1 : 0;
      }
      case 'value':
        return NOT_APPLICABLE;
    }
  }

  private stateFor(o: Order): TradingState {
    const scopes: Aggregation[] = ['global', 'account', 'strategy', 'symbol', 'account+symbol', 'strategy+symbol'];
    let worst: TradingState = 'ACTIVE';
    for (const per of scopes) {
      const state = this.states[keyOf(per, o)] ?? 'ACTIVE';
      if (STATE_RANK[state] > STATE_RANK[worst]) worst = state;
    }
    return worst;
  }

  // ---- operations -------------------------------------------------------------------------

  /** TTL expiry, run where the engine runs it: at the start of checks and executions. */
  expire(now: number): void {
    const stale = this.openOrders.filter((o) => now - o.lastActivityAt >= this.config.openOrderTtlMs);
    this.openOrders = this.openOrders.filter((o) => !stale.includes(o));
    for (const o of stale) this.closed.push({ ...o, closedAt: now, by: 'TTL' });
    if (stale.length > 0) this.note('ttl expiry');
  }

  checkOrder(order: Order, now: number): ModelResult {
    this.expire(now);
    return this.check(order, now).result;
  }

  checkBatch(orders: readonly Order[], atomic: boolean, now: number): ModelResult[] {
    this.expire(now);
    const results: ModelResult[] = [];
    const taken: { open: ModelOpenOrder; acceptedIndex: number }[] = [];
    for (let i = 0; i < orders.length; i++) {
      const { result, reservation } = this.check(orders[i]!, now);
      results.push(result);
      if (reservation !== undefined) taken.push(reservation);
      if (result.decision === 'REJECT' && atomic) {
        if (taken.length > 0) this.note('atomic batch rolled back');
        // Take back what this batch reserved; violations and trading states stay.
        this.openOrders = this.openOrders.filter((o) => !taken.some((t) => t.open === o));
        const acceptedIndexes = new Set(taken.map((t) => t.acceptedIndex));
        this.accepted = this.accepted.filter((_, index) => !acceptedIndexes.has(index));
        this.everAccepted.splice(this.everAccepted.length - taken.length, taken.length);
        for (let j = 0; j < i; j++) results[j] = { ...results[j]!, decision: 'REJECT', reasons: ['BATCH_REJECTED'] };
        for (let j = i + 1; j < orders.length; j++) {
          results.push({ orderId: orders[j]!.orderId, decision: 'REJECT', reasons: ['BATCH_REJECTED'], violations: [], evaluated: 0 });
        }
        break;
      }
    }
    return results;
  }

  private check(o: Order, now: number): { result: ModelResult; reservation?: { open: ModelOpenOrder; acceptedIndex: number } } {
    const reject = (reason: ReasonCode): { result: ModelResult } => ({
      result: { orderId: o.orderId, decision: 'REJECT', reasons: [reason], violations: [], evaluated: 0 },
    });
    const books = this.books();
    const state = this.stateFor(o);
    if (state === 'HALTED') return reject('HALTED');
    if (state === 'REDUCE_ONLY' && !this.isReducing(o, books)) return reject('REDUCE_ONLY');
    if (state === 'REDUCE_ONLY') this.note('reducing order passes REDUCE_ONLY');
    if (this.openOrders.some((open) => open.accountId === o.accountId && open.orderId === o.orderId)) return reject('DUPLICATE_ORDER_ID');
    // An id closed within the late-fill window is still taken: its late fills would land on the new order.
    if (this.closed.some((c) => c.accountId === o.accountId && c.orderId === o.orderId && now - c.closedAt < this.config.lateFillWindowMs)) {
      this.note('id of a recently closed order refused');
      return reject('DUPLICATE_ORDER_ID');
    }

    let evaluated = 0;
    let isBlocked = false;
    let lacksPrice = false;
    const violations: ModelViolation[] = [];
    const clean: LimitDefinition[] = [];
    for (const limit of this.limits) {
      if (!inScope(limit, o)) continue;
      const value = this.metric(limit, o, now, books);
      if (value === NOT_APPLICABLE) continue;
      evaluated++;
      if (value === NO_PRICE) {
        lacksPrice = true;
        continue;
      }
      const { severity, threshold } = severityOf(limit, value);
      if (severity === 'INFO') {
        clean.push(limit);
        continue;
      }
      const action = limit.actions?.[severity] ?? this.config.severityActions[severity];
      if (isRejecting(action)) isBlocked = true;
      violations.push({ limitId: limit.id, kind: limit.kind, severity, action, value, threshold, key: keyOf(perOf(limit), o) });
    }

    for (const v of violations) {
      const id = `${v.limitId}#${v.key}`;
      const active = this.active.get(id);
      if (active === undefined) {
        this.active.set(id, { limitId: v.limitId, key: v.key, severity: v.severity, count: 1, value: v.value, maxValue: v.value });
      } else {
        active.severity = v.severity;
        active.count++;
        active.value = v.value;
        active.maxValue = Math.max(active.maxValue, v.value);
      }
      if (v.action === 'HALT' || v.action === 'REDUCE_ONLY') this.tighten(v.key, v.action === 'HALT' ? 'HALTED' : 'REDUCE_ONLY');
    }
    for (const limit of clean) this.active.delete(`${limit.id}#${keyOf(perOf(limit), o)}`);

    const reasons: ReasonCode[] = [];
    if (isBlocked) reasons.push('LIMIT_BREACH');
    if (lacksPrice) reasons.push('NO_REFERENCE_PRICE');
    const result: ModelResult = { orderId: o.orderId, decision: reasons.length === 0 ? 'ACCEPT' : 'REJECT', reasons, violations, evaluated };
    if (result.decision === 'REJECT') return { result };

    const last = this.lastFill.get(o.symbol);
    const ref = this.freshReference(o.symbol, now);
    const price = o.price ?? (!Number.isNaN(ref) ? ref : (last ?? 0));
    const open: ModelOpenOrder = {
      accountId: o.accountId,
      orderId: o.orderId,
      strategyId: o.strategyId,
      symbol: o.symbol,
      side: o.side,
      price,
      isMarket: o.orderType === 'MARKET',
      quantity: o.quantity,
      remaining: o.quantity,
      lastActivityAt: now,
    };
    this.openOrders.push(open);
    this.accepted.push({ at: now, order: o });
    this.everAccepted.push({ accountId: o.accountId, orderId: o.orderId });
    return { result, reservation: { open, acceptedIndex: this.accepted.length - 1 } };
  }

  private tighten(scope: string, state: TradingState): void {
    if (STATE_RANK[state] > STATE_RANK[this.states[scope] ?? 'ACTIVE']) this.states[scope] = state;
  }

  applyExecutions(events: readonly ExecutionEvent[], now: number): ('applied' | 'unknown_order')[] {
    this.expire(now);
    return events.map((event) => {
      const open = this.openOrders.find((o) => o.accountId === event.accountId && o.orderId === event.orderId);
      if (event.type !== 'FILL') {
        if (open === undefined) return 'unknown_order';
        this.openOrders = this.openOrders.filter((o) => o !== open);
        this.closed.push({ ...open, closedAt: now, by: event.type });
        return 'applied';
      }
      const quantity = event.quantity!;
      const price = event.price!;
      // A fill for an order that closed (expired, or was cancelled or rejected: the venue may have
      // filled it before it saw the cancel) within the late-fill window still moves the position.
      const closed =
        open === undefined
          ? this.closed.findLast(
              (o) => o.accountId === event.accountId && o.orderId === event.orderId && now - o.closedAt < this.config.lateFillWindowMs,
            )
          : undefined;
      const owner: { strategyId: string; symbol: string; side: Side } | undefined = open ?? closed;
      if (owner === undefined) return 'unknown_order';
      if (closed !== undefined) this.note(`late fill after ${closed.by}`);
      if (open !== undefined) {
        if (quantity > open.remaining) this.note('over-fill');
        open.remaining -= Math.min(quantity, open.remaining);
        if (open.remaining !== 0 && isRoundingOf(open.remaining, open.quantity)) {
          this.note('order filled up to rounding');
          open.remaining = 0;
        }
        open.lastActivityAt = now;
        if (open.remaining <= 0) {
          // Filled up: an over-fill the venue reports after it is booked as the cancelled order's would be.
          this.openOrders = this.openOrders.filter((o) => o !== open);
          this.closed.push({ ...open, closedAt: now, by: 'FILL' });
        }
      }
      this.ledgerEvents.push({ type: 'trade', accountId: event.accountId, strategyId: owner.strategyId, symbol: owner.symbol, side: owner.side, quantity, price });
      this.lastFill.set(owner.symbol, price);
      return 'applied';
    });
  }

  applyPositions(rows: readonly PositionRow[], replace: boolean): void {
    this.ledgerEvents.push({ type: 'snapshot', rows, replace });
  }

  setReferencePrices(prices: readonly { symbol: string; price: number }[], now: number): void {
    for (const { symbol, price } of prices) this.references.set(symbol, { price, at: now });
  }

  setTradingState(scope: string, state: TradingState): void {
    if (state === 'ACTIVE') delete this.states[scope];
    else this.states[scope] = state;
  }

  resetSession(): void {
    this.ledgerEvents.push({ type: 'session' });
    this.accepted = [];
  }

  /** Open quantity and notional (at the reserved price) by side, and open count, on one level's book for one symbol. */
  openAt(level: Level, id: string, symbol: string): { buy: number; sell: number; count: number; buyNotional: number; sellNotional: number } {
    const mine = this.openOrders.filter(
      (o) => o.symbol === symbol && (level === 'firm' || (level === 'account' ? o.accountId === id : o.strategyId === id)),
    );
    const sum = (side: Side, value: (o: ModelOpenOrder) => number): number =>
      mine.filter((o) => o.side === side).reduce((s, o) => s + value(o), 0);
    return {
      buy: sum('BUY', (o) => o.remaining),
      sell: sum('SELL', (o) => o.remaining),
      count: mine.length,
      buyNotional: sum('BUY', (o) => o.remaining * o.price),
      sellNotional: sum('SELL', (o) => o.remaining * o.price),
    };
  }
}
