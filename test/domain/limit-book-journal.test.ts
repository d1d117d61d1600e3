import { describe, expect, it } from 'vitest';
import type { EngineSnapshot } from '../../src/domain/engine.js';
import { LimitEngine } from '../../src/domain/engine.js';
import { StateEventSchema } from '../../src/domain/events.js';
import type { StateEvent } from '../../src/domain/events.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

const qty = (id: string, scope?: object, hard = 100) => ({ id, kind: 'order_quantity', ...(scope === undefined ? {} : { scope }), thresholds: { hard } });
const rate = { id: 'rate', kind: 'order_rate', windowMs: 10_000, thresholds: { hard: 50 } };
const BOOK = [qty('a', { accounts: ['ACC-1'] }), qty('b'), rate, qty('c', { symbols: ['AAPL'] })];

/** A live engine whose events go through JSON and the schema, as a journal keeps them. */
function recorded(limits: readonly unknown[]) {
  const clock = new FakeClock();
  const engine = new LimitEngine(testConfig(), clock, limits);
  const events: StateEvent[] = [];
  engine.recordEventsTo((event) => events.push(StateEventSchema.parse(JSON.parse(JSON.stringify(event)))));
  return { engine, clock, events };
}

function replayed(limits: readonly unknown[], events: readonly StateEvent[], clock: FakeClock, snapshot?: EngineSnapshot): LimitEngine {
  const engine = new LimitEngine(testConfig(), clock, limits);
  if (snapshot !== undefined) engine.restoreState(snapshot);
  for (const event of events) engine.replay(event);
  return engine;
}

const digest = (engine: LimitEngine): string => JSON.stringify(engine.captureState());

/** Orders between book changes, so windows and violations carry state across them. */
function trade(engine: LimitEngine, clock: FakeClock, quantity: number): void {
  clock.advance(10);
  engine.checkOrder(order({ quantity }));
}

/** Changes one limit at a time, trading in between: a limit replaced, deleted, added back (last), disabled. */
function changeBook(engine: LimitEngine, clock: FakeClock): void {
  trade(engine, clock, 500);
  engine.upsertLimit(qty('a', { accounts: ['ACC-1'] }, 300));
  trade(engine, clock, 400);
  engine.deleteLimit('b');
  trade(engine, clock, 400);
  engine.upsertLimit(qty('b', { accounts: ['ACC-1'] }, 10));
  trade(engine, clock, 50);
  engine.upsertLimit({ ...qty('c', { symbols: ['AAPL'] }), enabled: false });
  trade(engine, clock, 500);
  engine.upsertLimit(qty('d'));
}

describe('limit book journal: a change of one limit', () => {
  it('is journalled as one record holding that limit, not the book', () => {
    const many = Array.from({ length: 1_000 }, (_, i) => qty(`q-${i}`, { accounts: [`X-${i}`] }));
    const { engine, events } = recorded(many);
    engine.upsertLimit(qty('q-5', undefined, 7));
    engine.deleteLimit('q-9');
    expect(events).toEqual([
      { type: 'limit_upserted', at: expect.any(Number) as number, version: 2, limit: qty('q-5', undefined, 7) },
      { type: 'limit_deleted', at: expect.any(Number) as number, version: 3, limitId: 'q-9' },
    ]);
  });

  it('replays to the live state: book order, version, windows, violations and history', () => {
    const { engine, clock, events } = recorded(BOOK);
    changeBook(engine, clock);
    expect(events.some((e) => e.type === 'book')).toBe(false);
    expect(digest(replayed(BOOK, events, clock))).toBe(digest(engine));
  });

  it('replays after a snapshot taken between changes to the live state, and both report breaches in the same order', () => {
    const { engine, clock, events } = recorded(BOOK);
    engine.deleteLimit('a');
    engine.upsertLimit(qty('a', { accounts: ['ACC-1'] }));
    const snapshot = JSON.parse(JSON.stringify(engine.captureState())) as EngineSnapshot;
    const seen = events.length;
    changeBook(engine, clock);
    const recovered = replayed([], events.slice(seen), clock, snapshot);
    expect(digest(recovered)).toBe(digest(engine));
    const next = order({ quantity: 10_000 });
    const breaches = (e: LimitEngine) => e.checkOrder({ ...next }).violations.map((v) => v.limitId);
    const live = breaches(engine);
    expect(live).toEqual(['a', 'b', 'd']);
    expect(breaches(recovered)).toEqual(live);
  });

  it('still replays a journal that recorded every change as the whole book, to the same state', () => {
    const { engine, clock, events } = recorded(BOOK);
    changeBook(engine, clock);
    const wholeBooks: StateEvent[] = [];
    const shadow = new LimitEngine(testConfig(), clock, BOOK);
    for (const event of events) {
      shadow.replay(event);
      if (event.type === 'limit_upserted' || event.type === 'limit_deleted') {
        wholeBooks.push({ type: 'book', at: event.at, version: event.version, limits: shadow.book.definitions });
      } else {
        wholeBooks.push(event);
      }
    }
    expect(digest(replayed(BOOK, wholeBooks, clock))).toBe(digest(engine));
  });
});
