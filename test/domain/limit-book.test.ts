import { describe, expect, it } from 'vitest';
import type { CompiledLimit } from '../../src/domain/compiled-limit.js';
import { LimitBookError, UnknownLimitError, VersionConflictError } from '../../src/domain/index.js';
import { makeEngine, order } from '../support/engine-fixtures.js';
import { accepted } from '../support/engine-actions.js';

const qty = { id: 'qty', kind: 'order_quantity', thresholds: { hard: 100 } };
const rate = { id: 'rate', kind: 'order_rate', windowMs: 1_000, thresholds: { hard: 2 } };

/** The error thrown when an engine is built with these limits, or undefined. */
function compileError(limits: unknown[]): LimitBookError | undefined {
  try {
    makeEngine(limits);
    return undefined;
  } catch (error) {
    if (error instanceof LimitBookError) return error;
    throw error;
  }
}

describe('limit book: validation', () => {
  it.each([
    ['soft', { warn: 50, soft: 40, hard: 100 }],
    ['hard', { soft: 50, hard: 40 }],
    ['critical', { hard: 100, critical: 99 }],
    ['hard', { warn: 101, hard: 100 }],
  ])('rejects thresholds out of order, naming the limit id and thresholds.%s', (field, thresholds) => {
    const error = compileError([qty, { id: 'bad-order', kind: 'order_quantity', thresholds }]);
    expect(error?.message).toContain('bad-order');
    expect(error?.message).toContain(`thresholds.${field}`);
    expect(error?.path).toEqual([1, 'thresholds', field]);
  });

  it('accepts thresholds that are all equal', () => {
    expect(compileError([{ id: 'flat', kind: 'order_quantity', thresholds: { warn: 5, soft: 5, hard: 5, critical: 5 } }])).toBeUndefined();
  });

  it('rejects a negative threshold', () => {
    expect(compileError([{ id: 'neg', kind: 'order_quantity', thresholds: { hard: -1 } }])?.path).toEqual([0, 'thresholds', 'hard']);
  });

  it.each(['order_rate', 'duplicate_order'])('requires windowMs for %s', (kind) => {
    const error = compileError([{ id: 'w', kind, thresholds: { hard: 1 } }]);
    expect(error?.path).toEqual([0, 'windowMs']);
    expect(error?.message).toContain('limit w');
  });

  it('rejects windowMs on a kind that has no window', () => {
    expect(compileError([{ ...qty, windowMs: 1_000 }])?.path).toEqual([0, 'windowMs']);
  });

  it.each([0, 1.5, 86_400_001])('rejects windowMs %d', (windowMs) => {
    expect(compileError([{ ...rate, windowMs }])?.path).toEqual([0, 'windowMs']);
  });

  it.each(['position', 'self_trade'])('rejects a %s limit per account, which is not symbol-level', (kind) => {
    expect(compileError([{ id: 'p', kind, per: 'account', thresholds: { hard: 1 } }])?.path).toEqual([0, 'per']);
  });

  it.each(['symbol', 'account+symbol', 'strategy+symbol'])('accepts a position limit per %s', (per) => {
    expect(compileError([{ id: 'p', kind: 'position', per, thresholds: { hard: 1 } }])).toBeUndefined();
  });

  it('rejects missingReference on a kind other than price_deviation', () => {
    expect(compileError([{ ...qty, missingReference: 'allow' }])?.path).toEqual([0, 'missingReference']);
  });

  it('rejects an unknown field', () => {
    expect(compileError([{ ...qty, colour: 'red' }])).toBeInstanceOf(LimitBookError);
  });

  it('rejects a duplicate limit id, naming it and its position', () => {
    const error = compileError([qty, rate, { ...qty, thresholds: { hard: 5 } }]);
    expect(error?.message).toContain('duplicate limit id qty');
    expect(error?.path).toEqual([2, 'id']);
  });

  it('defaults per to the kind default', () => {
    const { engine } = makeEngine([qty, rate, { id: 'pos', kind: 'position', thresholds: { hard: 1 } }, { id: 'v', kind: 'value', thresholds: { hard: 1 } }]);
    expect(engine.book.limits.map((l) => l.per)).toEqual(['account', 'strategy', 'account+symbol', 'global']);
  });
});

describe('limit book: scope index', () => {
  const book = [
    { id: 'all', kind: 'order_quantity', thresholds: { hard: 1 } },
    { id: 'acc', kind: 'order_quantity', scope: { accounts: ['ACC-1'] }, thresholds: { hard: 1 } },
    { id: 'acc-sym', kind: 'order_quantity', scope: { accounts: ['ACC-1'], symbols: ['MSFT'] }, thresholds: { hard: 1 } },
    { id: 'strat', kind: 'order_quantity', scope: { strategies: ['STRAT-2'] }, thresholds: { hard: 1 } },
    { id: 'sym', kind: 'order_quantity', scope: { symbols: ['AAPL', 'MSFT'] }, thresholds: { hard: 1 } },
    { id: 'venue', kind: 'order_quantity', scope: { venues: ['XNYS'] }, thresholds: { hard: 1 } },
    { id: 'off', kind: 'order_quantity', enabled: false, thresholds: { hard: 1 } },
    { id: 'v', kind: 'value', thresholds: { hard: 1 } },
  ];
  const applicable = (fields: Parameters<typeof order>[0]) => {
    const { engine } = makeEngine(book);
    const out: CompiledLimit[] = [];
    const count = engine.book.collectApplicable(order(fields), out);
    return out.slice(0, count).map((l) => l.id).sort();
  };

  it('returns the unscoped, account and symbol limits that match an order', () => {
    expect(applicable({ accountId: 'ACC-1', symbol: 'AAPL' })).toEqual(['acc', 'all', 'sym']);
  });

  it('requires every scope dimension of a limit to match', () => {
    expect(applicable({ accountId: 'ACC-1', symbol: 'MSFT' })).toEqual(['acc', 'acc-sym', 'all', 'sym']);
    expect(applicable({ accountId: 'ACC-2', symbol: 'MSFT' })).toEqual(['all', 'sym']);
  });

  it('returns strategy-scoped limits only for that strategy', () => {
    expect(applicable({ accountId: 'ACC-2', strategyId: 'STRAT-2', symbol: 'IBM' })).toEqual(['all', 'strat']);
  });

  it('returns venue-scoped limits only for orders sent to that venue', () => {
    expect(applicable({ accountId: 'ACC-2', symbol: 'IBM', venue: 'XNYS' })).toEqual(['all', 'venue']);
    expect(applicable({ accountId: 'ACC-2', symbol: 'IBM' })).toEqual(['all']);
  });

  it('writes over a reused list from the front and counts only this order', () => {
    const { engine } = makeEngine(book);
    const out: CompiledLimit[] = [];
    expect(engine.book.collectApplicable(order({ accountId: 'ACC-1', symbol: 'MSFT' }), out)).toBe(4);
    const count = engine.book.collectApplicable(order({ accountId: 'ACC-2', symbol: 'IBM' }), out);
    expect(count).toBe(1);
    expect(out[0]!.id).toBe('all');
  });

  it('never returns disabled or value limits', () => {
    expect(applicable({ accountId: 'ACC-9', symbol: 'IBM' })).toEqual(['all']);
  });

  it('does not evaluate a disabled limit', () => {
    const { engine } = makeEngine([{ ...qty, enabled: false }]);
    expect(engine.checkOrder(order({ quantity: 1_000 }))).toMatchObject({ decision: 'ACCEPT', evaluated: 0 });
  });

  it('reports violations in book order whatever index found them', () => {
    const { engine } = makeEngine([
      { id: 'first', kind: 'order_quantity', scope: { accounts: ['ACC-1'] }, thresholds: { hard: 1 } },
      { id: 'second', kind: 'order_quantity', thresholds: { hard: 1 } },
    ]);
    expect(engine.checkOrder(order({ quantity: 2 })).violations.map((v) => v.limitId)).toEqual(['first', 'second']);
  });
});

describe('limit book: swaps', () => {
  it('starts at version 1 and stamps results with the book version', () => {
    const { engine } = makeEngine([qty]);
    expect(engine.book.version).toBe(1);
    expect(engine.checkOrder(order()).bookVersion).toBe(1);
  });

  it('adds a new limit on upsert and bumps the version', () => {
    const { engine } = makeEngine([qty]);
    const book = engine.upsertLimit(rate);
    expect([book.version, book.limits.map((l) => l.id)]).toEqual([2, ['qty', 'rate']]);
    expect(engine.checkOrder(order()).bookVersion).toBe(2);
  });

  it('replaces an existing limit in place on upsert', () => {
    const { engine } = makeEngine([qty, rate]);
    engine.upsertLimit({ ...qty, thresholds: { hard: 10 } });
    expect(engine.book.limits.map((l) => [l.id, l.hard])).toEqual([
      ['qty', 10],
      ['rate', 2],
    ]);
    expect(engine.checkOrder(order({ quantity: 11 })).decision).toBe('REJECT');
  });

  it('removes a limit on delete', () => {
    const { engine } = makeEngine([qty, rate]);
    engine.deleteLimit('qty');
    expect([engine.book.version, engine.book.limits.map((l) => l.id)]).toEqual([2, ['rate']]);
  });

  it('refuses to delete an unknown limit', () => {
    const { engine } = makeEngine([qty]);
    expect(() => engine.deleteLimit('nope')).toThrow(UnknownLimitError);
  });

  it('refuses to delete an unknown limit as unknown even against a stale version: existence first', () => {
    const { engine } = makeEngine([qty]);
    expect(() => engine.deleteLimit('nope', 7)).toThrow(UnknownLimitError);
    expect(() => engine.deleteLimit('qty', 7)).toThrow(VersionConflictError);
    expect(engine.book.version).toBe(1);
  });

  it('swaps the whole book on replace', () => {
    const { engine } = makeEngine([qty]);
    engine.replaceLimits([rate]);
    expect([engine.book.version, engine.book.limits.map((l) => l.id)]).toEqual([2, ['rate']]);
  });

  it('applies a change when the expected version matches', () => {
    const { engine } = makeEngine([qty]);
    expect(engine.upsertLimit(rate, 1).version).toBe(2);
  });

  it('refuses a change against a stale version and leaves the book as it was', () => {
    const { engine } = makeEngine([qty]);
    engine.upsertLimit(rate);
    let thrown: unknown;
    try {
      engine.replaceLimits([], 1);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(VersionConflictError);
    expect(thrown).toMatchObject({ expected: 1, actual: 2 });
    expect(engine.book.limits.map((l) => l.id)).toEqual(['qty', 'rate']);
  });

  it.each([
    ['upsert', (e: ReturnType<typeof makeEngine>['engine']) => e.upsertLimit(rate, 7)],
    ['delete', (e: ReturnType<typeof makeEngine>['engine']) => e.deleteLimit('qty', 7)],
  ])('refuses a stale %s with VersionConflictError', (_name, change) => {
    const { engine } = makeEngine([qty]);
    expect(() => change(engine)).toThrow(VersionConflictError);
  });

  it('leaves the book and version unchanged when an upsert is invalid', () => {
    const { engine } = makeEngine([qty]);
    expect(() => engine.upsertLimit({ ...qty, thresholds: { soft: 200, hard: 100 } })).toThrow(LimitBookError);
    expect([engine.book.version, engine.book.limits[0]?.hard]).toEqual([1, 100]);
  });

  it('keeps the window of an unchanged rate limit across a swap', () => {
    const { engine } = makeEngine([rate]);
    accepted(engine);
    accepted(engine);
    engine.upsertLimit(qty);
    expect(engine.checkOrder(order()).violations[0]).toMatchObject({ limitId: 'rate', value: 3 });
  });

  it('keeps the window of an unchanged rate limit across a whole-book replace', () => {
    const { engine } = makeEngine([rate]);
    accepted(engine);
    accepted(engine);
    engine.replaceLimits([qty, rate]);
    expect(engine.checkOrder(order()).violations[0]).toMatchObject({ limitId: 'rate', value: 3 });
  });

  it('keeps the window of a rate limit whose thresholds change', () => {
    const { engine } = makeEngine([rate]);
    accepted(engine);
    accepted(engine);
    engine.upsertLimit({ ...rate, thresholds: { hard: 3 } });
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
    expect(engine.checkOrder(order()).violations[0]?.value).toBe(4);
  });

  it('starts a fresh window when a rate limit changes its windowMs', () => {
    const { engine } = makeEngine([rate]);
    accepted(engine);
    accepted(engine);
    engine.upsertLimit({ ...rate, windowMs: 2_000 });
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
  });

  it('starts a fresh window when a rate limit changes its per', () => {
    const { engine } = makeEngine([rate]);
    accepted(engine);
    accepted(engine);
    engine.upsertLimit({ ...rate, per: 'account' });
    expect(engine.checkOrder(order()).decision).toBe('ACCEPT');
  });

  it('keeps the active violations of a limit that stays in the book', () => {
    const { engine } = makeEngine([qty]);
    engine.checkOrder(order({ quantity: 101 }));
    engine.upsertLimit(rate);
    expect(engine.violations.active({ limitId: 'qty' })).toHaveLength(1);
  });

  it('freezes the stored definition', () => {
    const { engine } = makeEngine([qty]);
    expect(Object.isFrozen(engine.book.limits[0]?.definition.thresholds)).toBe(true);
  });
});
