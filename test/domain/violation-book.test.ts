import { describe, expect, it } from 'vitest';
import type { Severity } from '../../src/domain/enums.js';
import { ViolationBook } from '../../src/domain/violation-book.js';
import type { ViolationNotice } from '../../src/domain/violation-book.js';
import { KEYS_PER_SHARD } from '../../src/domain/sharded-map.js';
import { makeEngine, order, testConfig } from '../support/engine-fixtures.js';

const qty = { id: 'qty', kind: 'order_quantity', thresholds: { warn: 50, hard: 100 } };

function newBook(overrides: Partial<ConstructorParameters<typeof ViolationBook>[0]> = {}) {
  return new ViolationBook({ historyCapacity: 100, retentionMs: 1_000, maxActive: 100, maxSubscribers: 4, ...overrides });
}

function breach(book: ViolationBook, at: number, fields: { limitId?: string; key?: string; severity?: Severity; value?: number } = {}) {
  return book.record(
    {
      limitId: fields.limitId ?? 'L1',
      kind: 'value',
      key: fields.key ?? 'global',
      severity: fields.severity ?? 'HARD_BREACH',
      action: 'BLOCK',
      value: fields.value ?? 1,
      threshold: 0,
      orderId: undefined,
      message: 'm',
    },
    at,
  );
}

describe('violation book: active violations', () => {
  it('keeps one active violation per limit and key across repeated breaches', () => {
    const { engine } = makeEngine([qty]);
    const first = engine.checkOrder(order({ quantity: 101 }));
    const second = engine.checkOrder(order({ quantity: 150 }));
    expect(engine.violations.activeCount).toBe(1);
    expect(second.violations[0]?.violationId).toBe(first.violations[0]?.violationId);
  });

  it('updates the active violation in place with the latest value, the max value and the count', () => {
    const { engine, clock } = makeEngine([qty]);
    const start = clock.now();
    engine.checkOrder(order({ quantity: 150 }));
    clock.advance(1_000);
    engine.checkOrder(order({ quantity: 120 }));
    expect(engine.violations.active({ limitId: 'qty' })).toEqual([
      expect.objectContaining({ key: 'account:ACC-1', value: 120, maxValue: 150, count: 2, firstAt: start, lastAt: start + 1_000, severity: 'HARD_BREACH' }),
    ]);
  });

  it('lowers the severity of the active violation when a repeat breach is milder', () => {
    const { engine } = makeEngine([qty]);
    engine.checkOrder(order({ quantity: 150 }));
    engine.checkOrder(order({ quantity: 60 }));
    expect(engine.violations.active({ limitId: 'qty' })[0]).toMatchObject({ severity: 'WARNING', action: 'ALERT', threshold: 50 });
  });

  it('keeps separate active violations for different keys of one limit', () => {
    const { engine } = makeEngine([qty]);
    engine.checkOrder(order({ accountId: 'ACC-1', quantity: 101 }));
    engine.checkOrder(order({ accountId: 'ACC-2', quantity: 101 }));
    expect(engine.violations.active({ limitId: 'qty' }).map((v) => v.key).sort()).toEqual(['account:ACC-1', 'account:ACC-2']);
  });

  it('keeps separate active violations for different limits on one key', () => {
    const { engine } = makeEngine([qty, { id: 'qty2', kind: 'order_quantity', thresholds: { hard: 10 } }]);
    engine.checkOrder(order({ quantity: 101 }));
    expect(engine.violations.activeCount).toBe(2);
  });

  it('resolves the active violation when the limit next checks clean on that key', () => {
    const { engine } = makeEngine([qty]);
    engine.checkOrder(order({ quantity: 101 }));
    engine.checkOrder(order({ quantity: 50 }));
    expect(engine.violations.activeCount).toBe(0);
  });

  it('does not resolve on a clean check of another key', () => {
    const { engine } = makeEngine([qty]);
    engine.checkOrder(order({ accountId: 'ACC-1', quantity: 101 }));
    engine.checkOrder(order({ accountId: 'ACC-2', quantity: 1 }));
    expect(engine.violations.active({})).toEqual([expect.objectContaining({ key: 'account:ACC-1' })]);
  });

  it('starts a new active violation with a new id after a resolution', () => {
    const { engine } = makeEngine([qty]);
    const first = engine.checkOrder(order({ quantity: 101 }));
    engine.checkOrder(order({ quantity: 1 }));
    const again = engine.checkOrder(order({ quantity: 101 }));
    expect(again.violations[0]?.violationId).not.toBe(first.violations[0]?.violationId);
    expect(engine.violations.active({})[0]?.count).toBe(1);
  });

  it('resolves the active violations of a deleted limit and keeps its history', () => {
    const { engine, clock } = makeEngine([qty]);
    engine.checkOrder(order({ quantity: 101 }));
    engine.deleteLimit('qty');
    expect(engine.violations.activeCount).toBe(0);
    expect(engine.violations.query({ limitId: 'qty', pageSize: 10 }, clock.now()).items).toHaveLength(1);
  });

  it('resolves the active violations of a limit that is disabled', () => {
    const { engine } = makeEngine([qty]);
    engine.checkOrder(order({ quantity: 101 }));
    engine.upsertLimit({ ...qty, enabled: false });
    expect(engine.violations.activeCount).toBe(0);
  });

  it('lists active violations most recently updated first, filtered to at least a severity', () => {
    const book = newBook();
    breach(book, 1, { key: 'a', severity: 'WARNING' });
    breach(book, 2, { key: 'b', severity: 'CRITICAL' });
    breach(book, 3, { key: 'c', severity: 'HARD_BREACH' });
    expect(book.active({}).map((v) => v.key)).toEqual(['c', 'b', 'a']);
    expect(book.active({ severity: 'HARD_BREACH' }).map((v) => v.key)).toEqual(['c', 'b']);
  });
});

describe('violation book: more active violations than one map shard', () => {
  it('keeps, pages and resolves thousands of one limit’s violations, one per account', () => {
    const capacity = { ...testConfig().capacity, maxActiveViolations: 20_000, maxOpenOrders: 20_000, maxPositions: 20_000 };
    const { engine } = makeEngine([{ id: 'big-qty', kind: 'order_quantity', per: 'account', thresholds: { warn: 50, hard: 1_000 } }], { capacity });
    const accounts = 3 * KEYS_PER_SHARD;
    for (let i = 0; i < accounts; i++) expect(engine.checkOrder(order({ accountId: `ACC-${i}`, quantity: 100 })).decision).toBe('ACCEPT');
    const active = engine.book.byId.get('big-qty')!.active;
    expect([engine.violations.activeCount, active.size, active.shardCount > 1]).toEqual([accounts, accounts, true]);
    for (let i = 0; i < accounts; i += 2) engine.checkOrder(order({ accountId: `ACC-${i}`, quantity: 10 }));
    const left = engine.violations.activePage({ pageSize: Number.POSITIVE_INFINITY }).items.map((v) => v.key);
    expect(left.length).toBe(accounts / 2);
    expect(new Set(left)).toEqual(new Set(Array.from({ length: accounts / 2 }, (_, i) => `account:ACC-${2 * i + 1}`)));
    // A resolved key breaches again as a new violation, found and paged like the rest.
    engine.checkOrder(order({ accountId: 'ACC-0', quantity: 100 }));
    expect(engine.violations.activePage({ pageSize: 1 }).items.map((v) => v.key)).toEqual(['account:ACC-0']);
  });
});

describe('violation book: active pages', () => {
  const keysOf = (page: { items: { key: string }[] }) => page.items.map((v) => v.key);

  function bookOf(keys: string[]) {
    const book = newBook();
    keys.forEach((key, i) => breach(book, i + 1, { key }));
    return book;
  }

  it('pages most recently updated first until nextCursor is absent, as the whole list reads', () => {
    const book = bookOf(['a', 'b', 'c', 'd', 'e']);
    const first = book.activePage({ pageSize: 2 });
    const second = book.activePage({ pageSize: 2, cursor: first.nextCursor });
    const third = book.activePage({ pageSize: 2, cursor: second.nextCursor });
    expect([keysOf(first), keysOf(second), keysOf(third)]).toEqual([['e', 'd'], ['c', 'b'], ['a']]);
    expect(third.nextCursor).toBeUndefined();
    expect(book.active({}).map((v) => v.key)).toEqual(['e', 'd', 'c', 'b', 'a']);
  });

  it('bounds the latest breach (lastAt) by since and until, inclusive, on every page', () => {
    const book = bookOf(['a', 'b', 'c', 'd', 'e']); // breached at 1..5
    breach(book, 6, { key: 'b' }); // b: first at 2, last at 6
    expect(keysOf(book.activePage({ pageSize: 10, since: 4 }))).toEqual(['b', 'e', 'd']);
    expect(keysOf(book.activePage({ pageSize: 10, until: 4 }))).toEqual(['d', 'c', 'a']);
    expect(keysOf(book.activePage({ pageSize: 10, since: 3, until: 5 }))).toEqual(['e', 'd', 'c']);
    const first = book.activePage({ pageSize: 2, since: 3, until: 5 });
    expect(keysOf(first)).toEqual(['e', 'd']);
    expect(keysOf(book.activePage({ pageSize: 2, since: 3, until: 5, cursor: first.nextCursor }))).toEqual(['c']);
  });

  it('continues below the cursor when the violation it ended on, or the next one, changed since', () => {
    const book = bookOf(['a', 'b', 'c', 'd', 'e']);
    const first = book.activePage({ pageSize: 2 });
    breach(book, 10, { key: 'd' }); // the page's last one breaches again: it moves to the front
    book.resolve('L1', 'c', 11); // the next page's first one resolves
    expect(keysOf(book.activePage({ pageSize: 2, cursor: first.nextCursor }))).toEqual(['b', 'a']);
    expect(keysOf(book.activePage({ pageSize: 10 }))).toEqual(['d', 'e', 'b', 'a']);
  });

  it('leaves a violation that breached again after its page out of the later pages, and repeats none', () => {
    const book = bookOf(['a', 'b', 'c', 'd', 'e']);
    const first = book.activePage({ pageSize: 2 });
    breach(book, 10, { key: 'e' });
    breach(book, 11, { key: 'f' });
    const second = book.activePage({ pageSize: 2, cursor: first.nextCursor });
    expect(keysOf(second)).toEqual(['c', 'b']);
    expect(keysOf(book.activePage({ pageSize: 2, cursor: second.nextCursor }))).toEqual(['a']);
  });

  it('answers a cursor it did not hand out (another process, or long ago) from the newest older violation', () => {
    const book = newBook();
    const seqs = ['a', 'b', 'c', 'd'].map((key, i) => breach(book, i + 1, { key }).seq);
    expect(keysOf(book.activePage({ pageSize: 10, cursor: seqs[2] }))).toEqual(['b', 'a']);
    expect(keysOf(book.activePage({ pageSize: 10, cursor: seqs[3]! + 100 }))).toEqual(['d', 'c', 'b', 'a']);
    expect(keysOf(book.activePage({ pageSize: 10, cursor: 0 }))).toEqual([]);
  });

  it('remembers at most 1,024 cursors, and pages right from every one after older ones were forgotten and their violations moved', () => {
    const keys = Array.from({ length: 1_100 }, (_, i) => `k${i}`);
    const book = newBook({ maxActive: 2_000 });
    const latest = new Map<string, number>();
    const touch = (key: string, at: number) => latest.set(key, breach(book, at, { key }).seq);
    keys.forEach((key, i) => touch(key, i + 1));
    const cursors: number[] = [];
    for (let cursor: number | undefined, page = 0; page < 1_099; page++) {
      cursor = book.activePage({ pageSize: 1, cursor }).nextCursor;
      cursors.push(cursor!);
    }
    const marks = (book as unknown as { recency: { marks: Map<number, unknown> } }).recency.marks;
    expect(marks.size).toBe(1_024);
    // Every page start moves (its violation breaches again), remembered or not: each cursor still
    // answers what lies below it now, as a walk from the newest would.
    for (let i = 0; i < keys.length; i += 3) touch(keys[i]!, 2_000 + i);
    const walk = (cursor: number) => book.active({}).filter((v) => latest.get(v.key)! < cursor).slice(0, 2).map((v) => v.key);
    for (const cursor of cursors) expect(keysOf(book.activePage({ pageSize: 2, cursor })), `cursor ${cursor}`).toEqual(walk(cursor));
  });

  it('keeps paging right from a cursor whose mark moved onto another cursor’s, after that one was forgotten', () => {
    const book = newBook({ maxActive: 2_000 });
    const latest = new Map<string, number>();
    const touch = (key: string, at: number) => latest.set(key, breach(book, at, { key }).seq);
    const filler = Array.from({ length: 1_100 }, (_, i) => `z${i}`);
    [...filler, 'a', 'b', 'c', 'd', 'e'].forEach((key, i) => touch(key, i + 1));
    const first = book.activePage({ pageSize: 2 }).nextCursor!; // e, d: the next page starts at c
    touch('f', 2_000);
    const second = book.activePage({ pageSize: 1 }).nextCursor!; // f: the next page starts at e
    touch('e', 2_001); // the second cursor's start moves down to d ...
    touch('d', 2_002); // ... and onto c, beside the first cursor's
    // 1,022 more cursors fill the 1,024 (z0's page is the last, with none); one more forgets the oldest, the first.
    for (const key of filler.slice(0, 1_024)) book.activePage({ pageSize: 1, cursor: latest.get(key)! + 1 });
    expect((book as unknown as { recency: { marks: Map<number, unknown> } }).recency.marks.has(first)).toBe(false);
    touch('c', 2_003); // c leaves its place: the second cursor's next page now starts at b
    const below = (cursor: number) => book.active({}).filter((v) => latest.get(v.key)! < cursor).map((v) => v.key);
    expect(keysOf(book.activePage({ pageSize: 3, cursor: second }))).toEqual(below(second).slice(0, 3));
    expect(keysOf(book.activePage({ pageSize: 3, cursor: first }))).toEqual(below(first).slice(0, 3));
  });

  it('filters pages by limit and minimum severity, with the cursor counting only what matched', () => {
    const book = newBook();
    breach(book, 1, { limitId: 'L1', key: 'a', severity: 'CRITICAL' });
    breach(book, 2, { limitId: 'L2', key: 'b', severity: 'CRITICAL' });
    breach(book, 3, { limitId: 'L1', key: 'c', severity: 'WARNING' });
    breach(book, 4, { limitId: 'L1', key: 'd', severity: 'CRITICAL' });
    const first = book.activePage({ limitId: 'L1', severity: 'HARD_BREACH', pageSize: 1 });
    expect(keysOf(first)).toEqual(['d']);
    const second = book.activePage({ limitId: 'L1', severity: 'HARD_BREACH', pageSize: 1, cursor: first.nextCursor });
    expect(keysOf(second)).toEqual(['a']);
    expect(second.nextCursor).toBeUndefined();
  });

  it('keeps the order through a snapshot and a restore', () => {
    const book = bookOf(['a', 'b', 'c']);
    breach(book, 4, { key: 'a' });
    const restored = newBook();
    restored.restore(book.capture());
    expect(keysOf(restored.activePage({ pageSize: 10 }))).toEqual(['a', 'c', 'b']);
    breach(restored, 5, { key: 'b' });
    expect(keysOf(restored.activePage({ pageSize: 10 }))).toEqual(['b', 'a', 'c']);
  });

  it('bounds by since after the wall clock stepped back, and still after a snapshot and a restore', () => {
    const book = bookOf(['a', 'b']); // breached at 1 and 2
    breach(book, 20, { key: 'b' });
    breach(book, 5, { key: 'c' }); // the clock stepped back: the latest breach is not the latest time
    expect(keysOf(book.activePage({ pageSize: 10, since: 10 }))).toEqual(['b']);
    expect(book.query({ since: 10, pageSize: 10 }, 20).items.map((e) => e.at)).toEqual([20]);
    const restored = newBook();
    restored.restore(book.capture());
    expect(keysOf(restored.activePage({ pageSize: 10, since: 10 }))).toEqual(['b']);
    expect(restored.query({ since: 10, pageSize: 10 }, 20).items.map((e) => e.at)).toEqual([20]);
    restored.resolve('L1', 'b', 21);
    expect(keysOf(restored.activePage({ pageSize: 10, since: 3 }))).toEqual(['c']);
  });

  it('still evicts the least recently updated one at capacity', () => {
    const book = newBook({ maxActive: 2 });
    breach(book, 1, { key: 'a' });
    breach(book, 2, { key: 'b' });
    breach(book, 3, { key: 'a' });
    breach(book, 4, { key: 'c' });
    expect(keysOf(book.activePage({ pageSize: 10 }))).toEqual(['c', 'a']);
    expect(book.evictedActive).toBe(1);
  });

  it('tells subscribers a violation evicted at capacity as resolved, so what they mirror stays the active set', () => {
    const book = newBook({ maxActive: 2 });
    const told: string[] = [];
    book.subscribe((notice) => told.push(notice.type === 'resolved' ? `resolved ${notice.violation.key}` : `violation ${notice.event.key}`));
    breach(book, 1, { key: 'a' });
    breach(book, 2, { key: 'b' });
    breach(book, 3, { key: 'c' });
    expect(told).toEqual(['violation a', 'violation b', 'resolved a', 'violation c']);
  });
});

describe('violation book: history', () => {
  it('records the violations of a rejected order with its order id', () => {
    const { engine, clock } = makeEngine([qty]);
    const o = order({ quantity: 101 });
    engine.checkOrder(o);
    expect(engine.violations.query({ pageSize: 10 }, clock.now()).items).toEqual([
      expect.objectContaining({ limitId: 'qty', orderId: o.orderId, severity: 'HARD_BREACH', value: 101, key: 'account:ACC-1' }),
    ]);
  });

  it('returns events newest first with increasing sequence numbers', () => {
    const book = newBook();
    for (let at = 1; at <= 3; at++) breach(book, at);
    expect(book.query({ pageSize: 10 }, 3).items.map((e) => [e.seq, e.at])).toEqual([
      [3, 3],
      [2, 2],
      [1, 1],
    ]);
  });

  it('pages newest first, each page continuing below the previous cursor', () => {
    const book = newBook();
    for (let at = 1; at <= 5; at++) breach(book, at);
    const first = book.query({ pageSize: 2 }, 5);
    const second = book.query({ pageSize: 2, cursor: first.nextCursor }, 5);
    const third = book.query({ pageSize: 2, cursor: second.nextCursor }, 5);
    expect([first, second, third].map((p) => [p.items.map((e) => e.seq), p.nextCursor])).toEqual([
      [[5, 4], 4],
      [[3, 2], 2],
      [[1], undefined],
    ]);
  });

  it('gives no cursor when the last page is exactly full', () => {
    const book = newBook();
    for (let at = 1; at <= 4; at++) breach(book, at);
    const second = book.query({ pageSize: 2, cursor: 3 }, 4);
    expect([second.items.map((e) => e.seq), second.nextCursor]).toEqual([[2, 1], undefined]);
  });

  it('filters history by limit id', () => {
    const book = newBook();
    breach(book, 1, { limitId: 'A' });
    breach(book, 2, { limitId: 'B' });
    breach(book, 3, { limitId: 'A' });
    expect(book.query({ limitId: 'A', pageSize: 10 }, 3).items.map((e) => e.seq)).toEqual([3, 1]);
  });

  it('pages a limit-filtered query with a cursor', () => {
    const book = newBook();
    for (let at = 1; at <= 6; at++) breach(book, at, { limitId: at % 2 === 0 ? 'A' : 'B' });
    const first = book.query({ limitId: 'A', pageSize: 2 }, 6);
    const second = book.query({ limitId: 'A', pageSize: 2, cursor: first.nextCursor }, 6);
    expect([first.items.map((e) => e.seq), second.items.map((e) => e.seq), second.nextCursor]).toEqual([[6, 4], [2], undefined]);
  });

  it('returns nothing for a limit without history', () => {
    const book = newBook();
    breach(book, 1, { limitId: 'A' });
    expect(book.query({ limitId: 'Z', pageSize: 10 }, 1)).toEqual({ items: [], nextCursor: undefined });
  });

  it('filters history to events at least as severe as asked', () => {
    const book = newBook();
    const severities: Severity[] = ['WARNING', 'SOFT_BREACH', 'HARD_BREACH', 'CRITICAL'];
    severities.forEach((severity, i) => breach(book, i + 1, { severity }));
    expect(book.query({ severity: 'HARD_BREACH', pageSize: 10 }, 4).items.map((e) => e.severity)).toEqual(['CRITICAL', 'HARD_BREACH']);
  });

  it('filters history by time, since and until both inclusive', () => {
    const book = newBook();
    for (let at = 1; at <= 5; at++) breach(book, at);
    expect(book.query({ since: 2, until: 4, pageSize: 10 }, 5).items.map((e) => e.at)).toEqual([4, 3, 2]);
  });

  it('drops the oldest events beyond the history capacity', () => {
    const book = newBook({ historyCapacity: 3 });
    for (let at = 1; at <= 5; at++) breach(book, at, { limitId: at === 1 || at === 5 ? 'A' : 'B' });
    expect(book.historySize).toBe(3);
    expect(book.query({ pageSize: 10 }, 5).items.map((e) => e.seq)).toEqual([5, 4, 3]);
    expect(book.query({ limitId: 'A', pageSize: 10 }, 5).items.map((e) => e.seq)).toEqual([5]);
  });

  it('hides events older than the retention from queries and keeps one exactly retention old', () => {
    const book = newBook({ retentionMs: 1_000 });
    breach(book, 99);
    breach(book, 100);
    breach(book, 500);
    expect(book.query({ pageSize: 10 }, 1_100).items.map((e) => e.at)).toEqual([500, 100]);
    // A read changes nothing: pruning is the sweeper's, so that it is journalled.
    expect(book.historySize).toBe(3);
    book.prune(1_100);
    expect(book.historySize).toBe(2);
  });

  it('prunes history past the retention on sweep', () => {
    const { engine, clock } = makeEngine([qty], { history: { capacity: 100, retentionMs: 1_000 } });
    engine.checkOrder(order({ quantity: 101 }));
    clock.advance(1_001);
    engine.sweep();
    expect(engine.violations.historySize).toBe(0);
  });
});

describe('violation book: subscribers', () => {
  it('notifies a subscriber of each violation and each resolution', () => {
    const { engine } = makeEngine([qty]);
    const notices: ViolationNotice[] = [];
    engine.violations.subscribe((n) => notices.push(n));
    engine.checkOrder(order({ quantity: 101 }));
    engine.checkOrder(order({ quantity: 1 }));
    expect(notices.map((n) => n.type)).toEqual(['violation', 'resolved']);
    expect(notices[1]).toMatchObject({ type: 'resolved', violation: { limitId: 'qty', key: 'account:ACC-1' } });
  });

  it('stops notifying after unsubscribe', () => {
    const { engine } = makeEngine([qty]);
    const notices: ViolationNotice[] = [];
    const unsubscribe = engine.violations.subscribe((n) => notices.push(n));
    unsubscribe();
    engine.checkOrder(order({ quantity: 101 }));
    expect([notices.length, engine.violations.subscriberCount]).toEqual([0, 0]);
  });

  it('completes the check and still notifies others when one subscriber throws', () => {
    const { engine } = makeEngine([qty]);
    const notices: ViolationNotice[] = [];
    engine.violations.subscribe(() => {
      throw new Error('sink down');
    });
    engine.violations.subscribe((n) => notices.push(n));
    const result = engine.checkOrder(order({ quantity: 101 }));
    expect(result).toMatchObject({ decision: 'REJECT', reasons: ['LIMIT_BREACH'] });
    expect([notices.length, engine.violations.historySize]).toEqual([1, 1]);
  });
});

/** What a subscriber of the engine's violations is told, from now on. */
function subscribed(engine: ReturnType<typeof makeEngine>['engine']) {
  const notices: ViolationNotice[] = [];
  engine.violations.subscribe((notice) => notices.push(notice));
  return { notices, violations: () => notices.flatMap((n) => (n.type === 'violation' ? [n.event] : [])) };
}

describe('a rewind to an earlier state (journal recovery with fsync durability)', () => {
  it('tells subscribers a violation it removed ended, and leaves no table behind for a limit the earlier book lacks', () => {
    const { engine } = makeEngine([]);
    const before = engine.captureState();
    engine.upsertLimit({ id: 'qty', kind: 'order_quantity', thresholds: { warn: 5, hard: 1_000 } });
    expect(engine.checkOrder(order({ quantity: 10 })).violations).toHaveLength(1);
    const notices: ViolationNotice[] = [];
    engine.violations.subscribe((notice) => notices.push(notice));
    engine.rewindTo(before);
    expect(notices.map((n) => n.type)).toEqual(['resolved']);
    expect(engine.violations.limitTables).toBe(0);
  });

  it('tells subscribers a violation it brought back (its resolution was dropped) stands, numbered past every seq sent, and only that one', () => {
    const { engine, clock } = makeEngine([qty]);
    const events = subscribed(engine);
    engine.checkOrder(order({ accountId: 'ACC-1', quantity: 60 }));
    engine.checkOrder(order({ accountId: 'ACC-3', quantity: 60 }));
    const before = engine.captureState();
    clock.advance(1_000);
    engine.checkOrder(order({ accountId: 'ACC-2', quantity: 60 }));
    engine.checkOrder(order({ accountId: 'ACC-1', quantity: 1 })); // resolves ACC-1's
    const [brought, , removed] = events.violations();
    engine.rewindTo(before);
    expect(events.notices.slice(4)).toEqual([
      { type: 'resolved', violation: expect.objectContaining({ violationId: removed!.violationId }) as unknown, at: clock.now() },
      { type: 'violation', event: { ...brought!, seq: removed!.seq + 1, orderId: undefined } },
    ]);
    expect(engine.violations.active({}).map((v) => v.violationId)).toContain(brought!.violationId);
    engine.checkOrder(order({ accountId: 'ACC-4', quantity: 60 }));
    expect(events.violations().at(-1)?.seq).toBe(removed!.seq + 2);
  });

  it('tells subscribers the state a violation went back to when a repeat breach was dropped', () => {
    const { engine } = makeEngine([qty]);
    const events = subscribed(engine);
    engine.checkOrder(order({ quantity: 60 }));
    const before = engine.captureState();
    engine.checkOrder(order({ quantity: 150 }));
    const [kept, dropped] = events.violations();
    engine.rewindTo(before);
    expect(events.notices.slice(2)).toEqual([{ type: 'violation', event: { ...kept!, seq: dropped!.seq + 1, orderId: undefined } }]);
    expect(engine.violations.active({})).toEqual([expect.objectContaining({ violationId: kept!.violationId, severity: 'WARNING', value: 60, count: 1 })]);
  });
});
