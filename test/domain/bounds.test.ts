import { describe, expect, it } from 'vitest';
import { CapacityError, LimitBookError, SubscriberLimitError } from '../../src/domain/index.js';
import type { EngineCapacity } from '../../src/domain/engine.js';
import { makeEngine, order, testConfig } from '../support/engine-fixtures.js';
import { accepted, accountExposure, cancel, setReference } from '../support/engine-actions.js';

const qty = { id: 'qty', kind: 'order_quantity', thresholds: { hard: 100 } };

function withCapacity(limits: unknown[], capacity: Partial<EngineCapacity>) {
  return makeEngine(limits, { capacity: { ...testConfig().capacity, ...capacity } });
}

describe('bounds: open orders, positions and symbols', () => {
  it('rejects with CAPACITY_EXCEEDED and nothing evaluated when the open-order table is full', () => {
    const { engine } = withCapacity([qty], { maxOpenOrders: 2 });
    accepted(engine);
    accepted(engine);
    expect(engine.checkOrder(order())).toMatchObject({ decision: 'REJECT', reasons: ['CAPACITY_EXCEEDED'], evaluated: 0, violations: [] });
  });

  it('accepts again once an open order is released', () => {
    const { engine } = withCapacity([], { maxOpenOrders: 2 });
    const first = accepted(engine);
    accepted(engine);
    cancel(engine, first);
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
  });

  it('reports a duplicate order id before a full table', () => {
    const { engine } = withCapacity([], { maxOpenOrders: 1 });
    const first = accepted(engine);
    expect(engine.checkOrder(first).reasons).toEqual(['DUPLICATE_ORDER_ID']);
  });

  it('rejects an order that would open a new account and symbol pair beyond maxPositions', () => {
    const { engine } = withCapacity([], { maxPositions: 2 });
    accepted(engine, { symbol: 'AAPL' });
    accepted(engine, { symbol: 'MSFT' });
    expect(engine.checkOrder(order({ symbol: 'IBM' })).reasons).toEqual(['CAPACITY_EXCEEDED']);
    expect(engine.checkOrder(order({ accountId: 'ACC-2', symbol: 'AAPL' })).reasons).toEqual(['CAPACITY_EXCEEDED']);
  });

  it('accepts an order on a pair it already holds when maxPositions is reached', () => {
    const { engine } = withCapacity([], { maxPositions: 2 });
    accepted(engine, { symbol: 'AAPL' });
    accepted(engine, { symbol: 'MSFT' });
    expect(engine.checkOrder(order({ symbol: 'AAPL' })).decision).toBe('ACCEPT');
  });

  it('refuses a position snapshot that would exceed maxPositions and changes nothing', () => {
    const { engine } = withCapacity([], { maxPositions: 2 });
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 10, avgPrice: 1 }], false);
    const rows = [
      { accountId: 'ACC-1', symbol: 'AAPL', quantity: 20, avgPrice: 1 },
      { accountId: 'ACC-1', symbol: 'MSFT', quantity: 20, avgPrice: 1 },
      { accountId: 'ACC-1', symbol: 'IBM', quantity: 20, avgPrice: 1 },
    ];
    expect(() => engine.applyPositions(rows, false)).toThrow(CapacityError);
    expect([accountExposure(engine)?.position, engine.ledger.positionCount]).toEqual([10, 1]);
  });

  it('tells whether position rows fit, counting each new pair and symbol once, without changing anything', () => {
    const { engine } = withCapacity([], { maxPositions: 3, maxSymbols: 2 });
    engine.applyPositions([{ accountId: 'ACC-1', symbol: 'AAPL', quantity: 10, avgPrice: 1 }], false);
    const row = (accountId: string, symbol: string) => ({ accountId, symbol, quantity: 5, avgPrice: 1 });
    // Two new pairs (one named twice) and one new symbol (named three times): they fit exactly.
    const fits = [row('ACC-1', 'AAPL'), row('ACC-1', 'MSFT'), row('ACC-1', 'MSFT'), row('ACC-2', 'MSFT')];
    expect(engine.ledger.positionsOverflow(fits)).toBeUndefined();
    expect(engine.ledger.positionsOverflow([...fits, row('ACC-2', 'AAPL')])?.message).toMatch(/^positions: 3 new account\/symbol pairs exceed maxPositions 3/);
    expect(engine.ledger.positionsOverflow([...fits, row('ACC-3', 'IBM')])?.message).toMatch(/^symbols: 2 new symbols exceed maxSymbols 2/);
    // Told a part at a time, each new pair and symbol still counts once across the parts.
    const tally = engine.positionsTally();
    for (const part of [fits.slice(0, 2), fits.slice(2), [row('ACC-2', 'AAPL')]]) tally.add(part);
    expect(tally.overflow()?.message).toMatch(/^positions: 3 new account\/symbol pairs exceed maxPositions 3/);
    const fitting = engine.positionsTally();
    for (const part of [fits.slice(0, 3), fits.slice(3)]) fitting.add(part);
    expect(fitting.overflow()).toBeUndefined();
    expect([engine.ledger.positionCount, engine.ledger.markets.size, accountExposure(engine)?.position]).toEqual([1, 1, 10]);
    engine.applyPositions(fits, false);
    expect(engine.ledger.positionCount).toBe(3);
  });

  it('rejects an order in a new symbol beyond maxSymbols', () => {
    const { engine } = withCapacity([], { maxSymbols: 2 });
    setReference(engine, { AAPL: 1, MSFT: 1 });
    expect(engine.checkOrder(order({ symbol: 'IBM' })).reasons).toEqual(['CAPACITY_EXCEEDED']);
    expect(engine.checkOrder(order({ symbol: 'MSFT' })).decision).toBe('ACCEPT');
  });

  it('refuses reference prices that would exceed maxSymbols and changes none of them', () => {
    const { engine, clock } = withCapacity([], { maxSymbols: 2 });
    setReference(engine, { AAPL: 1, MSFT: 1 });
    expect(() => setReference(engine, { AAPL: 2, IBM: 2 })).toThrow(CapacityError);
    expect(engine.ledger.freshReference(engine.ledger.market('AAPL'), clock.now(), 5_000)).toBe(1);
    expect(engine.ledger.markets.size).toBe(2);
  });

  it('refuses a position snapshot that would exceed maxSymbols', () => {
    const { engine } = withCapacity([], { maxSymbols: 1 });
    setReference(engine, { AAPL: 1 });
    expect(() => engine.applyPositions([{ accountId: 'ACC-1', symbol: 'MSFT', quantity: 1, avgPrice: 1 }], false)).toThrow(CapacityError);
  });
});

describe('bounds: rate and duplicate windows', () => {
  const rate = { id: 'rate', kind: 'order_rate', per: 'account', windowMs: 1_000, thresholds: { hard: 10 } };

  it('rejects with CAPACITY_EXCEEDED an order that needs a window key beyond maxWindowKeys', () => {
    const { engine } = withCapacity([rate], { maxWindowKeys: 2 });
    accepted(engine, { accountId: 'ACC-1' });
    accepted(engine, { accountId: 'ACC-2' });
    expect(engine.checkOrder(order({ accountId: 'ACC-3' }))).toMatchObject({ reasons: ['CAPACITY_EXCEEDED'], violations: [], evaluated: 1 });
  });

  it('keeps counting keys it already tracks when maxWindowKeys is reached', () => {
    const { engine } = withCapacity([rate], { maxWindowKeys: 2 });
    accepted(engine, { accountId: 'ACC-1' });
    accepted(engine, { accountId: 'ACC-2' });
    expect(engine.checkOrder(order({ accountId: 'ACC-1' })).decision).toBe('ACCEPT');
  });

  it('frees window keys whose window has emptied on sweep', () => {
    const { engine, clock } = withCapacity([rate], { maxWindowKeys: 2 });
    accepted(engine, { accountId: 'ACC-1' });
    accepted(engine, { accountId: 'ACC-2' });
    clock.advance(1_000);
    engine.sweep();
    expect(engine.checkOrder(order({ accountId: 'ACC-3' })).decision).toBe('ACCEPT');
  });

  it('counts each duplicate signature as a window key', () => {
    const dup = { id: 'dup', kind: 'duplicate_order', windowMs: 1_000, thresholds: { hard: 1 } };
    const { engine } = withCapacity([dup], { maxWindowKeys: 1 });
    accepted(engine, { quantity: 1 });
    expect(engine.checkOrder(order({ quantity: 2 })).reasons).toEqual(['CAPACITY_EXCEEDED']);
  });

  it('saturates a full window at maxWindowEntries so the count stays in the top band', () => {
    const saturating = { ...rate, thresholds: { hard: 2, critical: 3 }, actions: { HARD_BREACH: 'ALERT', CRITICAL: 'ALERT' } };
    const { engine } = withCapacity([saturating], { maxWindowEntries: 5 });
    const values = Array.from({ length: 10 }, () => engine.checkOrder(order()).violations[0]?.value ?? 0);
    expect(values).toEqual([0, 0, 3, 4, 5, 6, 6, 6, 6, 6]);
    expect(engine.checkOrder(order()).violations[0]?.severity).toBe('CRITICAL');
  });

  it('accepts a windowed limit whose top threshold is maxWindowEntries minus 2', () => {
    const { engine } = withCapacity([{ ...rate, thresholds: { hard: 1, critical: 3 } }], { maxWindowEntries: 5 });
    expect(engine.book.limits).toHaveLength(1);
  });

  it('refuses a windowed limit whose top threshold reaches maxWindowEntries minus 1, naming it', () => {
    let thrown: unknown;
    try {
      withCapacity([qty, { ...rate, id: 'too-high', thresholds: { hard: 4 } }], { maxWindowEntries: 5 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LimitBookError);
    expect(thrown).toMatchObject({ path: [1, 'thresholds'] });
    expect((thrown as Error).message).toContain('too-high');
  });

  it('applies no window-entry rule to kinds without a window', () => {
    const { engine } = withCapacity([{ ...qty, thresholds: { hard: 1_000_000 } }], { maxWindowEntries: 5 });
    expect(engine.book.limits).toHaveLength(1);
  });
});

describe('bounds: trading states, violations and subscribers', () => {
  it('refuses an operator\'s new restricted scope when the trading-state table is full, changing nothing', () => {
    const { engine } = withCapacity([], { maxTradingStates: 2 });
    engine.setTradingState('account', 'ACC-1', 'HALTED', 'ops');
    engine.setTradingState('account', 'ACC-2', 'HALTED', 'ops');
    const events: unknown[] = [];
    engine.recordEventsTo((event) => events.push(event));
    expect(() => engine.setTradingState('account', 'ACC-3', 'HALTED', 'ops')).toThrow(CapacityError);
    expect(events).toEqual([]);
    expect(engine.tradingStates.list().map((e) => e.scope)).toEqual(['account:ACC-1', 'account:ACC-2']);
    expect(engine.checkOrder(order({ accountId: 'ACC-9' })).decision).toBe('ACCEPT');
  });

  it('escalates a limit\'s REDUCE_ONLY action to global when the table is full (fails closed)', () => {
    const { engine } = withCapacity([{ ...qty, actions: { HARD_BREACH: 'REDUCE_ONLY' } }], { maxTradingStates: 1 });
    engine.setTradingState('account', 'ACC-2', 'HALTED', 'ops');
    engine.checkOrder(order({ accountId: 'ACC-1', quantity: 101 }));
    expect(engine.tradingStates.get('global')).toMatchObject({ state: 'REDUCE_ONLY', source: 'limit:qty' });
    expect(engine.tradingStates.get('global')?.reason).toContain('account:ACC-1');
  });

  it('still updates a scope it already holds when the table is full', () => {
    const { engine } = withCapacity([], { maxTradingStates: 1 });
    engine.setTradingState('account', 'ACC-1', 'HALTED', 'ops');
    expect(engine.setTradingState('account', 'ACC-1', 'REDUCE_ONLY', 'ops').scope).toBe('account:ACC-1');
    expect(engine.tradingStates.get('global')).toBeUndefined();
  });

  it('escalates a HALT action to global when the table is full', () => {
    const { engine } = withCapacity([{ ...qty, thresholds: { hard: 100, critical: 200 } }], { maxTradingStates: 1 });
    engine.setTradingState('account', 'ACC-2', 'REDUCE_ONLY', 'ops');
    engine.checkOrder(order({ accountId: 'ACC-1', quantity: 201 }));
    expect(engine.tradingStates.get('global')).toMatchObject({ state: 'HALTED', source: 'limit:qty' });
  });

  it('does not loosen a global halt when escalating a reduce-only', () => {
    const { engine } = withCapacity([{ ...qty, actions: { HARD_BREACH: 'REDUCE_ONLY' } }], { maxTradingStates: 1 });
    engine.setTradingState('global', undefined, 'HALTED', 'ops');
    engine.checkOrder(order({ accountId: 'ACC-1', quantity: 101 }));
    expect(engine.tradingStates.list()).toEqual([expect.objectContaining({ scope: 'global', state: 'HALTED', source: 'api' })]);
  });

  it('evicts the least recently updated active violation when maxActiveViolations is reached', () => {
    const { engine } = withCapacity([qty], { maxActiveViolations: 2 });
    for (const accountId of ['ACC-1', 'ACC-2', 'ACC-1', 'ACC-3']) engine.checkOrder(order({ accountId, quantity: 101 }));
    expect(engine.violations.active({}).map((v) => v.key).sort()).toEqual(['account:ACC-1', 'account:ACC-3']);
    expect(engine.violations.evictedActive).toBe(1);
  });

  it('refuses a book over maxLimits, by replacement or by one more limit, and changes nothing', () => {
    const limit = (id: string) => ({ id, kind: 'order_quantity', thresholds: { hard: 100 } });
    const { engine } = withCapacity([limit('a'), limit('b')], { maxLimits: 2 });
    expect(() => engine.upsertLimit(limit('c'))).toThrow(CapacityError);
    expect(() => engine.replaceLimits([limit('a'), limit('b'), limit('c')])).toThrow(CapacityError);
    expect(engine.book.version).toBe(1);
    expect(engine.book.definitions.map((d) => d.id)).toEqual(['a', 'b']);
    // At the bound: replacing one limit and a book of exactly maxLimits are fine.
    engine.upsertLimit({ ...limit('b'), thresholds: { hard: 50 } });
    engine.replaceLimits([limit('x'), limit('y')]);
    expect(engine.book.definitions.map((d) => d.id)).toEqual(['x', 'y']);
  });

  it('keeps an active-violation table only for limits in the book, however many ids come and go', () => {
    const limit = (id: string) => ({ id, kind: 'order_quantity', thresholds: { hard: 100 } });
    const { engine } = withCapacity([limit('kept')], { maxLimits: 2 });
    engine.checkOrder(order({ quantity: 101 }));
    for (let i = 0; i < 50; i++) {
      engine.upsertLimit(limit(`tmp-${i}`));
      engine.checkOrder(order({ quantity: 101 }));
      engine.deleteLimit(`tmp-${i}`);
    }
    expect(engine.violations.limitTables).toBe(1);
    // The limit that stayed still resolves its violation when its key checks clean.
    expect(engine.violations.active({}).map((v) => v.limitId)).toEqual(['kept']);
    engine.checkOrder(order({ quantity: 1 }));
    expect(engine.violations.active({})).toEqual([]);
  });

  it('refuses a subscriber beyond maxSubscribers', () => {
    const { engine } = withCapacity([], { maxSubscribers: 2 });
    engine.violations.subscribe(() => undefined);
    engine.violations.subscribe(() => undefined);
    expect(() => engine.violations.subscribe(() => undefined)).toThrow(SubscriberLimitError);
  });

  it('accepts a subscriber again after one unsubscribes', () => {
    const { engine } = withCapacity([], { maxSubscribers: 1 });
    engine.violations.subscribe(() => undefined)();
    expect(() => engine.violations.subscribe(() => undefined)).not.toThrow();
  });

  it('holds at most history.capacity events, keeping the newest', () => {
    const { engine, clock } = makeEngine([qty], { history: { capacity: 3, retentionMs: 3_600_000 } });
    const orders = Array.from({ length: 5 }, () => order({ quantity: 101 }));
    for (const o of orders) engine.checkOrder(o);
    expect(engine.violations.historySize).toBe(3);
    expect(engine.violations.query({ pageSize: 10 }, clock.now()).items.map((e) => e.orderId)).toEqual(orders.slice(2).reverse().map((o) => o.orderId));
  });

  it('drops events older than history.retentionMs from queries', () => {
    const { engine, clock } = makeEngine([qty], { history: { capacity: 100, retentionMs: 1_000 } });
    engine.checkOrder(order({ quantity: 101 }));
    clock.advance(1_000);
    const kept = order({ quantity: 101 });
    engine.checkOrder(kept);
    clock.advance(1);
    expect(engine.violations.query({ pageSize: 10 }, clock.now()).items.map((e) => e.orderId)).toEqual([kept.orderId]);
  });
});
