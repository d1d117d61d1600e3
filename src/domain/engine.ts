import { CheckContext } from './check-context.js';
import type { WindowOwner } from './check-context.js';
import type { Clock } from './clock.js';
import { NO_DEADLINE } from './clock.js';
import type { CompiledLimit } from './compiled-limit.js';
import { NOT_APPLICABLE, severityRankOf, thresholdAt, touchLimits } from './compiled-limit.js';
import { isRejectingAction, SEVERITIES } from './enums.js';
import type { Action, Aggregation, LimitKind, ReasonCode, Severity, TradingState } from './enums.js';
import { CapacityError, ExposureLedger } from './exposure-ledger.js';
import type { ExposureGroup, LedgerSnapshot } from './exposure-ledger.js';
import { accountExposureView } from './exposure-view.js';
import type { AccountExposure } from './exposure-view.js';
import { EVERY_KEY } from './key-page.js';
import type { KeyPageQuery } from './key-page.js';
import { isScopeId, scopeKey, scopeKeyOf } from './keys.js';
import { LimitBook, LimitBookError, selfTradeLevel } from './limit-book.js';
import type { LimitSettings, SeverityActions } from './compile-limit.js';
import { idOf } from './compile-limit.js';
import type { LimitDefinition } from './limit-definition.js';
import type { EventSink, StateEvent } from './events.js';
import type { ExecutionEvent, Order, PositionRow, ReferencePrice } from './orders.js';
import { TradingStates } from './trading-states.js';
import type { TradingStateEntry } from './trading-states.js';
import { ViolationBook } from './violation-book.js';
import type { ViolationBookSnapshot } from './violation-book.js';
import type { WindowRing, WindowStore } from './window-store.js';

export interface EngineCapacity {
  maxOpenOrders: number;
  maxPositions: number;
  maxSymbols: number;
  /** Distinct keys one rate or duplicate limit tracks. */
  maxWindowKeys: number;
  /** Timestamps one window holds; windowed thresholds must stay below it. */
  maxWindowEntries: number;
  maxTradingStates: number;
  maxActiveViolations: number;
  maxSubscribers: number;
  /** Limits the book may hold; a change through the API beyond it is refused. */
  maxLimits: number;
}

export interface EngineConfig {
  severityActions: SeverityActions;
  openOrderTtlMs: number;
  /**
   * How long a closed order (cancelled, rejected, expired, filled up) is remembered so a late
   * fill still moves the position, and its id is refused to a new order; a TTL when absent.
   */
  lateFillWindowMs?: number;
  maxReferenceAgeMs: number;
  history: { capacity: number; retentionMs: number };
  capacity: EngineCapacity;
}

export interface OrderViolation {
  violationId: string;
  limitId: string;
  kind: LimitKind;
  severity: Severity;
  action: Action;
  value: number;
  threshold: number;
  key: string;
  message: string;
}

export interface CheckResult {
  orderId: string;
  decision: 'ACCEPT' | 'REJECT';
  reasons: readonly ReasonCode[];
  violations: readonly OrderViolation[];
  evaluated: number;
  bookVersion: number;
}

export interface BatchResult {
  results: CheckResult[];
  summary: { total: number; accepted: number; rejected: number };
}

export interface ExecutionOutcome {
  orderId: string;
  outcome: 'applied' | 'unknown_order';
}

export interface ValueEvaluation {
  limitId: string;
  key: string;
  value: number;
  severity: Severity;
  action: Action;
  threshold: number | undefined;
  violation: OrderViolation | undefined;
}

/** The whole engine state but market data, as plain JSON: what a snapshot file holds. */
export interface EngineSnapshot {
  book: { version: number; limits: LimitDefinition[] };
  ledger: LedgerSnapshot;
  /** Rate and duplicate windows by limit id: [key, timestamps inside the window, oldest first][]. */
  windows: Record<string, [string, number[]][]>;
  violations: ViolationBookSnapshot;
  tradingStates: TradingStateEntry[];
  expiredOrders: number;
  /** Atomic batches neither committed nor rolled back yet, with what each reserved (absent in older snapshots). */
  openBatches?: OpenBatch[];
  /** Atomic batches numbered so far (absent in older snapshots). */
  batches?: number;
  /** A positions replace applied in slices was under way (see replacePositionsSlice); absent when not. */
  replacingPositions?: boolean;
}

/** An atomic batch in progress: its id and its reservations so far, in order. */
export interface OpenBatch {
  batch: string;
  orders: BatchReservation[];
}

/** One reservation of an atomic batch, as much as taking it back needs. */
export interface BatchReservation {
  /** The order as checked: what its windows are keyed by. */
  order: Order;
  acceptedAt: number;
  windows: CountedWindow[];
}

/** A window an order counted in: its limit, and whether the order made the key. */
export interface CountedWindow {
  limitId: string;
  isNew: boolean;
  /**
   * The window's shape when counted, in snapshots of earlier builds only: restore ties such a
   * window to its limit's store only if the shape still matches. Snapshots now hold no window
   * of a replaced store (book changes and session resets forget them), so they write none.
   */
  kind?: string;
  per?: string;
  windowMs?: number;
}

/** Whether `limit` still counts in the store an atomic batch's order was counted in, as far as an earlier build's snapshot tells. */
const countsInSameStore = (limit: { kind: string; per: string; windowMs: number }, counted: CountedWindow): boolean =>
  counted.windowMs === undefined || (limit.windowMs === counted.windowMs && limit.per === counted.per && limit.kind === counted.kind);

/** A window an open batch's order counted in, with the very store: the one a take-back may touch. */
interface KeptWindow extends CountedWindow {
  store: WindowStore;
}

/** A reservation kept for an atomic batch (BatchReservation in snapshots). */
interface KeptReservation {
  readonly order: Order;
  readonly acceptedAt: number;
  readonly windows: readonly KeptWindow[];
}

/** A batch in progress: see LimitEngine.beginBatch. */
export class BatchRun {
  readonly results: CheckResult[];
  next = 0;
  accepted = 0;
  /** An atomic batch's id, from its first reservation on (its reservations are kept under it until it stands). */
  batch: string | undefined;

  constructor(
    readonly orders: readonly Order[],
    readonly isAtomic: boolean,
    readonly deadline: number,
  ) {
    this.results = new Array<CheckResult>(orders.length);
  }

  get result(): BatchResult {
    const total = this.orders.length;
    return { results: this.results, summary: { total, accepted: this.accepted, rejected: total - this.accepted } };
  }
}

export class VersionConflictError extends Error {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`limit book is at version ${actual}, not ${expected}`);
    this.name = 'VersionConflictError';
  }
}

export class UnknownLimitError extends Error {
  constructor(readonly limitId: string) {
    super(`no limit ${limitId}`);
    this.name = 'UnknownLimitError';
  }
}

const NO_REASONS: readonly ReasonCode[] = Object.freeze([]);
const NO_VIOLATIONS: readonly OrderViolation[] = Object.freeze([]);
/**
 * Window keys one sweep drops at most, over all limits: about a millisecond of work. Keys
 * stamped ahead of a wall clock stepped back are moved, not dropped, and do not count: each
 * windowed limit may look at this many of those as well (counting them would let one limit's
 * moved keys take every sweep's budget, and the limits after it would never be swept).
 */
export const SWEEP_BUDGET = 4_096;
/** Idle orders one sweep expires at most (and closed ones it forgets): a few milliseconds. */
export const SWEEP_EXPIRY_BUDGET = 1_024;
/** Violations of deleted (or re-keyed, or disabled) limits one sweep resolves at most, each a notice to every stream. */
export const SWEEP_END_BUDGET = 2_048;
/**
 * What flattening a group costs beyond its positions, in positions: about 2.4 µs a group against
 * 0.1 µs a position (a million accounts of one position each made steps of 8,000 groups, 20 ms).
 */
export const FLATTEN_GROUP_WEIGHT = 24;
/** What a check, a batch slice or an execution request expires at most before its own work. */
export const CHECK_EXPIRY_BUDGET = 64;

interface Breach {
  limit: CompiledLimit;
  value: number;
  rank: number;
}

/** The groups a replace in slices has still to flatten, the next one read ahead (see LimitEngine.beginPositionsReplace). */
interface Flattening {
  readonly groups: Iterator<ExposureGroup, void>;
  next: IteratorResult<ExposureGroup, void>;
}

/**
 * A change refused for where a positions replace in slices stands (see
 * LimitEngine.beginPositionsReplace): one under way refuses fills, merges and session resets; none
 * under way refuses a replace's later steps. Nothing changed.
 */
export class PositionsReplacingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PositionsReplacingError';
  }
}

/**
 * The pre-trade limit engine: checks an order against every applicable limit and, on ACCEPT,
 * reserves its exposure in the same synchronous call, so check-and-reserve is atomic by
 * construction. No I/O, no await, one wall-clock read per check or batch.
 */
export class LimitEngine {
  readonly ledger: ExposureLedger;
  readonly violations: ViolationBook;
  readonly tradingStates: TradingStates;
  private currentBook: LimitBook;
  private readonly ctx: CheckContext;
  /** Scratch lists reused by every check and written from the front, never truncated (see collectApplicable). */
  private readonly applicable: CompiledLimit[] = [];
  private readonly clean: CompiledLimit[] = [];
  private readonly breaches: Breach[] = [];
  /** Atomic batches in progress (live) or not yet ended in the journal (replay), by id: see keepForBatch. */
  private readonly openBatches = new Map<string, KeptReservation[]>();
  /** Atomic batches numbered so far (ids b1, b2, ...), live and replayed alike, and kept in snapshots. */
  private batches = 0;
  /** Where state changes go (the journal); undefined when nothing records them. */
  private sink: EventSink | undefined;
  /** A positions replace applied in slices is under way: see beginPositionsReplace. */
  private replacingPositions = false;
  /** Its flattening, while it goes on (this process's: a restart or a rewind ends it). */
  private flattening: Flattening | undefined;
  expiredOrders = 0;

  constructor(
    private readonly config: EngineConfig,
    private readonly clock: Clock,
    limits: readonly unknown[] = [],
  ) {
    const c = config.capacity;
    this.ledger = new ExposureLedger(
      { maxOpenOrders: c.maxOpenOrders, maxPositions: c.maxPositions, maxSymbols: c.maxSymbols },
      config.openOrderTtlMs,
      config.lateFillWindowMs ?? config.openOrderTtlMs,
    );
    this.violations = new ViolationBook({
      historyCapacity: config.history.capacity,
      retentionMs: config.history.retentionMs,
      maxActive: c.maxActiveViolations,
      maxSubscribers: c.maxSubscribers,
    });
    this.tradingStates = new TradingStates(c.maxTradingStates);
    this.ctx = new CheckContext(this.ledger, config.maxReferenceAgeMs, c.maxWindowKeys);
    this.currentBook = this.compile(limits, 1, undefined);
    this.trackOrdersFor(this.currentBook);
  }

  /** Open orders are kept per strategy or firm exposure only while a self_trade limit reads them there. */
  private trackOrdersFor(book: LimitBook): void {
    const { strategy, firm } = book.selfTradeLevels;
    this.ledger.trackOrders(strategy, firm);
  }

  get book(): LimitBook {
    return this.currentBook;
  }

  /** Hands every later state change to `sink` (synchronously; the sink only buffers). */
  recordEventsTo(sink: EventSink | undefined): void {
    this.sink = sink;
  }

  private emit(event: StateEvent): void {
    this.sink?.(event);
  }

  checkOrder(order: Order, deadline: number = NO_DEADLINE): CheckResult {
    const now = this.clock.now();
    this.expire(now);
    return this.checkAt(order, now, deadline, undefined);
  }

  /**
   * Orders in sequence, each seeing the reservations of those accepted before it. With
   * `atomic`, the first rejection takes back every reservation of the batch and rejects the rest.
   */
  checkBatch(orders: readonly Order[], options: { atomic?: boolean; deadline?: number } = {}): BatchResult {
    const run = this.beginBatch(orders, options);
    this.advanceBatch(run, Number.POSITIVE_INFINITY);
    return run.result;
  }

  /**
   * A batch to be checked in slices (advanceBatch), so that a large one never holds the event
   * loop for long: between slices other requests run and see the batch's reservations so far.
   */
  beginBatch(orders: readonly Order[], options: { atomic?: boolean; deadline?: number } = {}): BatchRun {
    return new BatchRun(orders, options.atomic === true, options.deadline ?? NO_DEADLINE);
  }

  /** Checks up to `maxOrders` more orders of the batch (one clock read); returns whether it is done. */
  advanceBatch(run: BatchRun, maxOrders: number): boolean {
    const now = this.clock.now();
    this.expire(now);
    const { orders, results } = run;
    const atomic = run.isAtomic ? run : undefined;
    const end = Math.min(orders.length, run.next + maxOrders);
    for (; run.next < end; run.next++) {
      const i = run.next;
      const result = this.checkAt(orders[i]!, now, run.deadline, atomic);
      results[i] = result;
      if (result.decision === 'ACCEPT') {
        run.accepted++;
      } else if (atomic !== undefined) {
        this.rollBack(run.batch, results, i, now);
        for (let j = i + 1; j < orders.length; j++) results[j] = this.rejection(orders[j]!, 'BATCH_REJECTED', 0);
        run.accepted = 0;
        run.next = orders.length;
      }
    }
    const isDone = run.next >= orders.length;
    const batch = run.batch;
    if (isDone && batch !== undefined && this.openBatches.delete(batch)) this.emit({ type: 'batch_committed', at: now, batch });
    return isDone;
  }

  /** Ends a batch early: the rest are rejected with `reason`; an atomic batch takes back what it reserved. */
  abortBatch(run: BatchRun, reason: ReasonCode): void {
    if (run.next >= run.orders.length) return;
    if (run.isAtomic) {
      this.rollBack(run.batch, run.results, run.next, this.clock.now());
      run.accepted = 0;
    }
    for (let j = run.next; j < run.orders.length; j++) run.results[j] = this.rejection(run.orders[j]!, reason, 0);
    run.next = run.orders.length;
  }

  private checkAt(order: Order, now: number, deadline: number, atomic: BatchRun | undefined): CheckResult {
    if (deadline !== NO_DEADLINE && this.clock.isPast(deadline)) return this.rejection(order, 'DEADLINE_EXCEEDED', 0);
    if (this.replacingPositions) return this.rejection(order, 'POSITIONS_REPLACING', 0);
    const ctx = this.ctx;
    ctx.prepare(order, now);
    const idHolder = ctx.idHolder;
    ctx.idHolder = undefined;
    const state = this.tradingStates.stateFor(order);
    if (state?.state === 'HALTED') return this.rejection(order, 'HALTED', 0);
    if (state?.state === 'REDUCE_ONLY' && !ctx.isReducing) return this.rejection(order, 'REDUCE_ONLY', 0);
    // An open order's id, or one closed within the late-fill window: that order's late fills would land on this one.
    if (this.ledger.holdsId(idHolder, now)) return this.rejection(order, 'DUPLICATE_ORDER_ID', 0);
    if (!this.ledger.hasRoomFor(ctx)) return this.rejection(order, 'CAPACITY_EXCEEDED', 0);

    const applicable = this.applicable;
    const count = this.currentBook.collectApplicable(order, applicable);
    ctx.touched += touchLimits(applicable, count);
    const clean = this.clean;
    let cleanCount = 0;
    const breaches = this.breaches;
    breaches.length = 0;
    let evaluated = 0;
    let isBlocked = false;
    let lacksPrice = false;
    let lacksCapacity = false;
    // Only a limit with an active violation has one to resolve: with none anywhere (the usual
    // state), the check reads no limit's table of them.
    const mayResolve = this.violations.activeCount !== 0;
    for (let i = 0; i < count; i++) {
      if (deadline !== NO_DEADLINE && this.clock.isPast(deadline)) return this.rejection(order, 'DEADLINE_EXCEEDED', evaluated);
      const limit = applicable[i]!;
      limit.evaluate(limit, ctx);
      const value = ctx.value;
      if (value === NOT_APPLICABLE) continue;
      evaluated++;
      if (value !== value) {
        if (ctx.failure === 'CAPACITY_EXCEEDED') lacksCapacity = true;
        else lacksPrice = true;
        continue;
      }
      // Most values are clean: one bound read settles it.
      const rank = value > limit.cleanBound ? severityRankOf(limit, value) : 0;
      if (rank > 0) {
        breaches.push({ limit, value, rank });
        if (isRejectingAction(limit.actions[rank]!)) isBlocked = true;
      } else if (mayResolve && limit.active.size !== 0) {
        clean[cleanCount++] = limit;
      }
    }
    // The commit point: past it the order leaves violations and a reservation, which a gateway
    // that has stopped waiting would never hear of. The last limit may have crossed the deadline.
    if (deadline !== NO_DEADLINE && this.clock.isPast(deadline)) return this.rejection(order, 'DEADLINE_EXCEEDED', evaluated);

    const violations = breaches.length === 0 ? NO_VIOLATIONS : this.recordBreaches(breaches, order, now);
    for (let i = 0; i < cleanCount; i++) {
      const limit = clean[i]!;
      this.resolve(limit.id, scopeKey(limit.per, order), now);
    }
    const reasons = reasonsOf(isBlocked, lacksPrice, lacksCapacity);
    if (reasons === NO_REASONS) this.reserve(order, now, atomic);
    return {
      orderId: order.orderId,
      decision: reasons === NO_REASONS ? 'ACCEPT' : 'REJECT',
      reasons,
      violations,
      evaluated,
      bookVersion: this.currentBook.version,
    };
  }

  private reserve(order: Order, now: number, atomic: BatchRun | undefined): void {
    const ctx = this.ctx;
    const price = firstFinite(ctx.effectivePrice, ctx.markPrice, 0);
    // Nothing changed the ledger since the context looked the order's exposures up.
    const open = this.ledger.reserve(order.orderId, order.accountId, order.strategyId, order.symbol, order.side, order.quantity, price, order.orderType === 'MARKET', now, ctx);
    const windows: KeptWindow[] | undefined = atomic === undefined ? undefined : [];
    for (let i = 0; i < ctx.windowCount; i++) {
      // Not found at the check, so not there now: nothing runs between the check and this. The
      // check counted without trimming; the trim is here, journalled with the order.
      enterWindow(ctx.windowOwners[i]!, ctx.windowRings[i], order, now, windows);
    }
    // Journalled at once, an atomic batch's too: a batch checked in slices lets other requests
    // run in between, and the journal must hold their changes in the order they were made.
    if (atomic === undefined) {
      if (this.sink !== undefined) this.emit({ type: 'order_accepted', at: now, order, price });
      return;
    }
    // Numbered at its first reservation, so replay (which sees only reservations) numbers alike.
    const batch = (atomic.batch ??= `b${++this.batches}`);
    open.batch = batch;
    this.keepForBatch(batch, { order, acceptedAt: now, windows: windows! });
    this.emit({ type: 'order_accepted', at: now, order, price, batch });
  }

  /**
   * An atomic batch's reservation, kept until the batch stands (batch_committed) or is taken back
   * (batch_rolled_back). Replay keeps them alike, from the journal, so a restart that finds a batch
   * neither committed nor rolled back (the service stopped between its slices) can take it back.
   */
  private keepForBatch(batch: string, taken: KeptReservation): void {
    const orders = this.openBatches.get(batch);
    if (orders === undefined) this.openBatches.set(batch, [taken]);
    else orders.push(taken);
  }

  /** Takes back an atomic batch's reservations, newest first, and journals that it did. */
  private rollBack(batch: string | undefined, results: CheckResult[], failedAt: number, now: number): void {
    if (batch !== undefined) this.takeBackBatch(batch, now);
    for (let i = 0; i < failedAt; i++) {
      const result = results[i]!;
      results[i] = { ...result, decision: 'REJECT', reasons: ['BATCH_REJECTED'] };
    }
  }

  private takeBackBatch(batch: string, now: number): void {
    if (this.takeBackKept(batch, now)) this.emit({ type: 'batch_rolled_back', at: now, batch });
  }

  /** Takes back what the batch reserved, newest first; false when it holds nothing. */
  private takeBackKept(batch: string, now: number): boolean {
    const orders = this.openBatches.get(batch);
    if (orders === undefined) return false;
    this.openBatches.delete(batch);
    for (let i = orders.length - 1; i >= 0; i--) this.takeBack(batch, orders[i]!, now);
    return true;
  }

  /**
   * After recovery: atomic batches the journal holds neither a commit nor a rollback of (the
   * service stopped between their slices, and no client was told they stood) are taken back, and
   * that is journalled, so all-or-none holds across the restart. Call with the journal attached.
   */
  abandonOpenBatches(): void {
    if (this.openBatches.size === 0) return;
    const now = this.clock.now();
    for (const batch of [...this.openBatches.keys()]) this.takeBackBatch(batch, now);
  }

  /**
   * Takes one reservation back at `now`, live or replayed alike, so that both end the same: the
   * open order by its id, if this batch still holds it (another request may have closed it
   * between the batch's slices, and even reused its id), and the order's entry in each window it
   * counted in. Each window is first trimmed to its length (a journalled trim: see
   * TimeRing.trim). A key the reservation made goes with it if that leaves it empty (it would
   * count against maxWindowKeys until the next sweep); one that was there before stays.
   */
  private takeBack(batch: string, { order, acceptedAt, windows }: KeptReservation, now: number): void {
    this.ledger.unreserve(order.accountId, order.orderId, batch, acceptedAt);
    for (const counted of windows) {
      const limit = this.currentBook.byId.get(counted.limitId);
      if (limit === undefined || limit.windows !== counted.store) continue;
      const ring = limit.windows.find(order);
      if (ring === undefined) continue;
      ring.trim(now - limit.windowMs);
      ring.removeNewest(acceptedAt);
      if (counted.isNew && ring.size === 0) limit.windows.drop(order, ring);
    }
  }

  private recordBreaches(breaches: Breach[], order: Order, now: number): OrderViolation[] {
    breaches.sort((a, b) => a.limit.ordinal - b.limit.ordinal);
    return breaches.map(({ limit, value, rank }) => this.recordBreach(limit, value, rank, scopeKey(limit.per, order), order.orderId, now));
  }

  private recordBreach(limit: CompiledLimit, value: number, rank: number, key: string, orderId: string | undefined, now: number): OrderViolation {
    const severity = SEVERITIES[rank]!;
    const action = limit.actions[rank]!;
    const threshold = thresholdAt(limit, rank);
    const message = `${limit.kind} ${round(value)} above ${severity} threshold ${threshold} on ${key}`;
    const breach = { limitId: limit.id, kind: limit.kind, key, severity, action, value, threshold, orderId, message };
    const event = this.violations.record(breach, now);
    this.emit({ type: 'violation', at: now, breach });
    if (action === 'HALT' || action === 'REDUCE_ONLY') {
      const entry = this.tradingStates.tighten(key, action === 'HALT' ? 'HALTED' : 'REDUCE_ONLY', message, now, `limit:${limit.id}`);
      if (entry !== undefined) this.emit(tradingStateEvent(entry));
    }
    return { violationId: event.violationId, limitId: limit.id, kind: limit.kind, severity, action, value, threshold, key, message };
  }

  private resolve(limitId: string, key: string, now: number): void {
    if (this.violations.resolve(limitId, key, now)) this.emit({ type: 'resolved', at: now, limitId, key });
  }

  private rejection(order: Order, reason: ReasonCode, evaluated: number): CheckResult {
    return {
      orderId: order.orderId,
      decision: 'REJECT',
      reasons: [reason],
      violations: NO_VIOLATIONS,
      evaluated,
      bookVersion: this.currentBook.version,
    };
  }

  // ---- executions, positions, market data -------------------------------------------------

  /**
   * Refused (PositionsReplacingError, nothing changed) if it holds a FILL while a positions replace
   * is under way (see beginPositionsReplace): a fill moves a position the replace is restating.
   * CANCEL, REJECT and EXPIRE only release open orders, and go on.
   */
  applyExecutions(events: readonly ExecutionEvent[]): ExecutionOutcome[] {
    if (this.replacingPositions && events.some((event) => event.type === 'FILL')) this.refuseWhileReplacing('fills');
    const now = this.clock.now();
    this.expire(now);
    for (const event of events) {
      if (event.type === 'FILL' && (event.quantity === undefined || event.price === undefined)) {
        throw new RangeError(`FILL ${event.orderId} needs quantity and price`);
      }
    }
    return events.map((event) => {
      const outcome = this.execute(event, now);
      if (outcome === 'applied') this.emit({ type: 'execution', at: now, event });
      return { orderId: event.orderId, outcome };
    });
  }

  private execute(event: ExecutionEvent, now: number): ExecutionOutcome['outcome'] {
    if (event.type === 'FILL') return this.ledger.fill(event.accountId, event.orderId, event.quantity!, event.price!, now);
    return this.ledger.release(event.accountId, event.orderId, now) ? 'applied' : 'unknown_order';
  }

  /**
   * Refused (a CapacityError, nothing changed) if the rows need more new positions or symbols than
   * capacity allows; a merge is refused (PositionsReplacingError) while a replace is under way in
   * slices, and a replace in one step ends one left unfinished.
   */
  applyPositions(rows: readonly PositionRow[], replace: boolean): void {
    if (!replace) this.refuseWhileReplacing('a positions merge');
    this.ledger.applyPositions(rows, replace);
    this.replacingPositions = false;
    this.flattening = undefined;
    this.emit({ type: 'positions', at: this.clock.now(), rows: [...rows], replace });
  }

  /**
   * Begins a positions replace too large for one step (DESIGN §6): every position is flattened a
   * part at a time (flattenForReplace), then the rows are set a slice at a time
   * (replacePositionsSlice). Until the last slice the book is half replaced: checks are rejected
   * POSITIONS_REPLACING, and fills, merges and session resets are refused, since none of them
   * could be judged or applied against it. A replace left unfinished (the journal failed, the
   * service stopped) stays so, through snapshots and recovery, until a replace ends it.
   */
  beginPositionsReplace(): void {
    const groups = this.ledger.groupsToFlatten();
    this.flattening = { groups, next: groups.next() };
    this.replacingPositions = true;
    // Journalled at once, flattening nothing: replay is then replacing from the same record on.
    this.emit({ type: 'positions_flattened', at: this.clock.now(), accounts: [], strategies: [], firm: false });
  }

  /**
   * Flattens the next groups of a replace begun, whole groups of at most `budget` positions in all
   * (counted at every level, each group as FLATTEN_GROUP_WEIGHT more), or one group alone that
   * holds more; returns whether any are left.
   */
  flattenForReplace(budget: number): boolean {
    const flattening = this.flattening;
    if (flattening === undefined) throw new PositionsReplacingError('no positions replace is being flattened');
    const step: ExposureGroup[] = [];
    for (let rows = 0; !flattening.next.done; flattening.next = flattening.groups.next()) {
      const size = flattening.next.value.exposures.length + FLATTEN_GROUP_WEIGHT;
      if (rows > 0 && rows + size > budget) break;
      step.push(flattening.next.value);
      rows += size;
    }
    const flattened = this.ledger.flattenGroups(step);
    this.emit({ type: 'positions_flattened', at: this.clock.now(), ...flattened });
    if (flattening.next.done === true) this.flattening = undefined;
    return this.flattening !== undefined;
  }

  /**
   * A slice of the rows of a replace begun (beginPositionsReplace), merged once every position is
   * flattened; the last ends the replace. Refused as applyPositions is, changing nothing.
   */
  replacePositionsSlice(rows: readonly PositionRow[], isLast: boolean): void {
    if (!this.replacingPositions) throw new PositionsReplacingError('no positions replace is under way to add rows to');
    // A row set before its group is flattened would be flattened with it.
    if (this.flattening !== undefined) throw new PositionsReplacingError('the positions being replaced are still being flattened: rows come after');
    this.ledger.applyPositions(rows, false);
    this.replacingPositions = !isLast;
    this.emit({ type: 'positions', at: this.clock.now(), rows: [...rows], replace: false, replacing: !isLast });
  }

  get isReplacingPositions(): boolean {
    return this.replacingPositions;
  }

  private refuseWhileReplacing(what: string): void {
    if (this.replacingPositions) throw new PositionsReplacingError(`${what} cannot be applied while positions are being replaced: send again once the replace has ended`);
  }

  /** Why applying rows would be refused for capacity, told a part at a time (see ExposureLedger.positionsTally); changes nothing. */
  positionsTally(): ReturnType<ExposureLedger['positionsTally']> {
    return this.ledger.positionsTally();
  }

  setReferencePrices(prices: readonly ReferencePrice[]): void {
    const overflow = this.ledger.symbolsOverflow(prices.map((p) => p.symbol));
    if (overflow !== undefined) throw overflow;
    const now = this.clock.now();
    for (const { symbol, price } of prices) this.ledger.setReferencePrice(symbol, price, now);
  }

  /** One page of the account's positions, with totals over all of them; every position without a page (tests, tools). */
  exposure(accountId: string, page: KeyPageQuery = EVERY_KEY): AccountExposure {
    return accountExposureView(this.ledger, accountId, this.clock.now(), this.config.maxReferenceAgeMs, page);
  }

  /** New trading day: realized P&L, rate and duplicate windows restart; positions stay. Refused while positions are being replaced. */
  resetSession(): void {
    this.refuseWhileReplacing('a session reset');
    this.restartSession();
    this.emit({ type: 'session_reset', at: this.clock.now() });
  }

  private restartSession(): void {
    this.ledger.resetSession();
    for (const limit of this.currentBook.values()) limit.windows.clear();
    // The entries an open atomic batch counted went with the windows: a take-back must not
    // find the same store, now holding other orders' entries, and take one of theirs.
    if (this.openBatches.size !== 0) this.forgetWindows(() => false);
  }

  // ---- trading states ---------------------------------------------------------------------

  setTradingState(type: Aggregation, id: string | undefined, state: TradingState, reason: string): TradingStateEntry {
    const entry = this.tradingStates.set(scopeKeyOf(type, id), state, reason, this.clock.now(), 'api');
    this.emit(tradingStateEvent(entry));
    return entry;
  }

  // ---- value limits -----------------------------------------------------------------------

  /** The review's check_limit(limit_id, current_value) for `value` limits fed by other systems. */
  evaluateValue(limitId: string, value: number, scopeId: string | undefined): ValueEvaluation {
    const limit = this.currentBook.byId.get(limitId);
    if (limit === undefined) throw new UnknownLimitError(limitId);
    if (limit.kind !== 'value') throw new LimitBookError(`limit ${limitId} is a ${limit.kind} limit: only value limits take a value`, ['kind']);
    if (limit.per !== 'global' && scopeId === undefined) throw new LimitBookError(`limit ${limitId} is per ${limit.per}: give the scope id`, ['scopeId']);
    if (scopeId !== undefined && (limit.per === 'global' || !isScopeId(limit.per, scopeId))) {
      throw new LimitBookError(`limit ${limitId} is per ${limit.per}: scopeId must be ${limit.per === 'global' ? 'absent' : limit.per.includes('+') ? '<id>|<symbol>' : 'one id'}`, ['scopeId']);
    }
    const now = this.clock.now();
    const key = scopeKeyOf(limit.per, scopeId);
    const rank = limit.isEnabled ? severityRankOf(limit, value) : 0;
    if (rank === 0) {
      this.resolve(limit.id, key, now);
      return { limitId, key, value, severity: 'INFO', action: limit.actions[0]!, threshold: undefined, violation: undefined };
    }
    const violation = this.recordBreach(limit, value, rank, key, undefined, now);
    return { limitId, key, value, severity: violation.severity, action: violation.action, threshold: violation.threshold, violation };
  }

  // ---- the limit book ---------------------------------------------------------------------

  /**
   * Begins keeping open orders at the levels the self_trade limits among `definitions` read
   * (per symbol: the firm's; per strategy+symbol: each strategy's) where none are kept yet.
   * The orders already open are linked by trackSome, a slice at a time, before the book change
   * that adds such a limit; that change links whatever is left in one step. Returns whether
   * there is linking to do.
   */
  prepareTracking(definitions: readonly LimitDefinition[]): boolean {
    let strategy = false;
    let firm = false;
    for (const definition of definitions) {
      const level = selfTradeLevel(definition.kind, definition.per, definition.enabled !== false);
      strategy ||= level === 'strategy';
      firm ||= level === 'firm';
    }
    return this.ledger.startTracking(strategy, firm);
  }

  /** Keeps open orders linked at the levels the current book reads (after prepareTracking for a change that never came). */
  settleTracking(): void {
    this.trackOrdersFor(this.currentBook);
  }

  /** Links up to `budget` open orders for prepareTracking; returns whether more are left. */
  trackSome(budget: number): boolean {
    return this.ledger.trackSome(budget);
  }

  replaceLimits(definitions: readonly unknown[], expectedVersion?: number): LimitBook {
    this.assertVersion(expectedVersion);
    this.assertRoomFor(definitions.length);
    return this.swap(this.compile(definitions, this.currentBook.version + 1, this.currentBook));
  }

  /** Adds a limit (last) or replaces one (in its place); costs that limit, not the book. */
  upsertLimit(definition: unknown, expectedVersion?: number): LimitBook {
    this.assertVersion(expectedVersion);
    const id = idOf(definition);
    if (typeof id !== 'string' || !this.currentBook.byId.has(id)) this.assertRoomFor(this.currentBook.size + 1);
    return this.putLimit(definition, this.currentBook.version + 1, this.clock.now());
  }

  /** A limit that does not exist is unknown (404) whatever version the caller read: existence is checked first. */
  deleteLimit(limitId: string, expectedVersion?: number): LimitBook {
    if (!this.currentBook.byId.has(limitId)) throw new UnknownLimitError(limitId);
    this.assertVersion(expectedVersion);
    return this.removeLimit(limitId, this.currentBook.version + 1, this.clock.now());
  }

  private putLimit(definition: unknown, version: number, now: number): LimitBook {
    const { book, limit, replaced } = this.currentBook.withLimit(definition, version, this.limitSettings());
    this.adopt(book);
    if (replaced !== undefined) this.endViolationsOf(replaced, limit, now);
    this.emit({ type: 'limit_upserted', at: now, version, limit: limit.definition });
    return book;
  }

  private removeLimit(limitId: string, version: number, now: number): LimitBook {
    const next = this.currentBook.withoutLimit(limitId, version);
    this.adopt(next);
    this.violations.forgetLimit(limitId, now);
    this.emit({ type: 'limit_deleted', at: now, version, limitId });
    return next;
  }

  /** Checked before anything changes. A book replayed from the journal is not: it was allowed when made. */
  private assertRoomFor(limits: number): void {
    const max = this.config.capacity.maxLimits;
    if (limits > max) throw new CapacityError(`limits: a book of ${limits} limits exceeds maxLimits ${max}`);
  }

  private compile(definitions: readonly unknown[], version: number, previous: LimitBook | undefined): LimitBook {
    return LimitBook.compile(definitions, { ...this.limitSettings(), version, previous });
  }

  private limitSettings(): LimitSettings {
    return { severityActions: this.config.severityActions, maxWindowEntries: this.config.capacity.maxWindowEntries, violations: this.violations };
  }

  /** Swaps in a whole new book: every limit is compared with its successor, and the book is journalled whole. */
  private swap(next: LimitBook, now = this.clock.now()): LimitBook {
    const previous = this.currentBook;
    this.adopt(next);
    for (const limit of previous.values()) {
      const successor = next.byId.get(limit.id);
      if (successor === undefined) this.violations.forgetLimit(limit.id, now);
      else this.endViolationsOf(limit, successor, now);
    }
    this.emit({ type: 'book', at: now, version: next.version, limits: next.definitions });
    return next;
  }

  private adopt(next: LimitBook): void {
    this.currentBook = next;
    this.releaseScratch();
    this.trackOrdersFor(next);
    if (this.openBatches.size !== 0) this.forgetReplacedWindows(next);
  }

  /**
   * An open atomic batch's orders counted in the window stores of the book of their time. A limit
   * deleted, or given another store, took those entries with it: they are forgotten here, so
   * that a take-back never reaches into a later store under the same id (a limit deleted and
   * added again alike between slices), whose entries are other orders'. Replay adopts the same
   * books, so it forgets the same.
   */
  private forgetReplacedWindows(next: LimitBook): void {
    this.forgetWindows((counted) => next.byId.get(counted.limitId)?.windows === counted.store);
  }

  /** Drops from open atomic batches' reservations the windows that do not `stay` (new objects: a snapshot captured before holds the old). */
  private forgetWindows(stays: (counted: KeptWindow) => boolean): void {
    for (const orders of this.openBatches.values()) {
      for (let i = 0; i < orders.length; i++) {
        const taken = orders[i]!;
        if (!taken.windows.every(stays)) orders[i] = { ...taken, windows: taken.windows.filter(stays) };
      }
    }
  }

  /** A changed key makes the old keys' violations unresolvable: they end with the old limit, as they do when it is disabled. */
  private endViolationsOf(limit: CompiledLimit, successor: CompiledLimit, now: number): void {
    if (!successor.isEnabled || successor.per !== limit.per) this.violations.resolveAllOf(limit.id, now);
  }

  /** On a new book: the scratch lists' leftovers would hold the old book's limits (and their windows) alive. */
  private releaseScratch(): void {
    this.applicable.length = 0;
    this.clean.length = 0;
    this.ctx.releaseWindows();
  }

  /** Refuses (VersionConflictError) a change made against another book version than the current one. */
  assertVersion(expected: number | undefined): void {
    if (expected !== undefined && expected !== this.currentBook.version) throw new VersionConflictError(expected, this.currentBook.version);
  }

  // ---- housekeeping -----------------------------------------------------------------------

  /**
   * Expires idle orders, drops empty windows and old history; run on a timer, off the hot path.
   * Returns whether more is due than one sweep does (SWEEP_BUDGET keys, SWEEP_EXPIRY_BUDGET
   * orders): the caller sweeps again on its next turn, so no sweep holds the event loop for
   * long however much a burst left behind.
   */
  sweep(): boolean {
    const now = this.clock.now();
    const isExpiryDone = this.expire(now, SWEEP_EXPIRY_BUDGET);
    const { isChanged, isDone } = this.sweepAt(now);
    this.ledger.trimSpares();
    if (isChanged) this.emit({ type: 'sweep', at: now });
    return !isDone || !isExpiryDone;
  }

  /**
   * Replay runs it for each journalled sweep: the same budget over the same push order drops
   * the same keys (a different budget in another version only moves when an empty key goes).
   */
  private sweepAt(now: number): { isChanged: boolean; isDone: boolean } {
    let budget = SWEEP_BUDGET;
    // A sweep that only moved keys (stamped ahead of a clock stepped back) changed their order,
    // which later sweeps walk: it is journalled too, so replay walks them alike.
    const moved = { count: 0 };
    for (const limit of this.currentBook.values()) {
      if (limit.windows.size !== 0 && budget > 0) budget -= limit.windows.sweep(now - limit.windowMs, budget, moved);
    }
    const historySize = this.violations.historySize;
    this.violations.prune(now);
    // Not journalled: ending a deleted limit's violations changes nothing replay or a snapshot sees.
    const isEndingDone = !this.violations.drainEnded(SWEEP_END_BUDGET);
    const isChanged = budget < SWEEP_BUDGET || moved.count > 0 || historySize !== this.violations.historySize;
    return { isChanged, isDone: budget > 0 && isEndingDone };
  }

  /**
   * Expires what is due, at most `budget` orders and as many closed ones forgotten (a check
   * pays for a few, the sweeper for the rest); returns whether all that was due is done.
   * Orders left due stay reserved until then: more exposure counted, never less.
   */
  private expire(now: number, budget = CHECK_EXPIRY_BUDGET): boolean {
    if (!this.ledger.isExpiryDue(now)) return true;
    const expired = this.ledger.expireIdle(now, budget);
    // Forgetting closed orders changes what a late fill finds: journalled like an expiry.
    const forgotten = this.ledger.forgetClosed(now, budget);
    if (expired !== 0 || forgotten !== 0) {
      this.expiredOrders += expired;
      this.emit({ type: 'expire', at: now, expired, forgotten });
    }
    return !this.ledger.isExpiryDue(now);
  }

  // ---- recovery ---------------------------------------------------------------------------

  /**
   * Re-applies a journalled state change. Outcomes are replayed as they happened (no limit is
   * evaluated again), so the result does not depend on the clock, deadlines or market data.
   */
  replay(event: StateEvent): void {
    switch (event.type) {
      case 'order_accepted':
        return this.replayAccepted(event.order, event.price, event.at, event.batch);
      case 'batch_rolled_back':
        this.takeBackKept(event.batch, event.at);
        return;
      case 'batch_committed':
        this.openBatches.delete(event.batch);
        return;
      case 'execution':
        this.execute(event.event, event.at);
        return;
      case 'positions':
        this.ledger.applyPositions(event.rows, event.replace);
        this.replacingPositions = event.replacing === true;
        return;
      case 'positions_flattened':
        this.ledger.flattenGroupsById(event.accounts, event.strategies, event.firm);
        this.replacingPositions = true;
        return;
      case 'book':
        this.swap(this.compile(event.limits, event.version, this.currentBook), event.at);
        return;
      case 'limit_upserted':
        this.putLimit(event.limit, event.version, event.at);
        return;
      case 'limit_deleted':
        this.removeLimit(event.limitId, event.version, event.at);
        return;
      case 'trading_state':
        return this.tradingStates.restore({ scope: event.scope, state: event.state, reason: event.reason, setAt: event.at, source: event.source });
      case 'session_reset':
        return this.restartSession();
      case 'violation':
        this.violations.record({ ...event.breach, orderId: event.breach.orderId }, event.at);
        return;
      case 'resolved':
        this.violations.resolve(event.limitId, event.key, event.at);
        return;
      case 'expire':
        this.expiredOrders += this.ledger.expireIdle(event.at, event.expired ?? Number.POSITIVE_INFINITY);
        this.ledger.forgetClosed(event.at, event.forgotten ?? Number.POSITIVE_INFINITY);
        return;
      case 'sweep':
        this.sweepAt(event.at);
        return;
    }
  }

  /**
   * The whole state, for a snapshot. Every window entry is kept, aged out or not: what a ring
   * holds is state the journal accounts for (see TimeRing.trim), and after the wall clock steps
   * back the service counts entries that had aged out by an earlier reading of it, so a restore
   * must too. A key stays even when empty: it counts against maxWindowKeys until the sweeper drops it.
   */
  captureState(): EngineSnapshot {
    // Keyed by limit ids, which may be any name an object already has (`constructor`, `__proto__`).
    const windows = Object.create(null) as Record<string, [string, number[]][]>;
    for (const limit of this.currentBook.values()) {
      if (limit.windows.size === 0) continue;
      windows[limit.id] = Array.from(limit.windows.entries(), ([key, ring]) => [key, ring.toArray()]);
    }
    return {
      book: { version: this.currentBook.version, limits: this.currentBook.definitions },
      ledger: this.ledger.capture(),
      windows,
      violations: this.violations.capture(),
      tradingStates: this.tradingStates.list(),
      expiredOrders: this.expiredOrders,
      openBatches: Array.from(this.openBatches, ([batch, orders]) => ({ batch, orders: orders.map(reservationSnapshot) })),
      batches: this.batches,
      ...(this.replacingPositions ? { replacingPositions: true } : {}),
    };
  }

  /**
   * Goes back to an earlier state of this running engine (a journal recovery with fsync
   * durability: what the disk holds). Unlike a restore at start, it keeps what is not state:
   * reference prices (market data is in no snapshot), and what violation subscribers were told
   * (later breaches are numbered past it; violations that are gone are told as ended, and ones
   * it brings back or changes are told again). As at a start, an atomic batch left in the
   * middle is taken back.
   */
  rewindTo(snapshot: EngineSnapshot): void {
    const prices = [...this.ledger.markets.values()].filter((m) => !Number.isNaN(m.refPrice)).map((m) => ({ symbol: m.symbol, price: m.refPrice, at: m.refAt }));
    const told = this.violations.handOver();
    this.restoreState(snapshot);
    for (const { symbol, price, at } of prices) this.ledger.setReferencePrice(symbol, price, at);
    this.violations.takeOver(told, this.clock.now());
    this.abandonOpenBatches();
  }

  /** Replaces the whole state with a snapshot's (recovery). Nothing is journalled. */
  restoreState(snapshot: EngineSnapshot): void {
    const previous = this.currentBook;
    this.currentBook = this.compile(snapshot.book.limits, snapshot.book.version, undefined);
    this.trackOrdersFor(this.currentBook);
    this.releaseScratch();
    this.ledger.restore(snapshot.ledger);
    for (const limit of this.currentBook.values()) {
      limit.windows.clear();
      const entries = Object.hasOwn(snapshot.windows, limit.id) ? snapshot.windows[limit.id]! : [];
      for (const [key, times] of entries) limit.windows.restore(key, times);
    }
    this.violations.restore(snapshot.violations);
    // Limits the snapshot's book lacks keep no active-violation table (the restore emptied them: nothing resolves).
    for (const limit of previous.values()) if (!this.currentBook.byId.has(limit.id)) this.violations.forgetLimit(limit.id, this.clock.now());
    this.tradingStates.clear();
    for (const entry of snapshot.tradingStates) this.tradingStates.restore(entry);
    this.expiredOrders = snapshot.expiredOrders;
    this.openBatches.clear();
    for (const { batch, orders } of snapshot.openBatches ?? []) this.openBatches.set(batch, orders.map((taken) => this.keptFrom(taken)));
    this.batches = snapshot.batches ?? 0;
    this.replacingPositions = snapshot.replacingPositions === true;
    // The groups it was going over are gone; the request flattening them stops on the journal's failure.
    this.flattening = undefined;
  }

  /** A snapshot's reservation, its windows tied to the stores of the restored book that they name. */
  private keptFrom({ order, acceptedAt, windows }: BatchReservation): KeptReservation {
    const kept: KeptWindow[] = [];
    for (const counted of windows) {
      const limit = this.currentBook.byId.get(counted.limitId);
      if (limit !== undefined && countsInSameStore(limit, counted)) kept.push({ ...counted, store: limit.windows });
    }
    return { order, acceptedAt, windows: kept };
  }

  private replayAccepted(order: Order, price: number, at: number, batch: string | undefined): void {
    const applicable = this.applicable;
    const count = this.currentBook.collectApplicable(order, applicable);
    // Only an atomic batch's reservation keeps its windows (as reserve does): the replica replays every accepted order.
    const windows: KeptWindow[] | undefined = batch === undefined ? undefined : [];
    for (let i = 0; i < count; i++) {
      const limit = applicable[i]!;
      if (limit.kind !== 'order_rate' && limit.kind !== 'duplicate_order') continue;
      enterWindow(limit, limit.windows.find(order), order, at, windows);
    }
    const open = this.ledger.reserve(order.orderId, order.accountId, order.strategyId, order.symbol, order.side, order.quantity, price, order.orderType === 'MARKET', at);
    if (batch === undefined) return;
    open.batch = batch;
    this.keepForBatch(batch, { order, acceptedAt: at, windows: windows! });
    this.batches = Math.max(this.batches, Number(batch.slice(1)) || 0);
  }
}

/**
 * An accepted order's entry in one of its windows, live (reserve) and replayed alike: the ring
 * it was found in, trimmed to its length first (a journalled trim, at the order's time: see
 * TimeRing.trim; without it a busy key's ring on a replica grew to maxWindowEntries, every
 * doubling a copy), or a new ring. An atomic batch's reservation keeps the window in `kept`.
 */
function enterWindow(owner: WindowOwner, found: WindowRing | undefined, order: Order, at: number, kept: KeptWindow[] | undefined): void {
  found?.trim(at - owner.windowMs);
  (found ?? owner.windows.create(order)).push(at);
  kept?.push({ limitId: owner.id, isNew: found === undefined, store: owner.windows });
}

/** A kept reservation as a snapshot holds it: the windows named, not the stores. */
function reservationSnapshot({ order, acceptedAt, windows }: KeptReservation): BatchReservation {
  return { order, acceptedAt, windows: windows.map(({ limitId, isNew }) => ({ limitId, isNew })) };
}

function tradingStateEvent(entry: TradingStateEntry): StateEvent {
  return { type: 'trading_state', at: entry.setAt, scope: entry.scope, state: entry.state, reason: entry.reason, source: entry.source };
}

function reasonsOf(isBlocked: boolean, lacksPrice: boolean, lacksCapacity: boolean): readonly ReasonCode[] {
  if (!isBlocked && !lacksPrice && !lacksCapacity) return NO_REASONS;
  const reasons: ReasonCode[] = [];
  if (isBlocked) reasons.push('LIMIT_BREACH');
  if (lacksPrice) reasons.push('NO_REFERENCE_PRICE');
  if (lacksCapacity) reasons.push('CAPACITY_EXCEEDED');
  return reasons;
}

function firstFinite(a: number, b: number, fallback: number): number {
  if (a === a) return a;
  if (b === b) return b;
  return fallback;
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

export type { LimitDefinition };
