import { closedOrderIds, ClosedOrders } from './closed-orders.js';
import type { ClosedHandle } from './closed-orders.js';
import { ExposureTable } from './exposure-table.js';
import { isRounding, priceGap } from './rounding.js';
import { KEYS_PER_SHARD, ShardedMap } from './sharded-map.js';
import { EDIT_ROUNDING, EDITS_BEFORE_RESTAMP, WalkBounds } from './walk-bounds.js';
import { OrderIdTable } from './order-id-table.js';
import { SparePool } from './spare-pool.js';
import type { Renewable } from './spare-pool.js';
import type { ClosedOrderFields } from './closed-orders.js';
import type { OrderType, Side } from './enums.js';
import type { PositionRow } from './orders.js';

/** Numbers markets as they are made, process-wide: a market's key in its groups' ExposureTables. */
let nextMarketId = 0;

/** Market data for one symbol: the reference price with its time, and the last fill seen. */
export class SymbolMarket {
  readonly id = nextMarketId++;
  refPrice = Number.NaN;
  refAt = Number.NEGATIVE_INFINITY;
  lastFillPrice = Number.NaN;
  /** Price bounds the group walks' shortcut assumes (see WalkBounds): open until first set. */
  grossMark = Number.POSITIVE_INFINITY;
  lossLow = Number.NEGATIVE_INFINITY;
  lossHigh = Number.POSITIVE_INFINITY;
  /** Links of WalkBounds' queue of references, oldest first. */
  older: SymbolMarket | undefined = undefined;
  newer: SymbolMarket | undefined = undefined;
  constructor(readonly symbol: string) {}
}

/**
 * Where an exposure's numbers live in its group's `rows`: one row of STRIDE doubles per held
 * symbol, packed. The per-group walks of gross_notional and daily_loss read a random account's
 * every row on each check; contiguous rows cost a few cache lines where scattered objects cost
 * one miss each (measured in bench/).
 */
export const POSITION = 0;
export const AVG_COST = 1;
export const REALIZED = 2;
export const OPEN_BUY = 3;
export const OPEN_SELL = 4;
export const STRIDE = 5;
/** Numbers no walk reads live apart, in `cold`, so the walks' rows stay narrow. */
const OPEN_BUY_NOTIONAL = 0;
const OPEN_SELL_NOTIONAL = 1;
/** Cost basis a flat aggregate still holds (see addAccountChange); read by the loss walk for flat rows only. */
export const FLAT_COST = 2;
/** The largest cost basis an aggregate row held since it was last flat: what its rounding is relative to. */
const PEAK_BASIS = 3;
/** The largest absolute position the row held since it was last flat: what its rounding is relative to. */
const PEAK_QUANTITY = 4;
/** The largest open buy (sell) quantity since it was last 0: what its rounding is relative to. */
const PEAK_OPEN_BUY = 5;
const PEAK_OPEN_SELL = 6;
export const COLD_STRIDE = 7;
/** Account or strategy groups a shard of the ledger's maps holds on average (a rebuild of ~5 ms). */
const GROUPS_PER_SHARD = 65_536;

/**
 * One symbol's exposure inside a group (an account, a strategy, or the whole firm). An account
 * is an average-cost book: fills that reduce the position realize (price − avgCost) × quantity;
 * unrealized P&L is position × (mark − avgCost). A strategy and the firm add up their accounts'
 * changes (see addAccountChange).
 */
export class Exposure {
  /** The group's rows while the exposure is held there; a private copy once it was dropped. */
  rows!: Float64Array;
  base = 0;
  cold!: Float64Array;
  coldBase = 0;
  openCount = 0;
  /**
   * Open orders on this exposure, for self_trade: always all of them at account level; at
   * strategy and firm level all of them while a self_trade limit adds up there, else only some
   * (see trackOrders). A list threaded through
   * the orders themselves (their links for this exposure's level), so tracking an order
   * allocates nothing.
   */
  private firstOrder: OpenOrder | undefined;
  /**
   * The highest open BUY and lowest open SELL price of the list, for self_trade: kept up to
   * date on additions, and recomputed only after an order at the best price left (or the list
   * was rebuilt), so a check does not scan every resting order. Undefined until asked for:
   * two boxed doubles on each of a million plain positions were 32 MB of heap to mark.
   */
  private best: { buy: number; sell: number } | undefined;

  constructor(
    readonly market: SymbolMarket,
    readonly group: ExposureGroup,
  ) {
    group.attach(this);
  }

  get position(): number {
    return this.rows[this.base + POSITION]!;
  }

  set position(value: number) {
    this.group.editRow(this, POSITION, value);
  }

  get avgCost(): number {
    return this.rows[this.base + AVG_COST]!;
  }

  set avgCost(value: number) {
    this.group.editRow(this, AVG_COST, value);
  }

  get realized(): number {
    return this.rows[this.base + REALIZED]!;
  }

  set realized(value: number) {
    this.group.editRow(this, REALIZED, value);
  }

  get openBuy(): number {
    return this.rows[this.base + OPEN_BUY]!;
  }

  set openBuy(value: number) {
    this.group.editRow(this, OPEN_BUY, value);
  }

  get openSell(): number {
    return this.rows[this.base + OPEN_SELL]!;
  }

  set openSell(value: number) {
    this.group.editRow(this, OPEN_SELL, value);
  }

  get openBuyNotional(): number {
    return this.cold[this.coldBase + OPEN_BUY_NOTIONAL]!;
  }

  set openBuyNotional(value: number) {
    this.cold[this.coldBase + OPEN_BUY_NOTIONAL] = value;
  }

  get openSellNotional(): number {
    return this.cold[this.coldBase + OPEN_SELL_NOTIONAL]!;
  }

  set openSellNotional(value: number) {
    this.cold[this.coldBase + OPEN_SELL_NOTIONAL] = value;
  }

  /**
   * The cost basis (position × avgCost) of a flat strategy or firm level whose accounts still
   * hold offsetting positions (see addAccountChange): its P&L is then realized − flatCost. 0
   * whenever the position is not flat, and at account level always.
   */
  get flatCost(): number {
    return this.cold[this.coldBase + FLAT_COST]!;
  }

  set flatCost(value: number) {
    this.group.editFlatCost(this, value);
  }

  get peakBasis(): number {
    return this.cold[this.coldBase + PEAK_BASIS]!;
  }

  set peakBasis(value: number) {
    this.cold[this.coldBase + PEAK_BASIS] = value;
  }

  get peakQuantity(): number {
    return this.cold[this.coldBase + PEAK_QUANTITY]!;
  }

  set peakQuantity(value: number) {
    this.cold[this.coldBase + PEAK_QUANTITY] = value;
  }

  get peakOpenBuy(): number {
    return this.cold[this.coldBase + PEAK_OPEN_BUY]!;
  }

  set peakOpenBuy(value: number) {
    this.cold[this.coldBase + PEAK_OPEN_BUY] = value;
  }

  get peakOpenSell(): number {
    return this.cold[this.coldBase + PEAK_OPEN_SELL]!;
  }

  set peakOpenSell(value: number) {
    this.cold[this.coldBase + PEAK_OPEN_SELL] = value;
  }

  get hasOrders(): boolean {
    return this.firstOrder !== undefined;
  }

  trackOrder(order: OpenOrder): void {
    const level = this.group.level;
    if (order.isListedIn(level)) return;
    const first = this.firstOrder;
    order.linkIn(level, undefined, first);
    if (first !== undefined) first.setPrevIn(level, order);
    this.firstOrder = order;
    const best = this.best;
    if (best === undefined) return;
    if (order.side === 'BUY') best.buy = Math.max(best.buy, order.crossingPrice);
    else best.sell = Math.min(best.sell, order.crossingPrice);
  }

  untrackOrder(order: OpenOrder): void {
    const level = this.group.level;
    if (!order.isListedIn(level)) return;
    const prev = order.prevIn(level);
    const next = order.nextIn(level);
    if (prev === undefined) this.firstOrder = next;
    else prev.setNextIn(level, next);
    if (next !== undefined) next.setPrevIn(level, prev);
    order.unlinkIn(level);
    const best = this.best;
    if (best !== undefined && (order.side === 'BUY' ? order.crossingPrice >= best.buy : order.crossingPrice <= best.sell)) this.best = undefined;
  }

  /** -Infinity when no BUY is open; +Infinity while a MARKET BUY is (see OpenOrder.crossingPrice). */
  get highestOpenBuy(): number {
    return (this.best ?? this.refreshBest()).buy;
  }

  /** +Infinity when no SELL is open; -Infinity while a MARKET SELL is. */
  get lowestOpenSell(): number {
    return (this.best ?? this.refreshBest()).sell;
  }

  private refreshBest(): { buy: number; sell: number } {
    let bestBuy = Number.NEGATIVE_INFINITY;
    let bestSell = Number.POSITIVE_INFINITY;
    const level = this.group.level;
    for (let order = this.firstOrder; order !== undefined; order = order.nextIn(level)) {
      if (order.side === 'BUY') bestBuy = Math.max(bestBuy, order.crossingPrice);
      else bestSell = Math.min(bestSell, order.crossingPrice);
    }
    this.best = { buy: bestBuy, sell: bestSell };
    return this.best;
  }

  get isEmpty(): boolean {
    return this.position === 0 && this.realized === 0 && this.openCount === 0 && this.flatCost === 0;
  }
}

/**
 * An account, a strategy, or the firm: its exposures by symbol and its open-order count. The
 * exposures' numbers are packed in `rows`, slot k's market in `markets[k]`, so a walk over
 * every held symbol reads two arrays and touches no exposure object. The group is itself its
 * table of exposures by market (`get`, see ExposureTable), what a check looks up first in each
 * group: held in a field, the table was one more dependent load, a cache miss on every check
 * at 10,000 accounts (`bench:ab` median 0.947 and 0.960 of a group with a table field).
 */
export class ExposureGroup extends ExposureTable<Exposure> {
  rows = new Float64Array(STRIDE * 4);
  cold = new Float64Array(COLD_STRIDE * 4);
  readonly markets: SymbolMarket[] = [];
  private readonly slots: Exposure[] = [];
  openCount = 0;
  /**
   * Orders by id, kept on account groups only: the open ones, and the closed ones still in their
   * late-fill window (ClosedOrders forgets them), whose ids are not yet free. A market maker's
   * can hold hundreds of thousands (see putById).
   */
  ordersById: OrdersById | undefined;
  /**
   * The rows added up at their symbols' bounds (see WalkBounds), kept through every edit of a
   * row: an upper bound of the gross notional, a lower bound of the P&L, and the size of the P&L
   * terms (what the walk's rounding is relative to). They hold while `boundsAt` is the current
   * WalkBounds version; -1 until a walk first stamps them. The slacks are the rounding the edits
   * may have added since.
   */
  boundsAt = -1;
  grossUpper = 0;
  grossSlack = 0;
  lossLower = 0;
  lossScale = 0;
  lossSlack = 0;
  boundEdits = 0;
  constructor(
    readonly id: string,
    readonly level: Level,
    /** Whose version the bound sums are stamped with: sums it has moved past are not edited, only restamped. */
    private readonly bounds: WalkBounds,
  ) {
    super();
  }

  /** Writes one number of an exposure's row; an attached row's terms in the bound sums follow. */
  editRow(exposure: Exposure, field: number, value: number): void {
    const rows = exposure.rows;
    const at = exposure.base + field;
    if (this.boundsAt !== this.bounds.version || rows !== this.rows) {
      rows[at] = value;
      return;
    }
    const { base, coldBase, market } = exposure;
    // Open quantities are in the gross term only: the edit every reservation makes, kept free of calls.
    if (field === OPEN_BUY || field === OPEN_SELL) {
      this.editOpenQuantity(rows, base, at, value, market.grossMark);
      return;
    }
    const cold = this.cold;
    // The position is in both terms; average cost and realized are in the P&L term only.
    const isGross = field === POSITION;
    const gross = isGross ? grossTerm(rows, base, market) : 0;
    const loss = lossTerm(rows, base, cold, coldBase, market);
    const scale = lossScaleTerm(rows, base, cold, coldBase, market);
    rows[at] = value;
    if (isGross) this.addToGross(grossTerm(rows, base, market) - gross);
    this.addToLoss(lossTerm(rows, base, cold, coldBase, market) - loss, lossScaleTerm(rows, base, cold, coldBase, market) - scale);
    this.boundEdits++;
  }

  /** grossTerm before and after, written out: a double returned from a call that is not inlined is a heap allocation. */
  private editOpenQuantity(rows: Float64Array, base: number, at: number, value: number, mark: number): void {
    const position = rows[base + POSITION]!;
    const before = Math.max(position + rows[base + OPEN_BUY]!, rows[base + OPEN_SELL]! - position);
    rows[at] = value;
    const after = Math.max(position + rows[base + OPEN_BUY]!, rows[base + OPEN_SELL]! - position);
    this.addToGross((after === 0 ? 0 : after * mark) - (before === 0 ? 0 : before * mark));
    this.boundEdits++;
  }

  /** As editRow, for the one `cold` number the loss walk reads. */
  editFlatCost(exposure: Exposure, value: number): void {
    const cold = exposure.cold;
    const at = exposure.coldBase + FLAT_COST;
    if (this.boundsAt !== this.bounds.version || cold !== this.cold) {
      cold[at] = value;
      return;
    }
    const before = cold[at]!;
    cold[at] = value;
    // A flat row's loss term is realized − flatCost; a held row's does not read it.
    this.addToLoss(this.rows[exposure.base + POSITION] === 0 ? before - value : 0, Math.abs(value) - Math.abs(before));
    this.boundEdits++;
  }

  private addToGross(change: number): void {
    const grossUpper = this.grossUpper + change;
    this.grossSlack += (Math.abs(change) + Math.abs(grossUpper)) * EDIT_ROUNDING;
    this.grossUpper = grossUpper;
  }

  private addToLoss(change: number, scaleChange: number): void {
    const lossLower = this.lossLower + change;
    const lossScale = this.lossScale + scaleChange;
    this.lossSlack += (Math.abs(change) + Math.abs(lossLower) + Math.abs(scaleChange) + Math.abs(lossScale)) * EDIT_ROUNDING;
    this.lossLower = lossLower;
    this.lossScale = lossScale;
  }

  /** Adds the rows up afresh at the symbols' current bounds (a walk just read them). */
  restampBounds(version: number): void {
    const { rows, cold, markets } = this;
    let gross = 0;
    let grossSize = 0;
    let loss = 0;
    let scale = 0;
    for (let slot = 0, base = 0, coldBase = 0; slot < markets.length; slot++, base += STRIDE, coldBase += COLD_STRIDE) {
      const market = markets[slot]!;
      const term = grossTerm(rows, base, market);
      gross += term;
      grossSize += Math.abs(term);
      loss += lossTerm(rows, base, cold, coldBase, market);
      scale += lossScaleTerm(rows, base, cold, coldBase, market);
    }
    // A sum of n terms rounds by at most n half-units of the largest partial sum.
    const rounding = markets.length * EDIT_ROUNDING;
    this.grossUpper = gross;
    this.grossSlack = grossSize * rounding;
    this.lossLower = loss;
    this.lossScale = scale;
    this.lossSlack = scale * rounding;
    this.boundEdits = 0;
    this.boundsAt = version;
  }

  /**
   * Whether a walk should restamp the sums: stale, edited long enough to have gathered slack, or
   * not finite (a symbol's bounds were open when they were made, and may have closed since; or an
   * edit took an infinite term back out of an infinite sum, which is NaN).
   */
  needsRestamp(version: number): boolean {
    return this.boundsAt !== version || this.boundEdits > EDITS_BEFORE_RESTAMP || !(this.grossUpper < Number.POSITIVE_INFINITY) || !(this.lossLower > Number.NEGATIVE_INFINITY);
  }

  /**
   * The exposures in row order. Snapshots list them in this order and restore attaches them in
   * it, and removals go in it too, so a restored or replayed engine keeps the live row order:
   * the walks add in row order, and floating-point sums depend on the order (in the last bit,
   * which a threshold can see).
   */
  get exposures(): readonly Exposure[] {
    return this.slots;
  }

  /** Gives a new exposure the next row (zeroed). */
  attach(exposure: Exposure): void {
    const slot = this.slots.length;
    if ((slot + 1) * STRIDE > this.rows.length) this.grow();
    exposure.rows = this.rows;
    exposure.base = slot * STRIDE;
    exposure.cold = this.cold;
    exposure.coldBase = slot * COLD_STRIDE;
    this.slots.push(exposure);
    this.markets.push(exposure.market);
  }

  /**
   * Takes an exposure's row away: it keeps its numbers in a copy of its own (whoever still holds
   * it reads what it last had), and the last row moves into the hole.
   */
  detach(exposure: Exposure): void {
    const slot = exposure.base / STRIDE;
    // Its terms leave the sums (an empty row's are 0, but a flat row's leftover basis is not).
    if (this.boundsAt === this.bounds.version) this.dropFromBounds(exposure);
    keepOwnCopy(exposure);
    const lastSlot = this.slots.length - 1;
    const last = this.slots.pop()!;
    this.markets.pop();
    if (last !== exposure) {
      this.rows.copyWithin(slot * STRIDE, lastSlot * STRIDE, (lastSlot + 1) * STRIDE);
      this.cold.copyWithin(slot * COLD_STRIDE, lastSlot * COLD_STRIDE, (lastSlot + 1) * COLD_STRIDE);
      last.base = slot * STRIDE;
      last.coldBase = slot * COLD_STRIDE;
      this.slots[slot] = last;
      this.markets[slot] = last.market;
    }
    this.rows.fill(0, lastSlot * STRIDE, (lastSlot + 1) * STRIDE);
    this.cold.fill(0, lastSlot * COLD_STRIDE, (lastSlot + 1) * COLD_STRIDE);
  }

  private dropFromBounds(exposure: Exposure): void {
    const { rows, cold } = this;
    const { base, coldBase, market } = exposure;
    this.addToGross(-grossTerm(rows, base, market));
    this.addToLoss(-lossTerm(rows, base, cold, coldBase, market), -lossScaleTerm(rows, base, cold, coldBase, market));
    this.boundEdits++;
  }

  /**
   * Flattens every row (position, average cost, flat cost and their peaks to 0) and drops the
   * exposures left empty (see drop); returns how many it dropped. The bound sums must be stale
   * (the caller moved the version).
   */
  flattenAll(): number {
    const { rows, cold, slots } = this;
    let empty: Exposure[] | undefined;
    for (let slot = 0, base = 0, coldBase = 0; slot < slots.length; slot++, base += STRIDE, coldBase += COLD_STRIDE) {
      rows[base + POSITION] = 0;
      rows[base + AVG_COST] = 0;
      cold[coldBase + FLAT_COST] = 0;
      cold[coldBase + PEAK_BASIS] = 0;
      cold[coldBase + PEAK_QUANTITY] = 0;
      // isEmpty, the row read first: a row with realized P&L spares a miss on its exposure object.
      if (rows[base + REALIZED] === 0 && slots[slot]!.openCount === 0) (empty ??= []).push(slots[slot]!);
    }
    return empty === undefined ? 0 : this.drop(empty);
  }

  /** Zeroes every row's realized P&L (a session reset) and drops the exposures left empty; returns how many. */
  resetRealized(): number {
    const { rows, cold, slots } = this;
    let empty: Exposure[] | undefined;
    for (let slot = 0, base = 0; slot < slots.length; slot++, base += STRIDE) {
      rows[base + REALIZED] = 0;
      if (rows[base + POSITION] === 0 && cold[slot * COLD_STRIDE + FLAT_COST] === 0 && slots[slot]!.openCount === 0) (empty ??= []).push(slots[slot]!);
    }
    return empty === undefined ? 0 : this.drop(empty);
  }

  /**
   * Drops exposures (in slot order); returns how many. A few leave one at a time (detach). When
   * many do, the rows kept move, in order, into new arrays, and the dropped exposures keep the
   * old arrays as their copy (whoever still holds one reads what it last had): a replace or a
   * reset over a million positions allocated two arrays for each.
   */
  private drop(empty: readonly Exposure[]): number {
    if (empty.length < this.slots.length * DETACH_BELOW) {
      for (const exposure of empty) {
        this.delete(exposure);
        this.detach(exposure);
      }
      return empty.length;
    }
    const { rows, cold } = this;
    const slots = this.slots.splice(0);
    super.clear();
    this.markets.length = 0;
    // Nothing kept (an account flattened whole, then forgotten): no arrays until a row comes (grow).
    let capacity = slots.length === empty.length ? 0 : 4;
    while (capacity < slots.length - empty.length) capacity *= 2;
    this.rows = capacity === 0 ? NO_ROWS : new Float64Array(STRIDE * capacity);
    this.cold = capacity === 0 ? NO_ROWS : new Float64Array(COLD_STRIDE * capacity);
    let next = 0;
    for (const exposure of slots) {
      if (exposure === empty[next]) {
        next++;
        continue;
      }
      const { base, coldBase } = exposure;
      this.attach(exposure);
      this.rows.set(rows.subarray(base, base + STRIDE), exposure.base);
      this.cold.set(cold.subarray(coldBase, coldBase + COLD_STRIDE), exposure.coldBase);
      this.add(exposure);
    }
    return empty.length;
  }

  /** Drops every exposure (snapshot restore). */
  override clear(): void {
    this.boundsAt = -1;
    for (const exposure of this.slots) keepOwnCopy(exposure);
    super.clear();
    this.slots.length = 0;
    this.markets.length = 0;
    this.rows = new Float64Array(STRIDE * 4);
    this.cold = new Float64Array(COLD_STRIDE * 4);
  }

  private grow(): void {
    const rows = new Float64Array(Math.max(STRIDE * 4, this.rows.length * 2));
    rows.set(this.rows);
    this.rows = rows;
    const cold = new Float64Array(Math.max(COLD_STRIDE * 4, this.cold.length * 2));
    cold.set(this.cold);
    this.cold = cold;
    for (const exposure of this.slots) {
      exposure.rows = rows;
      exposure.cold = cold;
    }
  }
}

/** The rows of a group holding none: shared, never written (attach grows a group before its first row). */
const NO_ROWS = new Float64Array(0);

/** When fewer than this share of a group's exposures drop at once, they leave one at a time. */
const DETACH_BELOW = 1 / 4;

/** An exposure leaving its group keeps its numbers in arrays of its own. */
function keepOwnCopy(exposure: Exposure): void {
  exposure.rows = exposure.rows.slice(exposure.base, exposure.base + STRIDE);
  exposure.base = 0;
  exposure.cold = exposure.cold.slice(exposure.coldBase, exposure.coldBase + COLD_STRIDE);
  exposure.coldBase = 0;
}

/** A row's gross notional at its symbol's bound: worst case as the walk takes it, times grossMark. */
function grossTerm(rows: Float64Array, base: number, market: SymbolMarket): number {
  const position = rows[base + POSITION]!;
  const worst = Math.max(position + rows[base + OPEN_BUY]!, rows[base + OPEN_SELL]! - position);
  return worst === 0 ? 0 : worst * market.grossMark;
}

/** A row's P&L at the least its symbol's bounds allow: realized, plus the position marked at the worse bound. */
function lossTerm(rows: Float64Array, base: number, cold: Float64Array, coldBase: number, market: SymbolMarket): number {
  const position = rows[base + POSITION]!;
  const realized = rows[base + REALIZED]!;
  if (position === 0) return realized - cold[coldBase + FLAT_COST]!;
  return realized + position * (position > 0 ? market.lossLow : market.lossHigh) - position * rows[base + AVG_COST]!;
}

/** The size of the numbers a row's P&L term adds: what rounding of it is relative to. */
function lossScaleTerm(rows: Float64Array, base: number, cold: Float64Array, coldBase: number, market: SymbolMarket): number {
  const position = Math.abs(rows[base + POSITION]!);
  const mark = Math.max(Math.abs(market.lossLow), Math.abs(market.lossHigh));
  return Math.abs(rows[base + REALIZED]!) + Math.abs(cold[coldBase + FLAT_COST]!) + (position === 0 ? 0 : position * mark + position * Math.abs(rows[base + AVG_COST]!));
}

/** Which family a group belongs to; an open order has a list link per level. */
const ACCOUNT_LEVEL = 0;
const STRATEGY_LEVEL = 1;
const FIRM_LEVEL = 2;
type Level = typeof ACCOUNT_LEVEL | typeof STRATEGY_LEVEL | typeof FIRM_LEVEL;
/** OpenOrder's bits past the levels' (1 << level). */
const MARKET_BIT = 1 << 3;
const CLOSED_BIT = 1 << 4;

/** An accepted order holding a reservation until it fills, is cancelled or expires. */
export class OpenOrder {
  constructor(
    readonly orderId: string,
    readonly side: Side,
    /** The price reserved against: the order's own, or the reference price for MARKET. */
    readonly price: number,
    isMarket: boolean,
    /** As accepted: what rounding in `remaining` is judged against. */
    readonly quantity: number,
    public remaining: number,
    readonly acceptedAt: number,
    public lastActivityAt: number,
    readonly account: Exposure,
    readonly strategy: Exposure,
    readonly firm: Exposure,
  ) {
    this.bits = isMarket ? MARKET_BIT : 0;
  }

  get isMarket(): boolean {
    return (this.bits & MARKET_BIT) !== 0;
  }

  get isClosed(): boolean {
    return (this.bits & CLOSED_BIT) !== 0;
  }

  markClosed(): void {
    this.bits |= CLOSED_BIT;
  }

  /**
   * A spare (see SparePool) made again for a new order: every field as the constructor sets it.
   * A spare is closed and in no list, so its links are all clear already.
   */
  renew(orderId: string, side: Side, price: number, isMarket: boolean, quantity: number, now: number, account: Exposure, strategy: Exposure, firm: Exposure): this {
    const self = this as Renewable<OpenOrder>;
    self.orderId = orderId;
    self.side = side;
    self.price = price;
    self.quantity = quantity;
    self.remaining = quantity;
    self.acceptedAt = now;
    self.lastActivityAt = now;
    self.account = account;
    self.strategy = strategy;
    self.firm = firm;
    self.batch = undefined;
    this.bits = isMarket ? MARKET_BIT : 0;
    return this;
  }

  /** Let go of (closed, in no list): holds nothing of its order any more, so that a spare keeps no exposure or group alive. */
  detach(): void {
    const self = this as Renewable<OpenOrder>;
    self.orderId = '';
    self.account = self.strategy = self.firm = DETACHED;
  }

  /*
   * The ids are read through the exposures, not kept: each open order (and each closed one
   * remembered for late fills) then holds the ledger's one copy of them rather than its own
   * parsed strings, and the order is three fields smaller.
   */
  get accountId(): string {
    return this.account.group.id;
  }

  get strategyId(): string {
    return this.strategy.group.id;
  }

  get symbol(): string {
    return this.account.market.symbol;
  }

  /**
   * The price self_trade compares against. A LIMIT order rests at its price; a MARKET order
   * executes at whatever the other side offers, so while it rests it crosses every order on the
   * other side: a BUY counts as +Infinity, a SELL as -Infinity. Its reservation (`price`, the
   * notional) is not affected. Derived, not stored: one boxed double less per open order.
   */
  get crossingPrice(): number {
    if (!this.isMarket) return this.price;
    return this.side === 'BUY' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  /** The atomic batch that reserved it, if one did: only that batch's rollback takes it back. */
  batch: string | undefined = undefined;
  /** Links of the ledger's queue by last activity (see ActivityQueue). */
  olderActive: OpenOrder | undefined = undefined;
  newerActive: OpenOrder | undefined = undefined;
  /** Links of the open-order list of its exposure at each level (see Exposure.trackOrder). */
  private prevInAccount: OpenOrder | undefined = undefined;
  private nextInAccount: OpenOrder | undefined = undefined;
  /**
   * Strategy and firm lists hold orders only while a self_trade limit adds up at that level,
   * which most books have none of: their links live apart, made when first set.
   */
  private upper: UpperLinks | undefined = undefined;
  /**
   * One bit per level (in that level's list), then MARKET_BIT and CLOSED_BIT: one field where
   * three were, on every open order.
   */
  private bits: number;

  isListedIn(level: Level): boolean {
    return (this.bits & (1 << level)) !== 0;
  }

  prevIn(level: Level): OpenOrder | undefined {
    if (level === ACCOUNT_LEVEL) return this.prevInAccount;
    const upper = this.upper;
    return upper === undefined ? undefined : level === STRATEGY_LEVEL ? upper.prevInStrategy : upper.prevInFirm;
  }

  nextIn(level: Level): OpenOrder | undefined {
    if (level === ACCOUNT_LEVEL) return this.nextInAccount;
    const upper = this.upper;
    return upper === undefined ? undefined : level === STRATEGY_LEVEL ? upper.nextInStrategy : upper.nextInFirm;
  }

  setPrevIn(level: Level, prev: OpenOrder | undefined): void {
    if (level === ACCOUNT_LEVEL) {
      this.prevInAccount = prev;
      return;
    }
    const upper = this.upperFor(prev);
    if (upper === undefined) return;
    if (level === STRATEGY_LEVEL) upper.prevInStrategy = prev;
    else upper.prevInFirm = prev;
  }

  setNextIn(level: Level, next: OpenOrder | undefined): void {
    if (level === ACCOUNT_LEVEL) {
      this.nextInAccount = next;
      return;
    }
    const upper = this.upperFor(next);
    if (upper === undefined) return;
    if (level === STRATEGY_LEVEL) upper.nextInStrategy = next;
    else upper.nextInFirm = next;
  }

  /** The upper links, made for a link to set; undefined (nothing to clear) when there are none and `link` is none. */
  private upperFor(link: OpenOrder | undefined): UpperLinks | undefined {
    return link === undefined ? this.upper : (this.upper ??= new UpperLinks());
  }

  linkIn(level: Level, prev: OpenOrder | undefined, next: OpenOrder | undefined): void {
    this.setPrevIn(level, prev);
    this.setNextIn(level, next);
    this.bits |= 1 << level;
  }

  unlinkIn(level: Level): void {
    this.linkIn(level, undefined, undefined);
    this.bits &= ~(1 << level);
  }
}

/** What a let-go open order points at in place of its exposures: in no ledger. */
const DETACHED = new Exposure(new SymbolMarket(''), new ExposureGroup('', ACCOUNT_LEVEL, new WalkBounds()));

/** An open order's links in its strategy's and the firm's open-order lists (see OpenOrder.upper). */
class UpperLinks {
  prevInStrategy: OpenOrder | undefined = undefined;
  nextInStrategy: OpenOrder | undefined = undefined;
  prevInFirm: OpenOrder | undefined = undefined;
  nextInFirm: OpenOrder | undefined = undefined;
}

/**
 * Every open order, least recently active first: what expiry sweeps from the front. A list
 * threaded through the orders, so queueing and moving one allocates and hashes nothing.
 */
class ActivityQueue {
  oldest: OpenOrder | undefined;
  private newest: OpenOrder | undefined;
  size = 0;
  /** Where a walk over the queue in slices goes on (see ExposureLedger.trackSome): stepped past an order that leaves. */
  cursor: OpenOrder | undefined;

  push(order: OpenOrder): void {
    order.olderActive = this.newest;
    order.newerActive = undefined;
    if (this.newest === undefined) this.oldest = order;
    else this.newest.newerActive = order;
    this.newest = order;
    this.size++;
  }

  /** Takes out an order that is queued. */
  remove(order: OpenOrder): void {
    const { olderActive: older, newerActive: newer } = order;
    if (order === this.cursor) this.cursor = newer;
    if (older === undefined) this.oldest = newer;
    else older.newerActive = newer;
    if (newer === undefined) this.newest = older;
    else newer.olderActive = older;
    order.olderActive = undefined;
    order.newerActive = undefined;
    this.size--;
  }

  moveToNewest(order: OpenOrder): void {
    if (order === this.newest) return;
    this.remove(order);
    this.push(order);
  }

  clear(): void {
    this.oldest = undefined;
    this.newest = undefined;
    this.cursor = undefined;
    this.size = 0;
  }

  *[Symbol.iterator](): Generator<OpenOrder, void, undefined> {
    for (let order = this.oldest; order !== undefined; order = order.newerActive) yield order;
  }
}

export interface LedgerCapacity {
  maxOpenOrders: number;
  /** account × symbol exposures (positions and open orders) held at once. */
  maxPositions: number;
  maxSymbols: number;
}

export class CapacityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CapacityError';
  }
}

/**
 * What a check already looked up for its order (undefined: not there yet), so that reserving
 * does not look it up again. Valid only until the ledger next changes.
 */
export interface FoundExposures {
  readonly market: SymbolMarket | undefined;
  readonly account: ExposureGroup | undefined;
  readonly strategy: ExposureGroup | undefined;
  readonly accountExposure: Exposure | undefined;
  readonly strategyExposure: Exposure | undefined;
  readonly firmExposure: Exposure | undefined;
}

export type FillOutcome = 'applied' | 'unknown_order';

interface ExposureSnapshot {
  symbol: string;
  position: number;
  avgCost: number;
  realized: number;
  openBuy: number;
  openSell: number;
  openBuyNotional: number;
  openSellNotional: number;
  openCount: number;
  /** Absent when 0 (and in older snapshots). */
  flatCost?: number;
  peakBasis?: number;
  /** Absent when it is abs(position) (and in older snapshots). */
  peakQuantity?: number;
  /** Absent when they are openBuy and openSell (and in older snapshots). */
  peakOpenBuy?: number;
  peakOpenSell?: number;
}

interface GroupSnapshot {
  id: string;
  openCount: number;
  exposures: ExposureSnapshot[];
}

interface OpenOrderSnapshot {
  orderId: string;
  accountId: string;
  strategyId: string;
  symbol: string;
  side: Side;
  price: number;
  /** 'MARKET' for a MARKET order; absent for a LIMIT order (and in older snapshots, which read as LIMIT). */
  orderType?: OrderType;
  remaining: number;
  /** As accepted; absent when nothing was filled yet (and in older snapshots). */
  quantity?: number;
  acceptedAt: number;
  lastActivityAt: number;
  /** Absent when no atomic batch reserved it (and in older snapshots). */
  batch?: string;
}

/** Everything the ledger holds except reference prices (market data is never persisted). */
export interface LedgerSnapshot {
  /**
   * Set since strategy and firm rows add up their accounts (see addAccountChange). Without it the
   * snapshot is older: its firm rows were books of their own and are rebuilt from the accounts.
   */
  aggregatesAddUp?: true;
  lastFills: [string, number | null][];
  accounts: GroupSnapshot[];
  strategies: GroupSnapshot[];
  firm: GroupSnapshot;
  openOrders: OpenOrderSnapshot[];
  closed: [string, ClosedOrderFields][];
}

/**
 * Net positions, open-order reservations, P&L and market data for every account, strategy
 * and the firm. All mutation is synchronous; nothing here reads a clock or does I/O.
 */
export class ExposureLedger {
  /**
   * Sharded past GROUPS_PER_SHARD: accounts are pruned when flat with nothing open and come back
   * with their next order, and a retail book's hundreds of thousands of them would rebuild one
   * Map in a single step. Below that a single shard: a check pays two hot loads, no hashing.
   */
  readonly accounts = new ShardedMap<string, ExposureGroup>(GROUPS_PER_SHARD);
  readonly strategies = new ShardedMap<string, ExposureGroup>(GROUPS_PER_SHARD);
  readonly markets = new Map<string, SymbolMarket>();
  /** The symbols' price bounds for the group walks' shortcut, and their version. */
  readonly walkBounds = new WalkBounds();
  readonly firm = new ExposureGroup('firm', FIRM_LEVEL, this.walkBounds);
  /** Open orders in order of last activity, oldest first: expiry sweeps from the front. */
  private readonly byActivity = new ActivityQueue();
  /** Open orders let go of (closed, or taken back), for the next reservations. */
  private readonly spareOrders = new SparePool<OpenOrder>();
  /**
   * Recently closed orders (expired, released by a CANCEL, REJECT or EXPIRE, or filled up), so
   * that a fill arriving after the close still moves the position, and a new order does not take
   * the id meanwhile. Not those an atomic batch took back: they were never accepted.
   */
  private readonly closed: ClosedOrders;
  /**
   * The orders by id of accounts that hold nothing else: their closed orders still in the window.
   * Their groups go (a group holding no row is most of a kilobyte, against ~160 bytes a closed
   * order in a book of many accounts cancelling one order each), and these wait here; a group made
   * for the account again takes its map back. An account's closed orders are in its group's map
   * or here, never both. One closed order is kept as its handle, not in a table of one (most
   * such accounts hold one).
   */
  private readonly closedOnly = new ShardedMap<string, ClosedHandle | OrdersById>();
  private accountExposureCount = 0;
  /** An account's table of orders by id, which reads a closed order's id from `closed`. */
  private readonly newOrderTable: (expectedSize?: number) => OrderIdTable<OpenOrder, ClosedHandle>;
  /** Whether strategy- and firm-level exposures keep their open orders (only self_trade reads them). */
  private tracksStrategyOrders = false;
  private tracksFirmOrders = false;
  /** One bit per level whose lists startTracking began and trackSome has not finished. */
  private linking = 0;
  /** No open order can expire before this time; lets most calls skip the expiry scan. */
  private nextExpiryAt = Number.POSITIVE_INFINITY;
  /**
   * No closed order is due to be forgotten before this time (never later than the oldest one's
   * closedAt + TTL): closed orders are forgotten on every call that can, so which ones are kept
   * follows from the calls alone, not from when an open order happened to be due.
   */
  private forgetClosedAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly capacity: LedgerCapacity,
    private readonly openOrderTtlMs: number,
    /** How long a closed order is remembered for a late fill. */
    private readonly lateFillWindowMs: number,
  ) {
    // Bounded as the open orders are: at most maxOpenOrders closed ones, the oldest dropped first.
    this.closed = new ClosedOrders(capacity.maxOpenOrders, (handle) => this.dropById(handle));
    const closed = this.closed;
    const idOfHandle = (handle: number): string => closed.orderIdOf(handle);
    this.newOrderTable = (expectedSize = 0) => new OrderIdTable<OpenOrder, ClosedHandle>(expectedSize, idOfHandle);
  }

  /**
   * Keeps (or stops keeping) open orders per exposure at strategy and firm level. Every order
   * sits in one list per kept level, and a firm-wide list of every open order is costly, so
   * orders are linked only while a self_trade limit adds up per strategy+symbol or per symbol
   * (those linked before stay until they close).
   */
  trackOrders(strategy: boolean, firm: boolean): void {
    // A level this book reads is linked whole now: begun here if it was not kept, else finished
    // where startTracking began it.
    this.startTracking(strategy, firm);
    const reads = (strategy ? 1 << STRATEGY_LEVEL : 0) | (firm ? 1 << FIRM_LEVEL : 0);
    if ((this.linking & reads) !== 0) while (this.trackSome(Number.POSITIVE_INFINITY));
    // A level it does not read links no new order, unless it is being linked for a change still
    // to come; those linked leave their lists as they close (unlinking them all at once stopped
    // the event loop for every open order, about 100 ms at a million).
    if (!strategy && (this.linking & (1 << STRATEGY_LEVEL)) === 0) this.tracksStrategyOrders = false;
    if (!firm && (this.linking & (1 << FIRM_LEVEL)) === 0) this.tracksFirmOrders = false;
  }

  /**
   * Begins keeping open orders at the levels asked for that are not kept yet, without linking
   * the orders already open: trackSome does that a slice at a time, so that a book about to add
   * the first firm-wide or per-strategy self_trade limit does not stop the event loop for every
   * open order at once (about 100 ms at a million). Orders reserved from now on are linked as
   * they come. Returns whether there is linking to do.
   */
  startTracking(strategy: boolean, firm: boolean): boolean {
    const before = this.linking;
    if (strategy && !this.tracksStrategyOrders) {
      this.tracksStrategyOrders = true;
      this.linking |= 1 << STRATEGY_LEVEL;
    }
    if (firm && !this.tracksFirmOrders) {
      this.tracksFirmOrders = true;
      this.linking |= 1 << FIRM_LEVEL;
    }
    // A level begun now starts from the oldest order (those another level linked already are skipped there).
    if (this.linking !== before) this.byActivity.cursor = this.byActivity.oldest;
    // Nothing to link when no order is open, or a restore has replaced the queue the walk was on.
    if (this.byActivity.cursor === undefined) this.linking = 0;
    return this.linking !== 0;
  }

  /**
   * Links up to `budget` of the orders open before startTracking into the lists it began;
   * returns whether more are left. An order that closes or moves to the newest end meanwhile
   * steps the walk past it (a moved one is met again at the end; one linked already is skipped).
   */
  trackSome(budget: number): boolean {
    const queue = this.byActivity;
    for (let done = 0; this.linking !== 0 && queue.cursor !== undefined && done < budget; done++) {
      const order = queue.cursor;
      queue.cursor = order.newerActive;
      if ((this.linking & (1 << STRATEGY_LEVEL)) !== 0) order.strategy.trackOrder(order);
      if ((this.linking & (1 << FIRM_LEVEL)) !== 0) order.firm.trackOrder(order);
    }
    if (queue.cursor === undefined) this.linking = 0;
    return this.linking !== 0;
  }

  get openOrderCount(): number {
    return this.byActivity.size;
  }

  get positionCount(): number {
    return this.accountExposureCount;
  }

  get closedOrderCount(): number {
    return this.closed.size;
  }

  /** Lets go of spare orders past those in use (the sweeper's; spares are not state: nothing journals this). */
  trimSpares(): void {
    this.spareOrders.trimTo(this.byActivity.size);
  }

  /** Open orders kept to be made again (for tests: see SparePool). */
  get spareCounts(): { openOrders: number } {
    return { openOrders: this.spareOrders.size };
  }

  /** Chunks of closed orders' columns held (for tests: see ClosedOrders). */
  get closedChunkCount(): number {
    return this.closed.chunkCount;
  }

  openOrder(accountId: string, orderId: string): OpenOrder | undefined {
    const order = this.accounts.get(accountId)?.ordersById?.get(orderId);
    return typeof order === 'number' ? undefined : order;
  }

  /**
   * Whether the order orderById found for an id still holds the id at `now`: an open order does,
   * and one that closed less than lateFillWindowMs ago (a fill for it may still come, and would
   * be booked to the closed order's symbol and side, so a new order may not take the id until
   * then; see LimitEngine.checkAt).
   */
  holdsId(found: OpenOrder | ClosedHandle | undefined, now: number): boolean {
    return found !== undefined && (typeof found !== 'number' || now - this.closed.closedAtOf(found) < this.lateFillWindowMs);
  }

  /** The account's order of this id, open or closed: in its group's map, or in closedOnly without a group (one lookup finds either). */
  orderById(account: ExposureGroup | undefined, accountId: string, orderId: string): OpenOrder | ClosedHandle | undefined {
    return account !== undefined ? account.ordersById?.get(orderId) : this.closedOnlyOrder(accountId, orderId);
  }

  /** A closed order of an account without a group (see closedOnly). */
  private closedOnlyOrder(accountId: string, orderId: string): ClosedHandle | undefined {
    if (this.closedOnly.size === 0) return undefined;
    const held = this.closedOnly.get(accountId);
    if (held === undefined) return undefined;
    if (typeof held === 'number') return this.closed.orderIdOf(held) === orderId ? held : undefined;
    return held.get(orderId) as ClosedHandle | undefined;
  }

  allOpenOrders(): Iterator<OpenOrder> & Iterable<OpenOrder> {
    return this.byActivity[Symbol.iterator]();
  }

  market(symbol: string): SymbolMarket | undefined {
    return this.markets.get(symbol);
  }

  /** The reference price if it is fresh enough, else NaN. */
  freshReference(market: SymbolMarket | undefined, now: number, maxAgeMs: number): number {
    if (market === undefined || now - market.refAt > maxAgeMs) return Number.NaN;
    return market.refPrice;
  }

  setReferencePrice(symbol: string, price: number, now: number): void {
    const market = this.marketFor(symbol);
    market.refPrice = price;
    market.refAt = now;
    this.walkBounds.onReference(market, now);
  }

  /** Whether a new order fits, given what the check found for its account and symbol; checked before reserving. */
  hasRoomFor(found: FoundExposures): boolean {
    if (this.byActivity.size >= this.capacity.maxOpenOrders) return false;
    if (found.accountExposure !== undefined) return true;
    if (this.accountExposureCount >= this.capacity.maxPositions) return false;
    return found.market !== undefined || this.markets.size < this.capacity.maxSymbols;
  }

  reserve(
    orderId: string,
    accountId: string,
    strategyId: string,
    symbol: string,
    side: Side,
    quantity: number,
    price: number,
    isMarket: boolean,
    now: number,
    found?: FoundExposures,
  ): OpenOrder {
    const market = found?.market ?? this.marketFor(symbol);
    const account = found?.accountExposure ?? this.exposureIn(found?.account ?? this.accountGroup(accountId), market, true);
    const strategy = found?.strategyExposure ?? this.exposureIn(found?.strategy ?? this.strategyGroup(strategyId), market, false);
    const firm = found?.firmExposure ?? this.exposureIn(this.firm, market, false);
    const order =
      this.spareOrders.take()?.renew(orderId, side, price, isMarket, quantity, now, account, strategy, firm) ??
      new OpenOrder(orderId, side, price, isMarket, quantity, quantity, now, now, account, strategy, firm);
    // A closed order of this id still listed is past its window (a check refuses the id within it,
    // and replay repeats what was accepted): forgetting is budgeted, so it may not have gone yet.
    const stale = account.group.ordersById?.get(orderId);
    // Put first: the table reads a closed order's id through its handle, which remove clears.
    this.putById(account.group, orderId, order);
    if (typeof stale === 'number') this.closed.remove(stale);
    if (this.byActivity.size === 0) this.nextExpiryAt = now + this.openOrderTtlMs;
    this.byActivity.push(order);
    addOpen(account, order, quantity, true);
    addOpen(strategy, order, quantity, this.tracksStrategyOrders);
    addOpen(firm, order, quantity, this.tracksFirmOrders);
    return order;
  }

  /**
   * Takes back an atomic batch's reservation entirely, as if the order had never been accepted:
   * the order open under this id, if that batch reserved it at `acceptedAt` (another request may
   * have closed it between the batch's slices, and even reused its id). By ids, never by an
   * order object: a closed one is made again for the next reservation (see spareOrders), so an
   * object held from before would be another order by now. Returns whether it took one back.
   */
  unreserve(accountId: string, orderId: string, batch: string, acceptedAt: number): boolean {
    const order = this.openOrder(accountId, orderId);
    if (order === undefined || order.batch !== batch || order.acceptedAt !== acceptedAt) return false;
    this.releaseRemaining(order);
    return true;
  }

  /**
   * CANCEL, REJECT and EXPIRE: the rest of the order will never trade. The order is remembered
   * as closed at `now` (the execution's time, so replay remembers it alike), as an expired one
   * is: a fill the venue made before it processed the cancel can still arrive after it, and must
   * move the position.
   */
  release(accountId: string, orderId: string, now: number): boolean {
    const order = this.openOrder(accountId, orderId);
    if (order === undefined) return false;
    this.releaseRemaining(order, now);
    return true;
  }

  fill(accountId: string, orderId: string, quantity: number, price: number, now: number): FillOutcome {
    const order = this.openOrder(accountId, orderId);
    if (order === undefined) return this.lateFill(accountId, orderId, quantity, price, now);
    const released = Math.min(quantity, order.remaining);
    removeOpen(order.account, order, released, false);
    removeOpen(order.strategy, order, released, false);
    removeOpen(order.firm, order, released, false);
    // Fills that add up to the order (0.7 + 0.3 of 1) leave rounding, not an open remainder.
    order.remaining = isRounding(order.remaining - released, order.quantity) ? 0 : order.remaining - released;
    this.applyTrade(order.account, order.strategy, order.firm, order.side, quantity, price);
    if (order.remaining <= 0) {
      // Remembered as closed: a fill the venue reports past the order's quantity (an over-fill
      // split over two messages) still moves the position, as one after a cancel does.
      this.releaseRemaining(order, now);
    } else {
      order.lastActivityAt = now;
      this.byActivity.moveToNewest(order);
    }
    return 'applied';
  }

  /** Whether open orders are due to expire, or closed ones to be forgotten, at `now`. */
  isExpiryDue(now: number): boolean {
    return now >= this.nextExpiryAt || now >= this.forgetClosedAt;
  }

  /**
   * Expires open orders idle for the TTL, oldest first, at most `budget` of them (the rest stay
   * due, and reserved, until the next call); returns how many.
   */
  expireIdle(now: number, budget: number): number {
    if (now < this.nextExpiryAt) return 0;
    let expired = 0;
    this.nextExpiryAt = Number.POSITIVE_INFINITY;
    for (let order = this.byActivity.oldest; order !== undefined; order = this.byActivity.oldest) {
      if (now - order.lastActivityAt < this.openOrderTtlMs || expired === budget) {
        this.nextExpiryAt = order.lastActivityAt + this.openOrderTtlMs;
        break;
      }
      this.releaseRemaining(order, now);
      expired++;
    }
    return expired;
  }

  /**
   * Forgets closed orders a late-fill window old, oldest first (an id closed again counts from
   * its last close), at most `budget` of them; returns how many.
   */
  forgetClosed(now: number, budget: number): number {
    if (now < this.forgetClosedAt) return 0;
    let forgotten = 0;
    this.forgetClosedAt = Number.POSITIVE_INFINITY;
    for (let at = this.closed.oldestClosedAt; at !== undefined; at = this.closed.oldestClosedAt) {
      if (now - at < this.lateFillWindowMs || forgotten === budget) {
        this.forgetClosedAt = at + this.lateFillWindowMs;
        break;
      }
      this.closed.forgetOldest();
      forgotten++;
    }
    return forgotten;
  }

  /** Start-of-day (or intraday) position snapshot; `replace` flattens everything not listed. */
  applyPositions(rows: readonly PositionRow[], replace: boolean): void {
    const overflow = this.positionsOverflow(rows);
    if (overflow !== undefined) throw overflow;
    if (replace) this.flattenAll();
    for (const row of rows) this.setPosition(row);
  }

  /**
   * Why `rows` would not fit (the error applying them would throw before changing anything), or
   * undefined if they would: each new symbol and each new account/symbol pair counts once,
   * however many rows name it. Lets a caller that applies rows in parts refuse them all up front.
   */
  positionsOverflow(rows: readonly PositionRow[]): CapacityError | undefined {
    const tally = this.positionsTally();
    tally.add(rows);
    return tally.overflow();
  }

  /**
   * positionsOverflow a part of the rows at a time, for a body too large to look at in one step
   * (a million rows took 180–270 ms): `add` each part, then ask `overflow` against the ledger as it
   * is then. A pair made by another request meanwhile is still counted as new: more, never less.
   */
  positionsTally(): { add(rows: readonly PositionRow[]): void; overflow(): CapacityError | undefined } {
    const newPairs = new Set<string>();
    const newSymbols = new Set<string>();
    return {
      add: (rows) => {
        for (const row of rows) {
          if (this.heldExposure(this.accounts.get(row.accountId), row.symbol) === undefined) newPairs.add(row.accountId + '|' + row.symbol);
          if (!this.markets.has(row.symbol)) newSymbols.add(row.symbol);
        }
      },
      overflow: () => {
        const symbols = this.newSymbolsOverflow(newSymbols.size);
        if (symbols !== undefined) return symbols;
        if (this.accountExposureCount + newPairs.size > this.capacity.maxPositions) {
          return new CapacityError(`positions: ${newPairs.size} new account/symbol pairs exceed maxPositions ${this.capacity.maxPositions}`);
        }
        return undefined;
      },
    };
  }

  /** Why `symbols` would not fit `maxSymbols` (each new one counted once), or undefined if they would. */
  symbolsOverflow(symbols: readonly string[]): CapacityError | undefined {
    return this.newSymbolsOverflow(new Set(symbols.filter((symbol) => !this.markets.has(symbol))).size);
  }

  private newSymbolsOverflow(fresh: number): CapacityError | undefined {
    if (this.markets.size + fresh <= this.capacity.maxSymbols) return undefined;
    return new CapacityError(`symbols: ${fresh} new symbols exceed maxSymbols ${this.capacity.maxSymbols}`);
  }

  /** New trading day: realized P&L restarts at every level; positions and average costs stay. */
  resetSession(): void {
    // Realized P&L is zeroed in the rows directly, past the bound sums' edits.
    this.walkBounds.invalidate();
    this.dropEmptyAfter((group) => group.resetRealized());
  }

  private flattenAll(): void {
    // Every row is written: the sums are restamped after, not edited a row at a time.
    this.walkBounds.invalidate();
    this.dropEmptyAfter((group) => group.flattenAll());
  }

  /**
   * Every group a replace flattens, in the order flattenAll takes them: accounts, strategies, the
   * firm. Read as it goes (a copy of a million accounts' groups was a step of its own): a group
   * deleted meanwhile is not met, or is skipped by flattenGroups if it was read already.
   */
  *groupsToFlatten(): Generator<ExposureGroup, void, undefined> {
    yield* this.accounts.values();
    yield* this.strategies.values();
    yield this.firm;
  }

  /**
   * flattenAll a part at a time (a replace in slices): flattens each group still held, in the
   * order given, and forgets those left with nothing; returns the ids of those it flattened (a
   * group gone meanwhile, its last open order closed, is skipped), in order, by level.
   */
  flattenGroups(groups: readonly ExposureGroup[]): { accounts: string[]; strategies: string[]; firm: boolean } {
    const flattened = { accounts: [] as string[], strategies: [] as string[], firm: false };
    for (const group of groups) {
      const family = this.familyOf(group.level);
      if (family !== undefined && family.get(group.id) !== group) continue;
      // Every row is written: the sums are restamped after, not edited a row at a time.
      if (flattened.accounts.length + flattened.strategies.length === 0 && !flattened.firm) this.walkBounds.invalidate();
      this.dropEmpty(family, group, group.flattenAll());
      if (family === undefined) flattened.firm = true;
      else (family === this.accounts ? flattened.accounts : flattened.strategies).push(group.id);
    }
    return flattened;
  }

  /** flattenGroups again, from the ids it returned (replay). */
  flattenGroupsById(accounts: readonly string[], strategies: readonly string[], firm: boolean): void {
    const groups: ExposureGroup[] = [];
    for (const [family, ids] of [[this.accounts, accounts], [this.strategies, strategies]] as const) {
      for (const id of ids) {
        const group = family.get(id);
        if (group !== undefined) groups.push(group);
      }
    }
    if (firm) groups.push(this.firm);
    this.flattenGroups(groups);
  }

  private familyOf(level: Level): ShardedMap<string, ExposureGroup> | undefined {
    return level === ACCOUNT_LEVEL ? this.accounts : level === STRATEGY_LEVEL ? this.strategies : undefined;
  }

  /** Runs a change over every group that drops exposures (returning how many), then forgets groups left with nothing. */
  private dropEmptyAfter(change: (group: ExposureGroup) => number): void {
    for (const family of [this.accounts, this.strategies]) {
      for (const group of [...family.values()]) this.dropEmpty(family, group, change(group));
    }
    change(this.firm);
  }

  /** Counts the exposures a group dropped, and forgets it (not the firm) if it is left with nothing. */
  private dropEmpty(family: ShardedMap<string, ExposureGroup> | undefined, group: ExposureGroup, dropped: number): void {
    if (family === this.accounts) this.accountExposureCount -= dropped;
    if (family === undefined || dropped === 0 || group.size !== 0 || group.openCount !== 0) return;
    family.delete(group.id);
    // With no open order left, its map holds closed ones only: they wait without the group.
    if (group.ordersById !== undefined) this.closedOnly.set(group.id, keptWithoutGroup(group.ordersById));
    group.ordersById = undefined;
  }

  capture(): LedgerSnapshot {
    return {
      aggregatesAddUp: true,
      // Only fills: a market that merely exists (created by a reference price, or by a reservation an
      // atomic batch took back) is market data, which is not journalled. Sorted, so the capture does
      // not depend on the order symbols were first seen in.
      lastFills: [...this.markets.values()]
        .filter((m) => !Number.isNaN(m.lastFillPrice))
        .map((m): [string, number | null] => [m.symbol, m.lastFillPrice])
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      accounts: [...this.accounts.values()].map(captureGroup),
      strategies: [...this.strategies.values()].map(captureGroup),
      firm: captureGroup(this.firm),
      openOrders: [...this.byActivity].map((o) => ({
        orderId: o.orderId,
        accountId: o.accountId,
        strategyId: o.strategyId,
        symbol: o.symbol,
        side: o.side,
        price: o.price,
        ...(o.isMarket ? { orderType: 'MARKET' as const } : {}),
        remaining: o.remaining,
        ...(o.quantity === o.remaining ? {} : { quantity: o.quantity }),
        acceptedAt: o.acceptedAt,
        lastActivityAt: o.lastActivityAt,
        ...(o.batch === undefined ? {} : { batch: o.batch }),
      })),
      closed: this.closed.entries(),
    };
  }

  /** Replaces all state with a snapshot's; reference prices start missing. */
  restore(snapshot: LedgerSnapshot): void {
    this.markets.clear();
    this.walkBounds.clear();
    this.accounts.clear();
    this.strategies.clear();
    this.firm.clear();
    this.byActivity.clear();
    this.closed.clear();
    this.spareOrders.clear();
    this.closedOnly.clear();
    this.accountExposureCount = 0;
    for (const [symbol, lastFill] of snapshot.lastFills) {
      const market = this.marketFor(symbol);
      market.lastFillPrice = lastFill ?? Number.NaN;
      if (lastFill !== null) this.walkBounds.onFill(market);
    }
    for (const group of snapshot.accounts) {
      // Live, a group with no row and no open order goes (its closed orders wait in closedOnly), so a
      // snapshot should hold none; one that does (an unreleased build wrote some) would keep it for good.
      if (group.exposures.length === 0 && group.openCount === 0) continue;
      this.restoreGroup(groupIn(this.accounts, group.id, ACCOUNT_LEVEL, this.walkBounds), group, true);
    }
    for (const group of snapshot.strategies) this.restoreGroup(groupIn(this.strategies, group.id, STRATEGY_LEVEL, this.walkBounds), group, false);
    this.restoreGroup(this.firm, snapshot.firm, false);
    if (snapshot.aggregatesAddUp !== true) this.rebuildFirmFromAccounts();
    for (const o of snapshot.openOrders) {
      const account = this.heldExposure(this.accounts.get(o.accountId), o.symbol);
      const strategy = this.heldExposure(this.strategies.get(o.strategyId), o.symbol);
      const firm = this.heldExposure(this.firm, o.symbol);
      if (account === undefined || strategy === undefined || firm === undefined) throw new RangeError(`snapshot: open order ${o.orderId} has no exposure`);
      const order = new OpenOrder(
        o.orderId,
        o.side,
        o.price,
        o.orderType === 'MARKET',
        o.quantity ?? o.remaining,
        o.remaining,
        o.acceptedAt,
        o.lastActivityAt,
        account,
        strategy,
        firm,
      );
      order.batch = o.batch;
      account.trackOrder(order);
      if (this.tracksStrategyOrders) strategy.trackOrder(order);
      if (this.tracksFirmOrders) firm.trackOrder(order);
      this.putById(account.group, o.orderId, order);
      this.byActivity.push(order);
    }
    for (const [key, closed] of snapshot.closed) {
      const { accountId, orderId } = closedOrderIds(key);
      this.remember(accountId, orderId, this.closed.add(accountId, orderId, closed.strategyId, closed.symbol, closed.side, closed.closedAt));
    }
    this.nextExpiryAt = Number.NEGATIVE_INFINITY;
    this.forgetClosedAt = Number.NEGATIVE_INFINITY;
  }

  /**
   * An older snapshot's firm rows kept their own average-cost books, drifted from their accounts
   * (left as is, the drift would stay behind as a loss or gain once the accounts are flat). The
   * firm's position, cost basis and realized P&L are its accounts' sums, so they are rebuilt; its
   * reservations stay as captured. Strategy rows cannot be: an account row does not say which
   * strategies its position came through.
   */
  private rebuildFirmFromAccounts(): void {
    for (const exposure of this.firm.exposures) {
      exposure.position = 0;
      exposure.avgCost = 0;
      exposure.realized = 0;
      exposure.flatCost = 0;
      exposure.peakBasis = 0;
      exposure.peakQuantity = 0;
    }
    for (const group of this.accounts.values()) {
      for (const account of group.exposures) {
        const firm = this.exposureIn(this.firm, account.market, false);
        addAccountChange(firm, account.position, account.position * account.avgCost, account.realized);
      }
    }
    for (const exposure of [...this.firm.exposures]) this.pruneIfEmpty(exposure, undefined);
  }

  private restoreGroup(group: ExposureGroup, snapshot: GroupSnapshot, isAccount: boolean): void {
    group.openCount = snapshot.openCount;
    for (const e of snapshot.exposures) {
      const exposure = this.exposureIn(group, this.marketFor(e.symbol), isAccount);
      exposure.position = e.position;
      exposure.avgCost = e.avgCost;
      exposure.realized = e.realized;
      exposure.openBuy = e.openBuy;
      exposure.openSell = e.openSell;
      exposure.openBuyNotional = e.openBuyNotional;
      exposure.openSellNotional = e.openSellNotional;
      exposure.openCount = e.openCount;
      exposure.flatCost = e.flatCost ?? 0;
      exposure.peakBasis = e.peakBasis ?? 0;
      exposure.peakQuantity = e.peakQuantity ?? Math.abs(e.position);
      exposure.peakOpenBuy = e.peakOpenBuy ?? e.openBuy;
      exposure.peakOpenSell = e.peakOpenSell ?? e.openSell;
    }
  }

  /**
   * A snapshot row restates the account's position and average cost, without realizing
   * anything; the firm (and the named strategy) move by the account's change (see addAccountChange).
   */
  private setPosition(row: PositionRow): void {
    const market = this.marketFor(row.symbol);
    const account = this.exposureIn(this.accountGroup(row.accountId), market, true);
    const avgCost = row.quantity === 0 ? 0 : row.avgPrice;
    const dPosition = row.quantity - account.position;
    const dCost = row.quantity * avgCost - account.position * account.avgCost;
    account.position = row.quantity;
    account.peakQuantity = Math.abs(row.quantity);
    account.avgCost = avgCost;
    const firm = this.exposureIn(this.firm, market, false);
    addAccountChange(firm, dPosition, dCost, 0);
    if (row.strategyId !== undefined) {
      const strategy = this.exposureIn(this.strategyGroup(row.strategyId), market, false);
      addAccountChange(strategy, dPosition, dCost, 0);
      this.pruneIfEmpty(strategy, this.strategies);
    }
    this.pruneIfEmpty(firm, undefined);
    this.pruneIfEmpty(account, this.accounts);
  }

  private lateFill(accountId: string, orderId: string, quantity: number, price: number, now: number): FillOutcome {
    const found = this.orderById(this.accounts.get(accountId), accountId, orderId);
    // Forgetting is budgeted (see forgetClosed), so the age is checked here too.
    if (typeof found !== 'number' || now - this.closed.closedAtOf(found) >= this.lateFillWindowMs) return 'unknown_order';
    const closed = this.closed;
    const market = this.marketFor(closed.symbolOf(found));
    const account = this.exposureIn(this.accountGroup(accountId), market, true);
    const strategy = this.exposureIn(this.strategyGroup(closed.strategyIdOf(found)), market, false);
    const firm = this.exposureIn(this.firm, market, false);
    this.applyTrade(account, strategy, firm, closed.sideOf(found), quantity, price);
    return 'applied';
  }

  /**
   * The account's book takes the trade at average cost; its strategy and the firm move by what
   * the account's position, cost basis and realized P&L moved (see addAccountChange).
   */
  private applyTrade(account: Exposure, strategy: Exposure, firm: Exposure, side: Side, quantity: number, price: number): void {
    const signed = side === 'BUY' ? quantity : -quantity;
    const basis = account.position * account.avgCost;
    const realized = account.realized;
    applyAverageCost(account, signed, price);
    const dCost = account.position * account.avgCost - basis;
    const dRealized = account.realized - realized;
    addAccountChange(strategy, signed, dCost, dRealized);
    addAccountChange(firm, signed, dCost, dRealized);
    account.market.lastFillPrice = price;
    this.walkBounds.onFill(account.market);
    this.pruneIfEmpty(account, this.accounts);
    this.pruneIfEmpty(strategy, this.strategies);
    this.pruneIfEmpty(firm, undefined);
  }

  /**
   * Takes the rest of the order off its exposures. Closed at `closedAt` (a cancel, an expiry, a
   * fill-up), it is remembered for late fills in its place among the account's orders by id;
   * without it (an atomic batch taking it back: never accepted) it goes.
   */
  private releaseRemaining(order: OpenOrder, closedAt?: number): void {
    // Closing twice (a cancel, then an atomic batch taking the same order back) must not count twice.
    if (order.isClosed) return;
    order.markClosed();
    removeOpen(order.account, order, order.remaining, true);
    removeOpen(order.strategy, order, order.remaining, true);
    removeOpen(order.firm, order, order.remaining, true);
    order.remaining = 0;
    this.byActivity.remove(order);
    const group = order.account.group;
    if (closedAt !== undefined) {
      // Before the exposures are pruned: a group that goes hands its map to closedOnly.
      this.remember(order.accountId, order.orderId, this.closed.add(order.accountId, order.orderId, order.strategyId, order.symbol, order.side, closedAt), order);
    } else if (group.ordersById?.delete(order.orderId) === true && group.ordersById.size === 0) {
      group.ordersById = undefined;
    }
    this.pruneIfEmpty(order.account, this.accounts);
    this.pruneIfEmpty(order.strategy, this.strategies);
    this.pruneIfEmpty(order.firm, undefined);
    // Nothing holds a closed open order past this call (its id now finds the closed one), so it
    // is free to make again. Detached last: its table of orders by id finds it by its own orderId.
    order.detach();
    this.spareOrders.keep(order, this.byActivity.size);
  }

  /**
   * Puts a closed order among its account's orders by id (on its group, or in closedOnly without
   * one), in the place of `was` (its open order), and lists it to be forgotten. A restored one
   * takes no open order's place: that order took the id after this one's window, and only the
   * list still holds this one.
   */
  private remember(accountId: string, orderId: string, closed: ClosedHandle, was?: OpenOrder): void {
    const account = this.accounts.get(accountId);
    if (account !== undefined) {
      const held = account.ordersById?.get(orderId);
      if (held === was || typeof held === 'number' || held === undefined) this.putById(account, orderId, closed);
    } else {
      this.rememberWithoutGroup(accountId, orderId, closed);
    }
    const oldestAt = this.closed.oldestClosedAt;
    if (oldestAt !== undefined && oldestAt + this.lateFillWindowMs < this.forgetClosedAt) this.forgetClosedAt = oldestAt + this.lateFillWindowMs;
  }

  /** An account without a group holds only closed orders: the first kept as its handle, a table from the second. */
  private rememberWithoutGroup(accountId: string, orderId: string, closed: ClosedHandle): void {
    const held = this.closedOnly.get(accountId);
    if (held === undefined || (typeof held === 'number' && this.closed.orderIdOf(held) === orderId)) {
      this.closedOnly.set(accountId, closed);
    } else if (typeof held === 'number') {
      this.closedOnly.set(accountId, this.tableOf(held, closed));
    } else {
      held.set(orderId, closed);
      const grown = this.grownById(held);
      if (grown !== held) this.closedOnly.set(accountId, grown);
    }
  }

  /** Puts an order, open or closed, among the account's orders by id (see OrdersById). */
  private putById(account: ExposureGroup, orderId: string, order: OpenOrder | ClosedHandle): void {
    const byId = (account.ordersById ??= this.newOrderTable());
    byId.set(orderId, order);
    account.ordersById = this.grownById(byId);
  }

  /** `byId` itself, or a ShardedMap of tables whose first is `byId`, once it fills (see ORDERS_PER_SHARD). */
  private grownById(byId: OrdersById): OrdersById {
    return ShardedMap.grown(byId, ORDERS_PER_SHARD, this.newOrderTable);
  }

  private tableOf(...closed: ClosedHandle[]): OrderIdTable<OpenOrder, ClosedHandle> {
    const table = this.newOrderTable();
    for (const handle of closed) table.set(this.closed.orderIdOf(handle), handle);
    return table;
  }

  /** Takes a forgotten closed order (its window over, or the list full) out of its account's orders by id, if it is still there: its id is free. */
  private dropById(closed: ClosedHandle): void {
    const accountId = this.closed.accountIdOf(closed);
    const orderId = this.closed.orderIdOf(closed);
    const account = this.accounts.get(accountId);
    if (account !== undefined) {
      const byId = account.ordersById;
      if (byId?.get(orderId) !== closed) return;
      byId.delete(orderId);
      if (byId.size === 0) account.ordersById = undefined;
      return;
    }
    const held = this.closedOnly.get(accountId);
    if (held === closed) {
      this.closedOnly.delete(accountId);
    } else if (held !== undefined && typeof held !== 'number' && held.get(orderId) === closed) {
      held.delete(orderId);
      const kept = keptWithoutGroup(held);
      if (held.size === 0) this.closedOnly.delete(accountId);
      else if (kept !== held) this.closedOnly.set(accountId, kept);
    }
  }

  private marketFor(symbol: string): SymbolMarket {
    let market = this.markets.get(symbol);
    if (market === undefined) {
      if (this.markets.size >= this.capacity.maxSymbols) {
        throw new CapacityError(`symbols: more than maxSymbols ${this.capacity.maxSymbols}`);
      }
      market = new SymbolMarket(symbol);
      this.markets.set(symbol, market);
    }
    return market;
  }

  private accountGroup(id: string): ExposureGroup {
    const known = this.accounts.get(id);
    if (known !== undefined) return known;
    const group = groupIn(this.accounts, id, ACCOUNT_LEVEL, this.walkBounds);
    const kept = this.closedOnly.size === 0 ? undefined : this.closedOnly.get(id);
    if (kept !== undefined) {
      group.ordersById = typeof kept === 'number' ? this.tableOf(kept) : kept;
      this.closedOnly.delete(id);
    }
    return group;
  }

  private strategyGroup(id: string): ExposureGroup {
    return groupIn(this.strategies, id, STRATEGY_LEVEL, this.walkBounds);
  }

  /** The exposure `group` holds in `symbol`, if any (no market, no exposure). */
  heldExposure(group: ExposureGroup | undefined, symbol: string): Exposure | undefined {
    const market = this.markets.get(symbol);
    return market === undefined ? undefined : group?.get(market);
  }

  private exposureIn(group: ExposureGroup, market: SymbolMarket, isAccount: boolean): Exposure {
    let exposure = group.get(market);
    if (exposure === undefined) {
      exposure = new Exposure(market, group);
      group.add(exposure);
      if (isAccount) this.accountExposureCount++;
    }
    return exposure;
  }

  private pruneIfEmpty(exposure: Exposure, family: ShardedMap<string, ExposureGroup> | undefined): void {
    if (!exposure.isEmpty) return;
    const group = exposure.group;
    if (!group.delete(exposure)) return;
    group.detach(exposure);
    this.dropEmpty(family, group, 1);
  }
}

function captureGroup(group: ExposureGroup): GroupSnapshot {
  return {
    id: group.id,
    openCount: group.openCount,
    exposures: group.exposures.map((e) => ({
      symbol: e.market.symbol,
      position: e.position,
      avgCost: e.avgCost,
      realized: e.realized,
      openBuy: e.openBuy,
      openSell: e.openSell,
      openBuyNotional: e.openBuyNotional,
      openSellNotional: e.openSellNotional,
      openCount: e.openCount,
      ...(e.flatCost === 0 ? {} : { flatCost: e.flatCost }),
      ...(e.peakBasis === 0 ? {} : { peakBasis: e.peakBasis }),
      ...(e.peakQuantity === Math.abs(e.position) ? {} : { peakQuantity: e.peakQuantity }),
      ...(e.peakOpenBuy === e.openBuy ? {} : { peakOpenBuy: e.peakOpenBuy }),
      ...(e.peakOpenSell === e.openSell ? {} : { peakOpenSell: e.peakOpenSell }),
    })),
  };
}

function groupIn(family: ShardedMap<string, ExposureGroup>, id: string, level: Level, bounds: WalkBounds): ExposureGroup {
  let group = family.get(id);
  if (group === undefined) {
    group = new ExposureGroup(id, level, bounds);
    family.set(id, group);
  }
  return group;
}

/**
 * An account's orders by id: an OrderIdTable until it fills (ORDERS_PER_SHARD), then a
 * ShardedMap of them, whose growth never rebuilds more than one shard at once.
 */
type OrdersById = OrderIdTable<OpenOrder, ClosedHandle> | ShardedMap<string, OpenOrder | ClosedHandle>;

/** What closedOnly keeps of an account's orders by id: one closed order as its handle, not in a table of one. */
function keptWithoutGroup(byId: OrdersById): ClosedHandle | OrdersById {
  const sole: unknown = byId.size === 1 ? byId.values().next().value : undefined;
  return typeof sole === 'number' ? sole : byId;
}

/**
 * Orders per shard of an account's orders: a table is split on filling, at KEYS_PER_SHARD orders
 * in 2 × KEYS_PER_SHARD slots, where one more would double it just before the split emptied half
 * of it (the doubling alone took a millisecond on a two-core VM, most of it the new memory's first touch).
 */
const ORDERS_PER_SHARD = KEYS_PER_SHARD - 1;

function addOpen(exposure: Exposure, order: OpenOrder, quantity: number, tracksOrder: boolean): void {
  if (order.side === 'BUY') {
    exposure.openBuy += quantity;
    exposure.peakOpenBuy = Math.max(exposure.peakOpenBuy, exposure.openBuy);
    exposure.openBuyNotional += quantity * order.price;
  } else {
    exposure.openSell += quantity;
    exposure.peakOpenSell = Math.max(exposure.peakOpenSell, exposure.openSell);
    exposure.openSellNotional += quantity * order.price;
  }
  exposure.openCount++;
  exposure.group.openCount++;
  if (tracksOrder) exposure.trackOrder(order);
}

function removeOpen(exposure: Exposure, order: OpenOrder, quantity: number, isClosing: boolean): void {
  const notional = quantity * order.price;
  // A sum keeps rounding of the larger orders that made it (0.001 + 4 − 4 − 0.001): judged
  // against the largest the sum held since it was 0, that is 0; its notional's scale is taken
  // as that largest quantity at this order's price. No quantity open on a side, no notional.
  if (order.side === 'BUY') {
    const peak = exposure.peakOpenBuy;
    exposure.openBuy = remainderOf(exposure.openBuy, quantity, peak);
    exposure.openBuyNotional = exposure.openBuy === 0 ? 0 : remainderOf(exposure.openBuyNotional, notional, peak * order.price);
    if (exposure.openBuy === 0) exposure.peakOpenBuy = 0;
  } else {
    const peak = exposure.peakOpenSell;
    exposure.openSell = remainderOf(exposure.openSell, quantity, peak);
    exposure.openSellNotional = exposure.openSell === 0 ? 0 : remainderOf(exposure.openSellNotional, notional, peak * order.price);
    if (exposure.openSell === 0) exposure.peakOpenSell = 0;
  }
  if (!isClosing) return;
  exposure.openCount--;
  exposure.group.openCount--;
  exposure.untrackOrder(order);
  if (exposure.openCount !== 0) return;
  // Nothing open: whatever the sums kept is rounding.
  exposure.openBuy = 0;
  exposure.openSell = 0;
  exposure.openBuyNotional = 0;
  exposure.openSellNotional = 0;
  exposure.peakOpenBuy = 0;
  exposure.peakOpenSell = 0;
}

/** `total − part`, 0 when it is rounding of the largest the total has held (`peak`) or of itself. */
function remainderOf(total: number, part: number, peak: number): number {
  const rest = total - part;
  return rest <= 0 || isRounding(rest, Math.max(total, peak)) ? 0 : rest;
}

/** Average-cost accounting: fills that reduce a position realize against the average cost. */
function applyAverageCost(exposure: Exposure, signed: number, price: number): void {
  const position = exposure.position;
  if (position === 0 || Math.sign(position) === Math.sign(signed)) {
    const size = Math.abs(position) + Math.abs(signed);
    exposure.avgCost = (Math.abs(position) * exposure.avgCost + Math.abs(signed) * price) / size;
  } else {
    const closing = Math.min(Math.abs(signed), Math.abs(position));
    exposure.realized += closing * priceGap(price, exposure.avgCost) * Math.sign(position);
    if (Math.abs(signed) > Math.abs(position)) exposure.avgCost = price;
  }
  movePosition(exposure, signed);
  if (exposure.position === 0) exposure.avgCost = 0;
}

/**
 * Moves the position by `change`. What rounding leaves of a closed position (see rounding.ts),
 * judged against the largest position the row held since it was last flat (the sums that
 * left it may have been that large), is flat.
 */
function movePosition(exposure: Exposure, change: number): number {
  const before = exposure.position;
  const position = before + change;
  const peak = Math.max(exposure.peakQuantity, Math.abs(before), Math.abs(change), Math.abs(position));
  const isFlat = isRounding(position, peak);
  exposure.position = isFlat ? 0 : position;
  exposure.peakQuantity = isFlat ? 0 : peak;
  return exposure.position;
}

/**
 * A strategy or the firm adds up its accounts: every fill and every position snapshot row moves
 * it by exactly what it moved the account (the firm by every account's change, a strategy by its
 * orders' and its rows'), in position, cost basis (position × avgCost) and realized P&L. So its
 * P&L is its accounts' total, at any mark and across session resets (they keep positions and
 * costs; realized restarts at every level), and its average cost is their position-weighted blend.
 * Books of their own (the firm realizing against its own average) drifted from their accounts:
 * after a reset the firm of a long and a short account read flat while they held the loss.
 *
 * A level flat while its accounts hold offsetting positions (one long 100 at 60, one short 100
 * at 50) keeps their cost basis as `flatCost` (1,000 here): its P&L is realized − flatCost, and
 * the next change starts from it. What rounding leaves (1e-12 of the largest basis the row
 * held since it was last flat) counts as none, or a flat row could never be pruned.
 */
function addAccountChange(exposure: Exposure, dPosition: number, dCost: number, dRealized: number): void {
  const basis = exposure.position * exposure.avgCost + exposure.flatCost;
  const position = movePosition(exposure, dPosition);
  const cost = basis + dCost;
  const peak = Math.max(exposure.peakBasis, Math.abs(basis), Math.abs(dCost));
  exposure.avgCost = position === 0 ? 0 : cost / position;
  exposure.realized += dRealized;
  if (position !== 0) {
    exposure.flatCost = 0;
    exposure.peakBasis = peak;
    return;
  }
  // Sums of products round to about 1e-16 of the largest basis held on the way: that is dust.
  exposure.flatCost = Math.abs(cost) <= peak * FLAT_COST_DUST ? 0 : cost;
  exposure.peakBasis = exposure.flatCost === 0 ? 0 : peak;
}

/** Relative size of a flat level's leftover basis that is rounding, not money. */
const FLAT_COST_DUST = 1e-12;
