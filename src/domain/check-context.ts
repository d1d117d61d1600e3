import type { Aggregation, ReasonCode } from './enums.js';
import type { ClosedHandle } from './closed-orders.js';
import type { Exposure, ExposureGroup, ExposureLedger, OpenOrder, SymbolMarket } from './exposure-ledger.js';
import type { Order } from './orders.js';
import { isRounding } from './rounding.js';
import type { WindowRing, WindowStore } from './window-store.js';

/**
 * Everything a limit needs about one order, looked up once per order and reused by every
 * limit. One instance lives as long as the engine: checks are synchronous, so it is never
 * shared by two checks at once, and the hot path allocates no context per order.
 */
export class CheckContext {
  order!: Order;
  now = 0;
  isBuy = true;
  quantity = 0;
  /** The order's own price, NaN for a MARKET order without one. */
  orderPrice = Number.NaN;
  /** The symbol's reference price when fresh enough, else NaN. */
  reference = Number.NaN;
  /** Order price, else reference: what order-level notional and collars use. */
  effectivePrice = Number.NaN;
  /** Reference, else last fill, else order price: what exposure notional uses for this symbol. */
  markPrice = Number.NaN;
  market: SymbolMarket | undefined;
  firm!: ExposureGroup;
  account: ExposureGroup | undefined;
  strategy: ExposureGroup | undefined;
  /**
   * The account's order, open or closed, that has this order's id (nearly always none): looked
   * up here, with the other lookups, for the engine's DUPLICATE_ORDER_ID test. The engine takes
   * it out at once: the context outlives the check, and would otherwise keep that order alive.
   */
  idHolder: OpenOrder | ClosedHandle | undefined;
  accountExposure: Exposure | undefined;
  strategyExposure: Exposure | undefined;
  firmExposure: Exposure | undefined;
  /** Set by a limit that returns NaN: why it could not tell. */
  failure: ReasonCode | undefined;
  /** The value the last limit evaluated left (see StoringEvaluator); a double from the start, so writes never box it. */
  value = Number.NaN;
  /**
   * Group walks already done for this order, by walk and aggregation (global, account,
   * strategy): books often hold several gross_notional or daily_loss limits over the same
   * group (tiers, a firm rule and a per-account one), and the walk is the costly part. NaN
   * (a symbol without a mark) is kept too.
   */
  private readonly walkValues = [0, 0, 0, 0, 0, 0];
  /** Bit per walkValues slot: done for this order. */
  private walksDone = 0;
  /**
   * Rate and duplicate windows this order will be counted in if accepted: the first
   * `windowCount` entries (the arrays are reused, never truncated, so a check allocates none).
   */
  readonly windowRings: (WindowRing | undefined)[] = [];
  readonly windowOwners: WindowOwner[] = [];
  windowCount = 0;
  /**
   * The sum of the numbers read ahead of need (see prepare and touchLimits): nothing uses it,
   * but a load whose value went nowhere could be optimised away.
   */
  touched = 0;

  constructor(
    readonly ledger: ExposureLedger,
    readonly maxReferenceAgeMs: number,
    /** Distinct keys one windowed limit tracks before new keys fail closed. */
    readonly maxWindowKeys: number,
  ) {}

  prepare(order: Order, now: number): void {
    const ledger = this.ledger;
    this.order = order;
    this.now = now;
    this.isBuy = order.side === 'BUY';
    this.quantity = order.quantity;
    this.orderPrice = order.price ?? Number.NaN;
    // The lookups side by side, so their cache misses overlap (see touchLimits); the orders by id
    // wait on the account's, but not on the others.
    this.market = ledger.markets.get(order.symbol);
    this.account = ledger.accounts.get(order.accountId);
    this.strategy = ledger.strategies.get(order.strategyId);
    this.idHolder = ledger.orderById(this.account, order.accountId, order.orderId);
    this.reference = ledger.freshReference(this.market, now, this.maxReferenceAgeMs);
    this.effectivePrice = order.price ?? this.reference;
    const lastFill = this.market?.lastFillPrice ?? Number.NaN;
    this.markPrice = this.reference === this.reference ? this.reference : lastFill === lastFill ? lastFill : this.orderPrice;
    this.firm = ledger.firm;
    const market = this.market;
    if (market === undefined) {
      // No market, no exposure: every exposure's market is in ledger.markets.
      this.accountExposure = undefined;
      this.strategyExposure = undefined;
      this.firmExposure = undefined;
    } else {
      this.accountExposure = this.account?.get(market);
      this.strategyExposure = this.strategy?.get(market);
      this.firmExposure = ledger.firm.get(market);
    }
    // Each exposure's row, read now rather than by the limits that need it, one after another.
    this.touched = positionOf(this.accountExposure) + positionOf(this.strategyExposure) + positionOf(this.firmExposure);
    this.failure = undefined;
    this.walksDone = 0;
    this.windowCount = 0;
  }

  /** The group a non-symbol aggregation adds up over. */
  groupOf(per: Aggregation): ExposureGroup | undefined {
    switch (per) {
      case 'global':
        return this.firm;
      case 'account':
        return this.account;
      case 'strategy':
        return this.strategy;
      default:
        return undefined;
    }
  }

  /** The exposure of the order's symbol inside the group a non-symbol aggregation adds up over. */
  ownExposureIn(per: Aggregation): Exposure | undefined {
    switch (per) {
      case 'global':
        return this.firmExposure;
      case 'account':
        return this.accountExposure;
      case 'strategy':
        return this.strategyExposure;
      default:
        return undefined;
    }
  }

  /** The version of the symbols' walk bounds a group's bound sums must carry to be used now. */
  boundsVersion(): number {
    return this.ledger.walkBounds.versionAt(this.now, this.maxReferenceAgeMs);
  }

  /** A group walk's result for this order, if done: `walk` is GROSS_WALK or LOSS_WALK. */
  walkResult(walk: number, per: Aggregation): number | undefined {
    const slot = walk + groupIndex(per);
    return (this.walksDone & (1 << slot)) === 0 ? undefined : this.walkValues[slot];
  }

  keepWalkResult(walk: number, per: Aggregation, value: number): number {
    const slot = walk + groupIndex(per);
    this.walkValues[slot] = value;
    this.walksDone |= 1 << slot;
    return value;
  }

  /** The single exposure a symbol-level aggregation looks at (undefined: nothing held yet). */
  exposureOf(per: Aggregation): Exposure | undefined {
    switch (per) {
      case 'symbol':
        return this.firmExposure;
      case 'account+symbol':
        return this.accountExposure;
      case 'strategy+symbol':
        return this.strategyExposure;
      default:
        return undefined;
    }
  }

  /**
   * Mark for an exposure: this order's chain for its own symbol, else fresh reference, else last fill.
   * The ledger keeps one SymbolMarket per symbol for good, so identity is symbol equality; it
   * spares a string compare per held symbol in gross_notional and daily_loss (measured in bench/).
   */
  markOf(market: SymbolMarket): number {
    if (market === this.market) return this.markPrice;
    if (this.now - market.refAt <= this.maxReferenceAgeMs) return market.refPrice;
    return market.lastFillPrice;
  }

  /**
   * The fresh reference for an exposure's symbol, else NaN: what unrealized P&L is marked at
   * (DESIGN §3: P × (ref − avg cost)). Not the notional chain of markOf: a last fill can be
   * hours old and the order's own price is the trader's to choose, and either would hide a
   * loss the reference shows; without a fresh reference the loss is unknown.
   */
  referenceOf(market: SymbolMarket): number {
    return market === this.market ? this.reference : this.ledger.freshReference(market, this.now, this.maxReferenceAgeMs);
  }

  /**
   * Whether the order can only bring the account's position in this symbol towards flat,
   * even if every open order on its side fills too (reduce-only never allows a flip). Landing
   * on flat up to rounding counts: selling 0.8 from 0.1 + 0.7 (0.7999999999999999) closes it.
   */
  get isReducing(): boolean {
    const e = this.accountExposure;
    if (e === undefined) return false;
    const position = e.position;
    if (this.isBuy) {
      if (!(position < 0)) return false;
      const adding = e.openBuy + this.quantity;
      const after = position + adding;
      return after <= 0 || isRounding(after, Math.max(-position, adding));
    }
    if (!(position > 0)) return false;
    const taking = e.openSell + this.quantity;
    const after = position - taking;
    return after >= 0 || isRounding(after, Math.max(position, taking));
  }

  /** Remembers a window the order counts in, for the reservation. */
  addWindow(owner: WindowOwner, ring: WindowRing | undefined): void {
    this.windowOwners[this.windowCount] = owner;
    this.windowRings[this.windowCount] = ring;
    this.windowCount++;
  }

  /** Lets go of the windows kept from earlier orders (a book swap: they may belong to its old limits). */
  releaseWindows(): void {
    this.windowOwners.length = 0;
    this.windowRings.length = 0;
    this.windowCount = 0;
  }

  fail(reason: ReasonCode): number {
    this.failure = reason;
    return Number.NaN;
  }
}

/** What a window belongs to: the compiled limit (its id and key store). */
export interface WindowOwner {
  readonly id: string;
  readonly windows: WindowStore;
  readonly windowMs: number;
}

const positionOf = (exposure: Exposure | undefined): number => (exposure === undefined ? 0 : exposure.position);

export const GROSS_WALK = 0;
export const LOSS_WALK = 3;

const groupIndex = (per: Aggregation): number => (per === 'global' ? 0 : per === 'account' ? 1 : 2);

export const isSymbolLevel = (per: Aggregation): boolean =>
  per === 'symbol' || per === 'account+symbol' || per === 'strategy+symbol';
