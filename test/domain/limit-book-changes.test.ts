import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CompiledLimit } from '../../src/domain/compiled-limit.js';
import { LimitBookError } from '../../src/domain/index.js';
import type { LimitBook } from '../../src/domain/limit-book.js';
import { SupersededBookError } from '../../src/domain/limit-book.js';
import { LimitDefinitionSchema } from '../../src/domain/limit-definition.js';
import type { Order } from '../../src/domain/orders.js';
import { firmExposure, strategyExposure } from '../support/engine-actions.js';
import { makeEngine, order, testConfig } from '../support/engine-fixtures.js';

/** FC_SEED replays one run (fast-check prints the seed of a failure) or varies long runs. */
const SEED = process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) };

const qty = (id: string, scope?: object) => ({ id, kind: 'order_quantity', ...(scope === undefined ? {} : { scope }), thresholds: { hard: 100 } });
const BOOK = [qty('all'), qty('acc', { accounts: ['ACC-1'] }), qty('sym', { symbols: ['AAPL'] }), qty('venue', { venues: ['XNYS'] })];

afterEach(() => {
  vi.restoreAllMocks();
});

/** The limits of a book by id, as instances. */
const instances = (book: LimitBook): Map<string, CompiledLimit> => new Map(book.byId);

describe('limit book: a change of one limit', () => {
  it('keeps every other limit the same instance on upsert, and compiles a new one for the limit changed', () => {
    const { engine } = makeEngine(BOOK);
    const before = instances(engine.book);
    engine.upsertLimit({ ...qty('acc', { accounts: ['ACC-2'] }), thresholds: { hard: 5 } });
    for (const id of ['all', 'sym', 'venue']) expect(engine.book.byId.get(id)).toBe(before.get(id));
    expect(engine.book.byId.get('acc')).not.toBe(before.get('acc'));
    expect(engine.book.byId.get('acc')?.hard).toBe(5);
  });

  it('keeps every other limit the same instance on delete', () => {
    const { engine } = makeEngine(BOOK);
    const before = instances(engine.book);
    engine.deleteLimit('sym');
    expect([...engine.book.byId.keys()]).toEqual(['all', 'acc', 'venue']);
    for (const id of ['all', 'acc', 'venue']) expect(engine.book.byId.get(id)).toBe(before.get(id));
  });

  it('validates only the definition given: one schema parse per upsert, none per delete, whatever the book holds', () => {
    const many = Array.from({ length: 500 }, (_, i) => qty(`q-${i}`, { accounts: [`ACC-${i}`] }));
    const { engine } = makeEngine(many);
    const parse = vi.spyOn(LimitDefinitionSchema, 'safeParse');
    engine.upsertLimit(qty('q-7', { symbols: ['AAPL'] }));
    engine.upsertLimit(qty('new'));
    expect(parse).toHaveBeenCalledTimes(2);
    engine.deleteLimit('q-9');
    expect(parse).toHaveBeenCalledTimes(2);
  });

  it('supersedes the book it changed: a reader holding it is refused rather than shown another version', () => {
    const { engine } = makeEngine(BOOK);
    const old = engine.book;
    engine.upsertLimit(qty('new'));
    expect(old.version).toBe(1);
    expect(() => old.byId).toThrow(SupersededBookError);
    expect(() => old.collectApplicable(order(), [])).toThrow(SupersededBookError);
    expect(engine.book.version).toBe(2);
  });

  it('leaves the book current and unchanged when the definition does not compile', () => {
    const rate = { id: 'rate', kind: 'order_rate', windowMs: 1_000, scope: { accounts: ['ACC-1'] }, thresholds: { hard: 2 } };
    const { engine } = makeEngine([...BOOK, rate], { capacity: { ...testConfig().capacity, maxWindowEntries: 10 } });
    const book = engine.book;
    const before = applicable(book, order());
    expect(() => engine.upsertLimit({ ...rate, scope: undefined, thresholds: { hard: 9 } })).toThrow(LimitBookError);
    expect(() => engine.upsertLimit({ ...rate, id: 'new', thresholds: { hard: 9 } })).toThrow(LimitBookError);
    expect(engine.book).toBe(book);
    expect(book.definitions).toEqual([...BOOK, rate]);
    expect(applicable(book, order())).toEqual(before);
  });

  it("names the limit's place in the book in an error: its own when it exists, the end when it is new", () => {
    const { engine } = makeEngine(BOOK);
    const pathOf = (definition: unknown): unknown => {
      try {
        engine.upsertLimit(definition);
      } catch (error) {
        return (error as LimitBookError).path;
      }
      return undefined;
    };
    expect(pathOf({ ...qty('sym'), thresholds: { soft: 200, hard: 100 } })).toEqual([2, 'thresholds', 'hard']);
    expect(pathOf({ ...qty('other'), thresholds: { soft: 200, hard: 100 } })).toEqual([4, 'thresholds', 'hard']);
  });

  it('reports violations in book order after changes: a replaced limit keeps its place, a new one goes last', () => {
    const { engine } = makeEngine([qty('a', { accounts: ['ACC-1'] }), qty('b'), qty('c', { symbols: ['AAPL'] })]);
    engine.deleteLimit('b');
    engine.upsertLimit(qty('b', { accounts: ['ACC-1'] }));
    engine.upsertLimit({ ...qty('a'), thresholds: { hard: 50 } });
    expect(engine.checkOrder(order({ quantity: 500 })).violations.map((v) => v.limitId)).toEqual(['a', 'c', 'b']);
  });

  it('tracks open orders for a self_trade limit added or removed one at a time', () => {
    const { engine } = makeEngine([]);
    const selfTrade = { id: 'st', kind: 'self_trade', per: 'symbol', thresholds: { hard: 0 } };
    engine.upsertLimit(selfTrade);
    expect(engine.book.selfTradeLevels).toEqual({ strategy: false, firm: true });
    engine.upsertLimit({ ...selfTrade, per: 'strategy+symbol' });
    expect(engine.book.selfTradeLevels).toEqual({ strategy: true, firm: false });
    engine.upsertLimit({ ...selfTrade, enabled: false });
    expect(engine.book.selfTradeLevels).toEqual({ strategy: false, firm: false });
    engine.upsertLimit({ ...selfTrade, id: 'st2' });
    engine.deleteLimit('st2');
    expect(engine.book.selfTradeLevels).toEqual({ strategy: false, firm: false });
  });

  it('sees, once a firm-wide self_trade limit is added one at a time, the orders that were open before it', () => {
    const { engine } = makeEngine([]);
    expect(engine.checkOrder(order({ orderId: 'rests', accountId: 'ACC-1', side: 'SELL', price: 100 })).decision).toBe('ACCEPT');
    engine.upsertLimit({ id: 'st', kind: 'self_trade', per: 'symbol', thresholds: { hard: 0 } });
    // Another account of the firm buying at the resting sell's price crosses it.
    expect(engine.checkOrder(order({ orderId: 'crosses', accountId: 'ACC-2', side: 'BUY', price: 100 })).reasons).toEqual(['LIMIT_BREACH']);
  });
});

const ACCOUNTS = ['ACC-1', 'ACC-2', 'ACC-3'];
const STRATEGIES = ['S-1', 'S-2'];
const SYMBOLS = ['AAPL', 'MSFT', 'IBM'];
const VENUES = ['XNYS', 'XNAS'];
const IDS = ['L0', 'L1', 'L2', 'L3', 'L4', 'L5', 'L6', 'L7'];

const listOf = (values: string[]) => fc.option(fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: values.length }), { nil: undefined });
const scopeArb = fc.record({ accounts: listOf(ACCOUNTS), strategies: listOf(STRATEGIES), symbols: listOf(SYMBOLS), venues: listOf(VENUES) }).map((scope) =>
  Object.fromEntries(Object.entries(scope).filter(([, list]) => list !== undefined)),
);
const limitArb = fc.record({
  id: fc.constantFrom(...IDS),
  kind: fc.constantFrom('order_quantity', 'self_trade', 'value'),
  per: fc.constantFrom('symbol', 'strategy+symbol', 'account+symbol'),
  scope: scopeArb,
  enabled: fc.boolean(),
  hard: fc.integer({ min: 0, max: 10 }),
});
type GeneratedLimit = typeof limitArb extends fc.Arbitrary<infer T> ? T : never;
const changeArb = fc.oneof(
  limitArb.map((limit) => ({ op: 'upsert' as const, limit })),
  fc.constantFrom(...IDS).map((id) => ({ op: 'delete' as const, id })),
);
const orderArb: fc.Arbitrary<Order> = fc
  .record({ accountId: fc.constantFrom(...ACCOUNTS), strategyId: fc.constantFrom(...STRATEGIES), symbol: fc.constantFrom(...SYMBOLS), venue: fc.option(fc.constantFrom(...VENUES), { nil: undefined }) })
  .map((fields) => order(fields));

/** What the book answers for an order: the limits, in the order it lists them and in ordinal (breach) order. */
function applicable(book: LimitBook, o: Order): { listed: string[]; byOrdinal: string[] } {
  const out: CompiledLimit[] = [];
  const found = out.slice(0, book.collectApplicable(o, out));
  return { listed: found.map((l) => l.id), byOrdinal: [...found].sort((a, b) => a.ordinal - b.ordinal).map((l) => l.id) };
}

describe('limit book: changed one limit at a time, it answers as the same book compiled whole', () => {
  it('lists the same limits in the same order for every order, in the same book order, tracking the same self_trade levels', () => {
    fc.assert(
      fc.property(fc.array(limitArb, { maxLength: 6 }), fc.array(changeArb, { minLength: 1, maxLength: 25 }), fc.array(orderArb, { minLength: 20, maxLength: 20 }), (initial, changes, orders) => {
        const unique = [...new Map(initial.map((l) => [l.id, l])).values()];
        const { engine } = makeEngine(unique.map(definitionOf));
        for (const change of changes) {
          if (change.op === 'upsert') engine.upsertLimit(definitionOf(change.limit));
          else if (engine.book.byId.has(change.id)) engine.deleteLimit(change.id);
          const whole = makeEngine(engine.book.definitions).engine.book;
          expect([...engine.book.byId.keys()]).toEqual([...whole.byId.keys()]);
          expect(engine.book.selfTradeLevels).toEqual(whole.selfTradeLevels);
          for (const o of orders) expect(applicable(engine.book, o)).toEqual(applicable(whole, o));
        }
      }),
      { numRuns: 150, ...SEED },
    );
  });
});

/** A valid definition from the generated fields: position and self_trade add up per symbol level. */
function definitionOf(limit: GeneratedLimit): object {
  const per = limit.kind === 'order_quantity' ? {} : { per: limit.per };
  return { id: limit.id, kind: limit.kind, ...per, scope: limit.scope, enabled: limit.enabled, thresholds: { hard: limit.hard } };
}

describe('linking open orders ahead of a self_trade limit (prepareTracking)', () => {
  it.each([
    { per: 'symbol', linked: { strategy: false, firm: true } },
    { per: 'strategy+symbol', linked: { strategy: true, firm: false } },
  ] as const)('links the open orders at the level a limit per $per reads, and only there', ({ per, linked }) => {
    const { engine } = makeEngine([]);
    engine.checkOrder(order({ orderId: 'resting', side: 'SELL', quantity: 1, price: 200 }));
    expect(engine.prepareTracking([{ id: 'st', kind: 'self_trade', per, thresholds: { hard: 0 } }])).toBe(true);
    while (engine.trackSome(1));
    expect({ strategy: strategyExposure(engine)!.hasOrders, firm: firmExposure(engine)!.hasOrders }).toEqual(linked);
  });

  it('links nothing for a disabled self_trade limit, or another kind', () => {
    const { engine } = makeEngine([]);
    engine.checkOrder(order({ orderId: 'resting', side: 'SELL', quantity: 1, price: 200 }));
    expect(engine.prepareTracking([{ id: 'st', kind: 'self_trade', per: 'symbol', enabled: false, thresholds: { hard: 0 } }, { id: 'q', kind: 'order_quantity', thresholds: { hard: 100 } }])).toBe(false);
    expect(firmExposure(engine)!.hasOrders).toBe(false);
  });
});
