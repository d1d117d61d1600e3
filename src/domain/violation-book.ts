import { SEVERITY_RANK } from './enums.js';
import type { Action, LimitKind, Severity } from './enums.js';
import { Ring } from './ring.js';

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

export interface HistoryQuery {
  limitId?: string | undefined;
  /** At least this severity. */
  severity?: Severity | undefined;
  since?: number | undefined;
  until?: number | undefined;
  /** Only events older than this sequence number (the previous page's `nextCursor`). */
  cursor?: number | undefined;
  pageSize: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: number | undefined;
}

export class SubscriberLimitError extends Error {}

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
  private readonly activeByLimit = new Map<string, Map<string, ActiveViolation>>();
  /** Every active violation, least recently updated first, for eviction at capacity. */
  private readonly recency = new Set<ActiveViolation>();
  private readonly history: Ring<ViolationEvent>;
  private readonly historyByLimit = new Map<string, Ring<ViolationEvent>>();
  private readonly listeners = new Set<ViolationListener>();
  private nextSeq = 1;
  private nextViolation = 1;
  evictedActive = 0;

  constructor(private readonly options: ViolationBookOptions) {
    this.history = new Ring(options.historyCapacity);
  }

  get activeCount(): number {
    return this.recency.size;
  }

  get historySize(): number {
    return this.history.length;
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  /** The active map of one limit; the same instance for the limit's whole life, so compiled limits hold it. */
  activeFor(limitId: string): Map<string, ActiveViolation> {
    let map = this.activeByLimit.get(limitId);
    if (map === undefined) {
      map = new Map();
      this.activeByLimit.set(limitId, map);
    }
    return map;
  }

  record(input: BreachInput, at: number): ViolationEvent {
    const byKey = this.activeFor(input.limitId);
    let active = byKey.get(input.key);
    if (active === undefined) {
      if (this.recency.size >= this.options.maxActive) this.evictOldest();
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
    } else {
      this.recency.delete(active);
    }
    this.recency.add(active);
    active.severity = input.severity;
    active.action = input.action;
    active.value = input.value;
    if (input.value > active.maxValue) active.maxValue = input.value;
    active.threshold = input.threshold;
    active.count++;
    active.lastAt = at;
    active.message = input.message;
    const event: ViolationEvent = {
      seq: this.nextSeq++,
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

  /** A limit left the book: its active violations go with it; its history stays. */
  resolveAllOf(limitId: string, at: number): void {
    const byKey = this.activeByLimit.get(limitId);
    if (byKey === undefined) return;
    for (const key of [...byKey.keys()]) this.resolve(limitId, key, at);
  }

  active(query: { limitId?: string | undefined; severity?: Severity | undefined }): ActiveViolation[] {
    const minRank = query.severity === undefined ? 0 : SEVERITY_RANK[query.severity];
    const source = query.limitId === undefined ? [...this.recency] : [...(this.activeByLimit.get(query.limitId)?.values() ?? [])];
    return source.filter((v) => SEVERITY_RANK[v.severity] >= minRank).sort((a, b) => b.lastAt - a.lastAt);
  }

  /** Newest first, `pageSize` at a time; `nextCursor` is absent on the last page. */
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
      if (event.at < since) break;
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
      this.forgetFromIndex(oldest);
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
    this.history.clear();
    this.historyByLimit.clear();
  }

  capture(): ViolationBookSnapshot {
    const history: ViolationEvent[] = [];
    for (let i = 0; i < this.history.length; i++) history.push(this.history.at(i));
    return {
      nextSeq: this.nextSeq,
      nextViolation: this.nextViolation,
      evictedActive: this.evictedActive,
      active: [...this.recency].map((v) => ({ ...v })),
      history,
    };
  }

  /** Replaces all state; the per-limit active maps keep their identity (compiled limits hold them). */
  restore(snapshot: ViolationBookSnapshot): void {
    this.clear();
    this.nextSeq = snapshot.nextSeq;
    this.nextViolation = snapshot.nextViolation;
    this.evictedActive = snapshot.evictedActive;
    for (const violation of snapshot.active) {
      const active = { ...violation };
      this.activeFor(active.limitId).set(active.key, active);
      this.recency.add(active);
    }
    for (const event of snapshot.history) this.append(event);
  }

  private append(event: ViolationEvent): void {
    const dropped = this.history.push(event);
    if (dropped !== undefined) this.forgetFromIndex(dropped);
    let byLimit = this.historyByLimit.get(event.limitId);
    if (byLimit === undefined) {
      byLimit = new Ring(this.options.historyCapacity);
      this.historyByLimit.set(event.limitId, byLimit);
    }
    byLimit.push(event);
  }

  private forgetFromIndex(event: ViolationEvent): void {
    const byLimit = this.historyByLimit.get(event.limitId);
    if (byLimit === undefined) return;
    if (byLimit.peekOldest() === event) byLimit.shift();
    if (byLimit.length === 0) this.historyByLimit.delete(event.limitId);
  }

  private evictOldest(): void {
    const oldest = this.recency.values().next();
    if (oldest.done === true) return;
    this.activeByLimit.get(oldest.value.limitId)?.delete(oldest.value.key);
    this.recency.delete(oldest.value);
    this.evictedActive++;
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
