import { afterEach, describe, expect, it, vi } from 'vitest';
import { LimitEngine, SWEEP_BUDGET } from '../../src/domain/engine.js';
import { StateEventSchema } from '../../src/domain/events.js';
import type { StateEvent } from '../../src/domain/events.js';
import { TimeRing } from '../../src/domain/time-ring.js';
import { SignatureWindows } from '../../src/domain/signature-windows.js';
import { KeyedWindows } from '../../src/domain/window-store.js';
import type { WindowStore } from '../../src/domain/window-store.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

const stores = (): [string, () => WindowStore][] => [
  ['KeyedWindows', () => new KeyedWindows('account', 10, 1)],
  ['SignatureWindows', () => new SignatureWindows('account', 10, 1)],
];
const keyed = (i: number) => order({ accountId: `ACC-${i}` });
const names = (store: WindowStore) => [...store.entries()].map(([name]) => name.split('|')[0]);

afterEach(() => vi.restoreAllMocks());

describe.each(stores())('%s sweep', (_, make) => {
  it('visits only the keys it drops and the first one still counting, however many it holds', () => {
    const store = make();
    for (let i = 0; i < 3; i++) store.create(keyed(i)).push(i);
    // Still counting at the sweep's time (cutoff 500 of a 1 ms window: 501), not stamped past it.
    for (let i = 3; i < 10_000; i++) store.create(keyed(i)).push(501);
    // SignatureWindows counts an entry's one push in its own columns.
    const visits = store instanceof SignatureWindows ? vi.spyOn(SignatureWindows.prototype, 'countAfter') : vi.spyOn(TimeRing.prototype, 'countAfter');
    expect(store.sweep(500, Number.POSITIVE_INFINITY)).toBe(3);
    expect(visits).toHaveBeenCalledTimes(4);
    expect(store.size).toBe(9_997);
  });

  it('moves rings stamped past the sweep\'s time to the newest end once each, and drops the empty ones behind them', () => {
    const store = make();
    store.create(keyed(1)).push(900);
    store.create(keyed(2)).push(1);
    store.create(keyed(3)).push(950);
    // Sweep time 101 (cutoff 100, a 1 ms window): ACC-1 and ACC-3 are stamped past it, ACC-2 is empty.
    expect(store.sweep(100, Number.POSITIVE_INFINITY)).toBe(1);
    expect(names(store)).toEqual(['ACC-1', 'ACC-3']);
  });

  it('drops at most its budget, oldest push first, and the rest on the next sweeps', () => {
    const store = make();
    for (let i = 0; i < 10; i++) store.create(keyed(i)).push(i);
    expect([store.sweep(100, 4), store.sweep(100, 4), store.sweep(100, 4), store.sweep(100, 4)]).toEqual([4, 4, 2, 0]);
    expect(store.size).toBe(0);
  });

  it('keeps a key pushed again at the newest end: it outlives keys pushed once after it was made', () => {
    const store = make();
    const a = store.create(keyed(1));
    a.push(1);
    store.create(keyed(2)).push(2);
    a.push(3);
    expect(names(store)).toEqual(['ACC-2', 'ACC-1']);
    expect(store.sweep(2.5, 10)).toBe(1);
    expect(names(store)).toEqual(['ACC-1']);
  });

  it('lists keys oldest push first, and a restore of that list sweeps as the original does', () => {
    const store = make();
    const rings = [3, 1, 2].map((i) => store.create(keyed(i)));
    rings[1]!.push(10);
    rings[2]!.push(20);
    rings[0]!.push(30);
    const restored = make();
    for (const [name, ring] of store.entries()) restored.restore(name, ring.toArray());
    expect(names(restored)).toEqual(['ACC-1', 'ACC-2', 'ACC-3']);
    expect([restored.sweep(25, 10), store.sweep(25, 10)]).toEqual([2, 2]);
    expect(names(restored)).toEqual(names(store));
  });
});

describe.each([
  ['KeyedWindows', () => new KeyedWindows('account', 10, 1_000)],
  ['SignatureWindows', () => new SignatureWindows('account', 10, 1_000)],
] as [string, () => WindowStore][])('%s push order, a 1 s window', (_, make) => {
  it('moves a ring on a push only into a later half-window than its newest entry', () => {
    const store = make();
    const a = store.create(keyed(1));
    a.push(100);
    store.create(keyed(2)).push(200);
    a.push(499);
    expect(names(store)).toEqual(['ACC-1', 'ACC-2']);
    a.push(500);
    expect(names(store)).toEqual(['ACC-2', 'ACC-1']);
  });

  it('lets a ring pushed again within its half-window hold the sweep back for that half-window at most', () => {
    const store = make();
    const a = store.create(keyed(1));
    a.push(100);
    store.create(keyed(2)).push(200);
    a.push(450);
    // ACC-2 has run out (window (250, 1250]) but stands behind ACC-1, which still counts.
    expect([store.sweep(1_200 - 1_000, 10), names(store)]).toEqual([0, ['ACC-1', 'ACC-2']]);
    expect([store.sweep(1_450 - 1_000, 10), names(store)]).toEqual([2, []]);
  });
});

describe('engine sweep', () => {
  const dup = { id: 'dup', kind: 'duplicate_order', windowMs: 1_000, thresholds: { hard: 5 } };

  function withKeys(count: number) {
    const clock = new FakeClock();
    const capacity = { ...testConfig().capacity, maxWindowKeys: 3 * SWEEP_BUDGET, maxOpenOrders: 3 * SWEEP_BUDGET };
    const engine = new LimitEngine(testConfig({ capacity }), clock, [dup]);
    const events: StateEvent[] = [];
    engine.recordEventsTo((event) => events.push(StateEventSchema.parse(JSON.parse(JSON.stringify(event)))));
    for (let i = 0; i < count; i++) expect(engine.checkOrder(order({ quantity: i + 1 })).decision).toBe('ACCEPT');
    return { engine, clock, events };
  }

  it('drops at most SWEEP_BUDGET keys a sweep, says more are due, and replay drops the same', () => {
    const { engine, clock, events } = withKeys(SWEEP_BUDGET + 10);
    clock.advance(1_000);
    expect(engine.sweep()).toBe(true);
    const dupWindows = () => engine.book.byId.get('dup')!.windows;
    expect(dupWindows().size).toBe(10);
    const replayed = new LimitEngine(testConfig({ capacity: { ...testConfig().capacity, maxWindowKeys: 3 * SWEEP_BUDGET, maxOpenOrders: 3 * SWEEP_BUDGET } }), clock, [dup]);
    for (const event of events) replayed.replay(event);
    expect(replayed.book.byId.get('dup')!.windows.size).toBe(10);
    expect(replayed.captureState().windows).toEqual(engine.captureState().windows);
    expect(engine.sweep()).toBe(false);
    expect(dupWindows().size).toBe(0);
  });

  it('is not held back by a ring stamped while the wall clock ran ahead: later keys still go, and new ones find room', () => {
    const clock = new FakeClock();
    const capacity = { ...testConfig().capacity, maxWindowKeys: 100, maxOpenOrders: 10_000 };
    const engine = new LimitEngine(testConfig({ capacity }), clock, [dup]);
    const windows = () => engine.book.byId.get('dup')!.windows;
    // The wall clock runs a minute ahead for one order, then NTP steps it back.
    clock.wall += 60_000;
    expect(engine.checkOrder(order({ quantity: 1 })).decision).toBe('ACCEPT');
    clock.wall -= 60_000;
    let quantity = 2;
    for (let second = 0; second < 3; second++) {
      for (let i = 0; i < 99; i++) expect(engine.checkOrder(order({ quantity: quantity++ })).decision).toBe('ACCEPT');
      clock.advance(1_001);
      while (engine.sweep());
      expect(windows().size, `second ${second}`).toBe(1);
    }
  });

  it('journals a sweep that only moved keys stamped while the clock ran ahead, so replay walks them in the same order and drops the same', () => {
    const clock = new FakeClock();
    const long = { ...dup, windowMs: 120_000 };
    const engine = new LimitEngine(testConfig(), clock, [long]);
    const events: StateEvent[] = [];
    engine.recordEventsTo((event) => events.push(StateEventSchema.parse(JSON.parse(JSON.stringify(event)))));
    clock.wall += 60_000;
    expect(engine.checkOrder(order({ quantity: 1 })).decision).toBe('ACCEPT');
    clock.wall -= 60_000;
    expect(engine.checkOrder(order({ quantity: 2 })).decision).toBe('ACCEPT');
    clock.advance(500);
    engine.sweep();
    clock.advance(120_000);
    while (engine.sweep());
    const replayed = new LimitEngine(testConfig(), clock, [long]);
    for (const event of events) replayed.replay(event);
    expect(replayed.captureState().windows).toEqual(engine.captureState().windows);
  });

  it('says nothing more is due when the keys due fit in one sweep', () => {
    const { engine, clock } = withKeys(3);
    clock.advance(999);
    expect(engine.sweep()).toBe(false);
    expect(engine.book.byId.get('dup')!.windows.size).toBe(3);
    clock.advance(1);
    expect(engine.sweep()).toBe(false);
    expect(engine.book.byId.get('dup')!.windows.size).toBe(0);
  });
});
