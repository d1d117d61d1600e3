import { describe, expect, it } from 'vitest';
import { END_AT_ONCE, ViolationBook } from '../../src/domain/violation-book.js';
import type { ActiveViolation, ViolationNotice } from '../../src/domain/violation-book.js';
import { SWEEP_END_BUDGET } from '../../src/domain/engine.js';
import { makeEngine, order, testConfig } from '../support/engine-fixtures.js';

/** More than one call resolves: the rest wait for drainEnded. */
const MANY = END_AT_ONCE + 300;

function newBook(maxActive = 10 * MANY) {
  return new ViolationBook({ historyCapacity: 10, retentionMs: 1_000, maxActive, maxSubscribers: 4 });
}

function breach(book: ViolationBook, limitId: string, key: string, at = 1): void {
  book.record({ limitId, kind: 'value', key, severity: 'HARD_BREACH', action: 'BLOCK', value: 1, threshold: 0, orderId: undefined, message: 'm' }, at);
}

function listen(book: ViolationBook): ViolationNotice[] {
  const notices: ViolationNotice[] = [];
  book.subscribe((notice) => notices.push(notice));
  return notices;
}

const resolvedKeys = (notices: readonly ViolationNotice[]): string[] =>
  notices.flatMap((n) => (n.type === 'resolved' ? [`${n.violation.limitId}/${n.violation.key}@${n.at}`] : []));

describe('violations ended with their limit', () => {
  it('leave reads and counts at once, and are told resolved a bounded slice per call, each once, at the time they ended', () => {
    const book = newBook();
    for (let i = 0; i < MANY; i++) breach(book, 'L', `k${i}`);
    breach(book, 'other', 'k0');
    const notices = listen(book);

    book.resolveAllOf('L', 50);
    expect(book.activeCount).toBe(1);
    expect(book.endingCount).toBe(MANY - END_AT_ONCE);
    expect(book.activePage({ pageSize: 10 }).items.map((v) => `${v.limitId}/${v.key}`)).toEqual(['other/k0']);
    expect(book.activePage({ limitId: 'L', pageSize: 10 }).items).toEqual([]);
    expect(book.capture().active.map((v) => v.limitId)).toEqual(['other']);
    expect(notices).toHaveLength(END_AT_ONCE);

    expect(book.drainEnded(100)).toBe(true);
    expect(notices).toHaveLength(END_AT_ONCE + 100);
    expect(book.drainEnded(MANY)).toBe(false);
    expect(book.endingCount).toBe(0);
    expect(book.activeCount).toBe(1);
    const told = resolvedKeys(notices);
    expect(new Set(told)).toEqual(new Set(Array.from({ length: MANY }, (_, i) => `L/k${i}@50`)));
    expect(told).toHaveLength(MANY);
    expect(book.drainEnded(10)).toBe(false);
  });

  it('says nothing is left from the call that resolves the last one (the budget ending exactly there)', () => {
    const book = newBook();
    for (let i = 0; i < END_AT_ONCE + 10; i++) breach(book, 'L', `k${i}`);
    book.resolveAllOf('L', 5);
    expect(book.drainEnded(10)).toBe(false);
    expect(book.endingCount).toBe(0);
  });

  it('ends a small table within the call, as before', () => {
    const book = newBook();
    for (let i = 0; i < 3; i++) breach(book, 'L', `k${i}`);
    const notices = listen(book);
    book.resolveAllOf('L', 7);
    expect([book.activeCount, book.endingCount, notices.length]).toEqual([0, 0, 3]);
  });

  it('does not let a draining table touch a violation of the same limit and key recorded after it ended', () => {
    const book = newBook();
    for (let i = 0; i < MANY; i++) breach(book, 'L', `k${i}`);
    book.resolveAllOf('L', 50);
    const lastKey = `k${MANY - 1}`;
    breach(book, 'L', lastKey, 60);
    const fresh = book.activePage({ limitId: 'L', pageSize: 10 }).items;
    expect(fresh.map((v) => [v.key, v.firstAt])).toEqual([[lastKey, 60]]);

    book.drainEnded(MANY);
    expect(book.activePage({ limitId: 'L', pageSize: 10 }).items).toEqual(fresh);
    expect(book.activeCount).toBe(1);
    // The fresh violation still resolves by its key.
    expect(book.resolve('L', lastKey, 70)).toBe(true);
    expect(book.activeCount).toBe(0);
  });

  it('at capacity, resolves an ended violation to make room rather than evict a live one', () => {
    const book = newBook(MANY + 1);
    breach(book, 'live', 'a');
    for (let i = 0; i < MANY; i++) breach(book, 'L', `k${i}`);
    book.resolveAllOf('L', 50);
    const notices = listen(book);
    // Room left beside the live one and the ended ones not yet resolved.
    const room = MANY + 1 - 1 - (MANY - END_AT_ONCE);
    for (let i = 0; i < room; i++) breach(book, 'new', `n${i}`, 60);
    // The table is full of live ones and the ended ones that are left; the next one drains one.
    breach(book, 'new', 'last', 61);
    expect(book.evictedActive).toBe(0);
    expect(book.activePage({ limitId: 'live', pageSize: 10 }).items.map((v) => v.key)).toEqual(['a']);
    expect(resolvedKeys(notices).filter((k) => k.startsWith('L/'))).toHaveLength(1);
    expect(book.activeCount).toBe(room + 2);
  });

  it('a rollback (handOver, restore, takeOver) tells subscribers of the ended violations they were not told of yet', () => {
    const book = newBook();
    for (let i = 0; i < MANY; i++) breach(book, 'L', `k${i}`);
    const notices = listen(book);
    book.resolveAllOf('L', 50);
    const disk = book.capture();
    const told = book.handOver();
    book.restore(disk);
    book.takeOver(told, 80);
    expect(book.endingCount).toBe(0);
    expect(new Set(resolvedKeys(notices).map((k) => k.split('@')[0]))).toEqual(new Set(Array.from({ length: MANY }, (_, i) => `L/k${i}`)));
    expect(resolvedKeys(notices)).toHaveLength(MANY);
  });

  it('a restored capture holds the live violations only', () => {
    const book = newBook();
    for (let i = 0; i < MANY; i++) breach(book, 'L', `k${i}`);
    breach(book, 'other', 'x');
    book.resolveAllOf('L', 50);
    const copy = newBook();
    copy.restore(book.capture());
    expect(copy.active({}).map((v: ActiveViolation) => `${v.limitId}/${v.key}`)).toEqual(['other/x']);
    expect(copy.activeCount).toBe(1);
  });
});

describe('engine: deleting a limit that holds many active violations', () => {
  it('resolves at most END_AT_ONCE in the call and the rest in sweeps, which say more is due until done', () => {
    const capacity = { ...testConfig().capacity, maxActiveViolations: 10_000, maxOpenOrders: 10_000, maxPositions: 10_000 };
    const { engine, clock } = makeEngine([{ id: 'big', kind: 'order_quantity', per: 'account', thresholds: { warn: 50, hard: 1_000 } }], { capacity });
    const accounts = END_AT_ONCE + SWEEP_END_BUDGET + 10;
    for (let i = 0; i < accounts; i++) engine.checkOrder(order({ accountId: `ACC-${i}`, quantity: 100 }));
    expect(engine.violations.activeCount).toBe(accounts);
    const resolved: number[] = [];
    engine.violations.subscribe((n) => {
      if (n.type === 'resolved') resolved.push(n.at);
    });
    const deletedAt = clock.now();
    engine.deleteLimit('big');
    expect([engine.violations.activeCount, resolved.length]).toEqual([0, END_AT_ONCE]);
    clock.advance(1_000);
    expect(engine.sweep()).toBe(true);
    expect(resolved.length).toBe(END_AT_ONCE + SWEEP_END_BUDGET);
    expect(engine.sweep()).toBe(false);
    expect(resolved.length).toBe(accounts);
    expect(new Set(resolved)).toEqual(new Set([deletedAt]));
  });

  it('a sweep that resolves the last of them says no more is due', () => {
    const capacity = { ...testConfig().capacity, maxActiveViolations: 10_000, maxOpenOrders: 10_000, maxPositions: 10_000 };
    const { engine, clock } = makeEngine([{ id: 'big', kind: 'order_quantity', per: 'account', thresholds: { warn: 50, hard: 1_000 } }], { capacity });
    for (let i = 0; i < END_AT_ONCE + SWEEP_END_BUDGET; i++) engine.checkOrder(order({ accountId: `ACC-${i}`, quantity: 100 }));
    engine.deleteLimit('big');
    clock.advance(1_000);
    expect(engine.sweep()).toBe(false);
    expect(engine.violations.endingCount).toBe(0);
  });

  it('a limit re-keyed by an upsert ends its violations the same way; a snapshot meanwhile holds none of them', () => {
    const capacity = { ...testConfig().capacity, maxActiveViolations: 10_000, maxOpenOrders: 10_000, maxPositions: 10_000 };
    const limit = { id: 'big', kind: 'order_quantity', per: 'account', thresholds: { warn: 50, hard: 1_000 } };
    const { engine } = makeEngine([limit], { capacity });
    for (let i = 0; i < MANY; i++) engine.checkOrder(order({ accountId: `ACC-${i}`, quantity: 100 }));
    engine.upsertLimit({ ...limit, per: 'strategy' });
    expect(engine.violations.endingCount).toBe(MANY - END_AT_ONCE);
    expect(engine.captureState().violations.active).toEqual([]);
    engine.checkOrder(order({ accountId: 'ACC-0', quantity: 100 }));
    expect(engine.violations.active({}).map((v) => v.key)).toEqual(['strategy:STRAT-1']);
  });
});
