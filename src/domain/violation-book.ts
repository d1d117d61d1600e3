import type { Page } from './key-page.js';
import { SEVERITY_RANK } from './enums.js';
import type { Action, LimitKind, Severity } from './enums.js';
import { LinkedQueue } from './linked-queue.js';
import { Ring } from './ring.js';
import { ShardedMap } from './sharded-map.js';

/** One breach, as it happened: immutable, kept in the bounded history. */
export interface ViolationEvent {
  readonly seq: number;
  readonly violationId: string;
  readonly at: number;
  readonly limitId: string;
  readonly kind: LimitKind;
  readonly severity: Severity;
  readonly action: Action;
  readonly value: number;
  readonly threshold: number;
  readonly key: string;
  readonly orderId: string | undefined;
  readonly message: string;
}

/** The live state of a breach of one limit on one key, updated in place on repeats. */
export interface ActiveViolation {
  readonly violationId: string;
  readonly limitId: string;
  readonly kind: LimitKind;
  readonly key: string;
  severity: Severity;
  action: Action;
  value: number;
  maxValue: number;
  threshold: number;
  count: number;
  readonly firstAt: number;
  lastAt: number;
  message: string;
}

export type ViolationNotice =
  | { readonly type: 'violation'; readonly event: ViolationEvent }
  | { readonly type: 'resolved'; readonly violation: ActiveViolation; readonly at: number };

export type ViolationListener = (notice: ViolationNotice) => void;

export interface BreachInput {
  limitId: string;
  kind: LimitKind;
  key: string;
  severity: Severity;
  action: Action;
  value: number;
  threshold: number;
  orderId: string | undefined;
  message: string;
}

export interface ViolationBookOptions {
  historyCapacity: number;
  retentionMs: number;
  maxActive: number;
  maxSubscribers: number;
}

/** What both the history and the active violations are filtered by. */
export interface ViolationFilter {
  limitId?: string | undefined;
  /** At least this severity. */
  severity?: Severity | undefined;
  /** Epoch milliseconds, inclusive: of the event in the history, of the latest breach (`lastAt`) of an active violation. */
  since?: number | undefined;
  until?: number | undefined;
}

export interface HistoryQuery extends ViolationFilter {
  /** Only events older than this sequence number (the previous page's `nextCursor`). */
  cursor?: number | undefined;
  pageSize: number;
}

export interface ActiveQuery extends ViolationFilter {
  /** Only violations last updated before this sequence number (the previous page's `nextCursor`). */
  cursor?: number | undefined;
  pageSize: number;
}

/** Violation pages are cursored by sequence number (Page's default cursor). */
export type { Page };

export class SubscriberLimitError extends Error {}

/**
 * Resolutions made at once when a limit's violations end together (it left the book, was
 * disabled, or changed its key); the rest follow a slice at a time (drainEnded), so deleting a
 * limit that holds a hundred thousand does not hold the event loop for a quarter of a second.
 */
export const END_AT_ONCE = 1_024;

/** Violations whose limit ended them, resolved as drainEnded reaches them, all at the time they ended. */
interface EndedTable {
  readonly violations: Iterator<ActiveViolation>;
  readonly at: number;
  /** Not yet reached by drainEnded: the table (and the map it walks) leaves the queue with its last. */
  left: number;
}

export interface ViolationBookSnapshot {
  nextSeq: number;
  nextViolation: number;
  evictedActive: number;
  /** Least recently updated first. */
  active: ActiveViolation[];
  /** Oldest first. */
  history: ViolationEvent[];
}

/**
 * Active violations indexed by (limitId, key) and a bounded, retention-pruned history with a
 * per-limit index, so that neither lookups nor filtered queries scan everything.
 */
export class ViolationBook {
  /** Per limit, by key: sharded, as a per-account limit can hold a violation per account (see ShardedMap). */
  private readonly activeByLimit = new Map<string, ShardedMap<string, ActiveViolation>>();
  /** Every active violation, ordered by its latest breach, for eviction at capacity and for paging. */
  private readonly recency = new RecencyList();
  private readonly history: Ring<ViolationEvent>;
  private readonly historyByLimit = new Map<string, Ring<ViolationEvent>>();
  /** The latest `at` appended to the history: the wall clock's high-water mark as the history saw it. */
  private historyLatest = Number.NEGATIVE_INFINITY;
  /**
   * Events appended while the wall clock stood behind `historyLatest` (it stepped back: an NTP
   * correction), with `historyLatest` then. Empty while the clock only moves forward.
   */
  private readonly appendedBehind = new Map<ViolationEvent, number>();
  private readonly listeners = new Set<ViolationListener>();
  /**
   * Tables taken whole from limits that ended their violations, oldest first. Their violations
   * are out of the per-limit tables already (no check finds them, reads and snapshots skip them)
   * and leave the recency list, with a notice to subscribers, as drainEnded reaches them.
   */
  private readonly ended: EndedTable[] = [];
  /** Ended violations still in the recency list. */
  private endedInRecency = 0;
  private nextSeq = 1;
  private nextViolation = 1;
  evictedActive = 0;

  constructor(private readonly options: ViolationBookOptions) {
    this.history = new Ring(options.historyCapacity);
  }

  get activeCount(): number {
    return this.recency.size - this.endedInRecency;
  }

  /** Violations ended with their limit and not yet resolved to subscribers (drainEnded). */
  get endingCount(): number {
    return this.endedInRecency;
  }

  get historySize(): number {
    return this.history.length;
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  /** The active map of one limit; the same instance for the limit's whole life, so compiled limits hold it. */
  activeFor(limitId: string): ShardedMap<string, ActiveViolation> {
    let map = this.activeByLimit.get(limitId);
    if (map === undefined) {
      map = new ShardedMap();
      this.activeByLimit.set(limitId, map);
    }
    return map;
  }

  record(input: BreachInput, at: number): ViolationEvent {
    const byKey = this.activeFor(input.limitId);
    let active = byKey.get(input.key);
    if (active === undefined) {
      if (this.recency.size >= this.options.maxActive) this.makeRoom(at);
      active = {
        violationId: `v-${this.nextViolation++}`,
        limitId: input.limitId,
        kind: input.kind,
        key: input.key,
        severity: input.severity,
        action: input.action,
        value: input.value,
        maxValue: input.value,
        threshold: input.threshold,
        count: 0,
        firstAt: at,
        lastAt: at,
        message: input.message,
      };
      byKey.set(input.key, active);
    }
    const seq = this.nextSeq++;
    this.recency.touch(active, seq, at);
    active.severity = input.severity;
    active.action = input.action;
    active.value = input.value;
    if (input.value > active.maxValue) active.maxValue = input.value;
    active.threshold = input.threshold;
    active.count++;
    active.lastAt = at;
    active.message = input.message;
    const event: ViolationEvent = {
      seq,
      violationId: active.violationId,
      at,
      limitId: input.limitId,
      kind: input.kind,
      severity: input.severity,
      action: input.action,
      value: input.value,
      threshold: input.threshold,
      key: input.key,
      orderId: input.orderId,
      message: input.message,
    };
    this.append(event);
    this.notify({ type: 'violation', event });
    return event;
  }

  resolve(limitId: string, key: string, at: number): boolean {
    const byKey = this.activeByLimit.get(limitId);
    const active = byKey?.get(key);
    if (byKey === undefined || active === undefined) return false;
    byKey.delete(key);
    this.recency.delete(active);
    this.notify({ type: 'resolved', violation: active, at });
    return true;
  }

  /**
   * A limit left the book (or can no longer resolve its keys): its active violations end with
   * it, all at `at`; its history stays. The table is emptied at once; its first END_AT_ONCE
   * violations are resolved now and the rest by drainEnded, in the same order.
   */
  resolveAllOf(limitId: string, at: number): void {
    const byKey = this.activeByLimit.get(limitId);
    if (byKey === undefined || byKey.size === 0) return;
    const taken = byKey.takeAll();
    this.ended.push({ violations: taken.values(), at, left: taken.size });
    this.endedInRecency += taken.size;
    this.drainEnded(END_AT_ONCE);
  }

  /**
   * Resolves up to `budget` ended violations (see resolveAllOf), telling subscribers; returns
   * whether any are left for another call. Every ended violation stays in the recency list
   * until this reaches it (makeRoom drains them before it evicts), so `endedInRecency` is what
   * the queued tables have left.
   */
  drainEnded(budget: number): boolean {
    for (; budget > 0 && this.endedInRecency > 0; budget--) {
      const table = this.ended[0]!;
      const violation = table.violations.next().value as ActiveViolation;
      if (--table.left === 0) this.ended.shift();
      this.recency.delete(violation);
      this.endedInRecency--;
      this.notify({ type: 'resolved', violation, at: table.at });
    }
    return this.endedInRecency > 0;
  }

  /** Oldest first, without those ended with their limit. */
  private liveOldestFirst(): ActiveViolation[] {
    const all = this.recency.oldestFirst();
    return this.endedInRecency === 0 ? all : all.filter((violation) => this.isLive(violation));
  }

  /** Whether a violation in the recency list is still in its limit's table (not ended with the limit). */
  private isLive(violation: ActiveViolation): boolean {
    return this.endedInRecency === 0 || this.activeByLimit.get(violation.limitId)?.get(violation.key) === violation;
  }

  /**
   * A limit left the book for good: its active violations are resolved and its table dropped,
   * so a book that keeps changing ids does not leave a table per id behind. (A limit that stays
   * keeps its table: its compiled form holds it.)
   */
  forgetLimit(limitId: string, at: number): void {
    this.resolveAllOf(limitId, at);
    this.activeByLimit.delete(limitId);
  }

  /** Limits with an active-violation table: at most the book's limits. */
  get limitTables(): number {
    return this.activeByLimit.size;
  }

  /** All of them, most recently updated first (a whole-table read: for tests and tools, not for requests). */
  active(query: { limitId?: string | undefined; severity?: Severity | undefined }): ActiveViolation[] {
    return this.activePage({ ...query, pageSize: Number.POSITIVE_INFINITY }).items;
  }

  /**
   * Most recently updated first, `pageSize` at a time; `nextCursor` is absent on the last page.
   * A page walks the recency list from where the cursor left off: no copy, no sort. One that
   * changes after its page was read moves to the front, so later pages neither repeat nor skip
   * the others. Filters skip what they do not match, as the history's filters do; `since` and
   * `until` bound the latest breach (`lastAt`). The list is in breach order, which is time order
   * only while the wall clock never steps back, so the walk stops at a violation older than
   * `since` only when no older one breached later (see RecencyNode.latestUpTo).
   */
  activePage(query: ActiveQuery): Page<ActiveViolation> {
    const minRank = query.severity === undefined ? 0 : SEVERITY_RANK[query.severity];
    const items: ActiveViolation[] = [];
    let last: RecencyNode | undefined;
    for (let node = query.cursor === undefined ? this.recency.newest : this.recency.below(query.cursor); node !== undefined; node = node.older) {
      const violation = node.violation;
      if (query.since !== undefined && violation.lastAt < query.since) {
        if (node.latestUpTo < query.since) break;
        continue;
      }
      if (query.until !== undefined && violation.lastAt > query.until) continue;
      if (query.limitId !== undefined && violation.limitId !== query.limitId) continue;
      if (SEVERITY_RANK[violation.severity] < minRank) continue;
      if (!this.isLive(violation)) continue;
      if (items.length === query.pageSize) return { items, nextCursor: this.recency.cursorAfter(last!) };
      items.push(violation);
      last = node;
    }
    return { items, nextCursor: undefined };
  }

  /**
   * Newest first, `pageSize` at a time; `nextCursor` is absent on the last page. The walk stops
   * at an event older than `since` only when no older event is newer (see latestUpTo).
   */
  query(query: HistoryQuery, now: number): Page<ViolationEvent> {
    // Reads never change state (deleting is the sweeper's, so the journal sees it): events past
    // the retention are only hidden here.
    const retained = now - this.options.retentionMs;
    const since = query.since === undefined ? retained : Math.max(query.since, retained);
    const ring = query.limitId === undefined ? this.history : this.historyByLimit.get(query.limitId);
    const items: ViolationEvent[] = [];
    if (ring === undefined) return { items, nextCursor: undefined };
    const minRank = query.severity === undefined ? 0 : SEVERITY_RANK[query.severity];
    let index = query.cursor === undefined ? ring.length - 1 : lastIndexBelow(ring, query.cursor);
    for (; index >= 0; index--) {
      const event = ring.at(index);
      if (event.at < since) {
        if (this.latestUpTo(event) < since) break;
        continue;
      }
      if (query.until !== undefined && event.at > query.until) continue;
      if (SEVERITY_RANK[event.severity] < minRank) continue;
      if (items.length === query.pageSize) return { items, nextCursor: items[items.length - 1]!.seq };
      items.push(event);
    }
    return { items, nextCursor: undefined };
  }

  /** Drops history older than the retention. */
  prune(now: number): void {
    const cutoff = now - this.options.retentionMs;
    for (let oldest = this.history.peekOldest(); oldest !== undefined && oldest.at < cutoff; oldest = this.history.peekOldest()) {
      this.history.shift();
      this.forget(oldest);
    }
  }

  subscribe(listener: ViolationListener): () => void {
    if (this.listeners.size >= this.options.maxSubscribers) {
      throw new SubscriberLimitError(`violation subscribers at capacity (${this.options.maxSubscribers})`);
    }
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  clear(): void {
    this.activeByLimit.forEach((map) => map.clear());
    this.recency.clear();
    this.ended.length = 0;
    this.endedInRecency = 0;
    this.history.clear();
    this.historyByLimit.clear();
    this.historyLatest = Number.NEGATIVE_INFINITY;
    this.appendedBehind.clear();
  }

  capture(): ViolationBookSnapshot {
    const history: ViolationEvent[] = [];
    for (let i = 0; i < this.history.length; i++) history.push(this.history.at(i));
    return {
      nextSeq: this.nextSeq,
      nextViolation: this.nextViolation,
      evictedActive: this.evictedActive,
      active: this.liveOldestFirst().map((v) => ({ ...v })),
      history,
    };
  }

  /** Replaces all state; the per-limit active maps keep their identity (compiled limits hold them). */
  restore(snapshot: ViolationBookSnapshot): void {
    this.clear();
    this.nextSeq = snapshot.nextSeq;
    this.nextViolation = snapshot.nextViolation;
    this.evictedActive = snapshot.evictedActive;
    // Snapshots keep the order, not the breach seqs: below nextSeq, in the same order, does.
    let seq = snapshot.nextSeq - snapshot.active.length;
    for (const violation of snapshot.active) {
      const active = { ...violation };
      this.activeFor(active.limitId).set(active.key, active);
      this.recency.touch(active, seq++, active.lastAt);
    }
    for (const event of snapshot.history) this.append(event);
  }

  /** What subscribers were told so far: the numbering and the active violations (see takeOver). */
  handOver(): { seq: number; violation: number; active: ActiveViolation[] } {
    // Ended violations not yet told resolved are, to subscribers, still active.
    return { seq: this.nextSeq, violation: this.nextViolation, active: this.recency.oldestFirst() };
  }

  /**
   * After the book went back to an earlier state in the running service (a journal recovery
   * with fsync durability): later breaches are numbered past everything subscribers were told;
   * they are told that violations active before and gone now ended, then that violations the
   * rollback brought back or changed (a lost resolution or repeat) stand as the book now holds them.
   */
  takeOver(before: { seq: number; violation: number; active: readonly ActiveViolation[] }, at: number): void {
    this.nextSeq = Math.max(this.nextSeq, before.seq);
    this.nextViolation = Math.max(this.nextViolation, before.violation);
    for (const violation of before.active) {
      // A plain lookup: activeFor would leave a table behind for a limit the rewound book lacks.
      if (this.activeByLimit.get(violation.limitId)?.get(violation.key)?.violationId !== violation.violationId) this.notify({ type: 'resolved', violation, at });
    }
    this.announceChangedSince(before.active);
  }

  /**
   * Tells subscribers of each active violation they last heard of otherwise (its resolution or a
   * repeat breach was rolled back), as a violation event of the breach in force. Its seq is a new
   * one, so seqs on the stream keep growing; it joins no history, which holds that breach
   * already. Counts only grow, so a violation whose count is what subscribers saw is unchanged.
   */
  private announceChangedSince(told: readonly ActiveViolation[]): void {
    const countById = new Map(told.map((violation) => [violation.violationId, violation.count]));
    for (const violation of this.liveOldestFirst()) {
      if (countById.get(violation.violationId) === violation.count) continue;
      this.notify({ type: 'violation', event: this.standingEvent(violation) });
    }
  }

  /** The breach an active violation stands at (the order that made it is not kept with it). */
  private standingEvent(violation: ActiveViolation): ViolationEvent {
    const { violationId, lastAt, limitId, kind, severity, action, value, threshold, key, message } = violation;
    return { seq: this.nextSeq++, violationId, at: lastAt, limitId, kind, severity, action, value, threshold, key, orderId: undefined, message };
  }

  private append(event: ViolationEvent): void {
    const dropped = this.history.push(event);
    if (dropped !== undefined) this.forget(dropped);
    if (event.at < this.historyLatest) this.appendedBehind.set(event, this.historyLatest);
    else this.historyLatest = event.at;
    let byLimit = this.historyByLimit.get(event.limitId);
    if (byLimit === undefined) {
      byLimit = new Ring(this.options.historyCapacity);
      this.historyByLimit.set(event.limitId, byLimit);
    }
    byLimit.push(event);
  }

  /**
   * The latest `at` of `event` and every event appended before it: a newest-first walk past
   * `event` finds nothing at or after a time later than this. It is `event.at` unless the wall
   * clock had stepped back behind an earlier event.
   */
  private latestUpTo(event: ViolationEvent): number {
    return this.appendedBehind.get(event) ?? event.at;
  }

  /** An event left the history: its per-limit index and the clock-step table let it go too. */
  private forget(event: ViolationEvent): void {
    this.appendedBehind.delete(event);
    const byLimit = this.historyByLimit.get(event.limitId);
    if (byLimit === undefined) return;
    if (byLimit.peekOldest() === event) byLimit.shift();
    if (byLimit.length === 0) this.historyByLimit.delete(event.limitId);
  }

  /** The table is full: violations ended with their limit leave first (they are going anyway), then evictOldest. */
  private makeRoom(at: number): void {
    while (this.recency.size >= this.options.maxActive && this.endedInRecency > 0) this.drainEnded(1);
    if (this.recency.size >= this.options.maxActive) this.evictOldest(at);
  }

  /**
   * The table is full (capacity.maxActiveViolations): the least recently updated violation
   * leaves it. Subscribers are told it as resolved, since it has left the active set they
   * mirror (else a stream client kept it for good); `evictedActive` counts these.
   */
  private evictOldest(at: number): void {
    const oldest = this.recency.oldest?.violation;
    if (oldest === undefined) return;
    this.activeByLimit.get(oldest.limitId)?.delete(oldest.key);
    this.recency.delete(oldest);
    this.evictedActive++;
    this.notify({ type: 'resolved', violation: oldest, at });
  }

  private notify(notice: ViolationNotice): void {
    for (const listener of this.listeners) {
      try {
        listener(notice);
      } catch {
        // A failing subscriber must never fail a check; it only loses this notice.
      }
    }
  }
}

/** Index of the newest event with seq < cursor, by binary search (events are in seq order). */
function lastIndexBelow(ring: Ring<ViolationEvent>, cursor: number): number {
  let lo = 0;
  let hi = ring.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ring.at(mid).seq < cursor) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** A violation's place in the recency list: the seq of its latest breach. */
interface RecencyNode {
  readonly violation: ActiveViolation;
  seq: number;
  /**
   * The latest `lastAt` of this violation and every one older in the list when it was last
   * touched: none older breached later, whatever the wall clock did (deleting one older keeps
   * this true). Equal to `lastAt` while the clock only moves forward.
   */
  latestUpTo: number;
  older: RecencyNode | undefined;
  newer: RecencyNode | undefined;
  /** Where the cursors whose next page starts here point; almost always none. */
  anchor: Anchor | undefined;
}

/**
 * A start shared by cursors: `node`, or, once merged into an older anchor, wherever that one
 * is (`parent`). Moving every cursor at a node down is then one assignment, however many there are.
 */
interface Anchor {
  node: RecencyNode | undefined;
  parent: Anchor | undefined;
}

/** Cursors remembered for O(page) paging; an older one still works, by a walk from the newest. */
const MAX_CURSORS = 1_024;

/**
 * Active violations in the order of their latest breach (its seq), oldest first, as a doubly
 * linked list: touching (a repeat breach moves one to the front), deleting and evicting the
 * oldest are O(1) on the check path. Seqs only grow, so nothing is ever inserted below a
 * cursor: a cursor's start moves down to the next older violation when the one it names leaves,
 * and stays right without being searched for.
 */
class RecencyList {
  /** By violation id: as many as there are active violations, churning as they resolve (see ShardedMap). */
  private readonly nodes = new ShardedMap<string, RecencyNode>();
  /** By cursor (the seq a page ended on): where the next page starts. */
  private readonly marks = new Map<number, Anchor>();
  private readonly order = new LinkedQueue<RecencyNode>();

  get oldest(): RecencyNode | undefined {
    return this.order.oldest;
  }

  get newest(): RecencyNode | undefined {
    return this.order.newest;
  }

  get size(): number {
    return this.nodes.size;
  }

  /** Puts `violation` at the front with `seq`, larger than every seq in the list, breached `at`. */
  touch(violation: ActiveViolation, seq: number, at: number): void {
    let node = this.nodes.get(violation.violationId);
    if (node === undefined) {
      node = { violation, seq, latestUpTo: at, older: undefined, newer: undefined, anchor: undefined };
      this.nodes.set(violation.violationId, node);
    } else {
      this.unlink(node);
      node.seq = seq;
    }
    const newest = this.order.newest;
    node.latestUpTo = newest === undefined ? at : Math.max(at, newest.latestUpTo);
    this.order.append(node);
  }

  delete(violation: ActiveViolation): void {
    const node = this.nodes.get(violation.violationId);
    if (node === undefined || node.violation !== violation) return;
    this.nodes.delete(violation.violationId);
    this.unlink(node);
  }

  clear(): void {
    this.nodes.clear();
    this.marks.clear();
    this.order.clear();
  }

  oldestFirst(): ActiveViolation[] {
    const violations: ActiveViolation[] = [];
    for (let node = this.oldest; node !== undefined; node = node.newer) violations.push(node.violation);
    return violations;
  }

  /** The newest violation last breached before `cursor`. */
  below(cursor: number): RecencyNode | undefined {
    const mark = this.marks.get(cursor);
    if (mark !== undefined) return rootOf(mark).node;
    let node = this.newest;
    while (node !== undefined && node.seq >= cursor) node = node.older;
    return node;
  }

  /** The cursor of a page that ended at `last`, remembered so that the next page starts in O(1). */
  cursorAfter(last: RecencyNode): number {
    if (!this.marks.has(last.seq)) {
      // Forgetting the oldest leaves its anchor to the node: at most one per violation.
      if (this.marks.size === MAX_CURSORS) this.marks.delete(this.marks.keys().next().value!);
      const start = last.older;
      this.marks.set(last.seq, start === undefined ? { node: undefined, parent: undefined } : (start.anchor ??= { node: start, parent: undefined }));
    }
    return last.seq;
  }

  private unlink(node: RecencyNode): void {
    if (node.anchor !== undefined) moveDown(node);
    this.order.unlink(node);
  }
}

/** A leaving node's anchor moves to the next older node, or joins the anchor already there. */
function moveDown(node: RecencyNode): void {
  const anchor = node.anchor!;
  node.anchor = undefined;
  const older = node.older;
  if (older === undefined || older.anchor === undefined) {
    anchor.node = older;
    if (older !== undefined) older.anchor = anchor;
  } else {
    anchor.node = undefined;
    anchor.parent = older.anchor;
  }
}

/** The anchor that holds the start, shortening the path for the next lookup. */
function rootOf(anchor: Anchor): Anchor {
  let root = anchor;
  while (root.parent !== undefined) root = root.parent;
  for (let a = anchor; a.parent !== undefined; ) {
    const next: Anchor = a.parent;
    a.parent = root;
    a = next;
  }
  return root;
}
