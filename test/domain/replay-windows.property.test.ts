import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LimitEngine } from '../../src/domain/engine.js';
import type { BatchRun, EngineSnapshot } from '../../src/domain/engine.js';
import type { StateEvent } from '../../src/domain/events.js';
import type { Order } from '../../src/domain/orders.js';
import { testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

const LIMITS = [
  { id: 'q', kind: 'order_quantity', thresholds: { hard: 1_000 } },
  { id: 'rate', kind: 'order_rate', per: 'account', windowMs: 1_000, thresholds: { hard: 6 } },
  { id: 'srate', kind: 'order_rate', per: 'strategy', windowMs: 700, thresholds: { hard: 8 } },
  { id: 'dup', kind: 'duplicate_order', per: 'account', windowMs: 800, thresholds: { hard: 3 } },
];
/** Small rings and few keys: saturation and CAPACITY_EXCEEDED come up too. */
const CONFIG = testConfig({ capacity: { ...testConfig().capacity, maxWindowEntries: 10, maxWindowKeys: 6 } });

type Op =
  | { t: 'check'; account: number; quantity: number; isTooBig: boolean }
  | { t: 'start'; n: number; hasTooBig: boolean; slice: number; account: number }
  | { t: 'finish'; which: number }
  | { t: 'abort'; which: number }
  | { t: 'sweep' }
  | { t: 'restart' }
  | { t: 'clock'; ms: number };

/**
 * Checks (some rejected, which count windows but are not journalled), atomic batches in slices,
 * sweeps, restarts from a snapshot of the live state, and a wall clock that steps back as well as on.
 */
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('check' as const), account: fc.nat(2), quantity: fc.integer({ min: 1, max: 3 }), isTooBig: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('start' as const), n: fc.integer({ min: 1, max: 4 }), hasTooBig: fc.boolean(), slice: fc.integer({ min: 1, max: 3 }), account: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('finish' as const), which: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('abort' as const), which: fc.nat() }) },
  { weight: 2, arbitrary: fc.constant({ t: 'sweep' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'restart' as const }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('clock' as const), ms: fc.integer({ min: -1_500, max: 1_500 }) }) },
);

describe('a replay of the journal, window by window', () => {
  it('leaves every window as the live engine has it after every step, restarts included, even when the wall clock steps back', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 80 }), (ops) => {
        let next = 0;
        const anOrder = (account: number, quantity: number): Order => ({ orderId: `o${next++}`, accountId: `A${account}`, strategyId: 'S', symbol: 'X', side: 'BUY', quantity, price: 10, orderType: 'LIMIT' });
        const clock = new FakeClock();
        const journal: StateEvent[] = [];
        const record = (event: StateEvent) => journal.push(JSON.parse(JSON.stringify(event)) as StateEvent);
        let live = new LimitEngine(CONFIG, clock, LIMITS);
        live.recordEventsTo(record);
        const open: BatchRun[] = [];
        for (const op of ops) {
          if (op.t === 'check') live.checkOrder(anOrder(op.account, op.isTooBig ? 5_000 : op.quantity));
          else if (op.t === 'start') {
            const orders = Array.from({ length: op.n }, (_, i) => anOrder(op.account, 1 + (i % 2)));
            if (op.hasTooBig) orders.push(anOrder(op.account, 5_000));
            const run = live.beginBatch(orders, { atomic: true });
            if (!live.advanceBatch(run, op.slice)) open.push(run);
          } else if (op.t === 'finish' && open.length > 0) live.advanceBatch(open.splice(op.which % open.length, 1)[0]!, Number.POSITIVE_INFINITY);
          else if (op.t === 'abort' && open.length > 0) live.abortBatch(open.splice(op.which % open.length, 1)[0]!, 'DEADLINE_EXCEEDED');
          else if (op.t === 'sweep') live.sweep();
          else if (op.t === 'restart' && open.length === 0) {
            // A restart from a snapshot of the live state: it must hold all the journal implies.
            const snapshot = JSON.parse(JSON.stringify(live.captureState())) as EngineSnapshot;
            live = new LimitEngine(CONFIG, clock, LIMITS);
            live.restoreState(snapshot);
            live.recordEventsTo(record);
          }
          else if (op.t === 'clock') {
            clock.wall += op.ms;
            clock.mono += Math.abs(op.ms);
          }
          const replica = new LimitEngine(CONFIG, clock, LIMITS);
          for (const event of journal) replica.replay(event);
          expect(replica.captureState()).toEqual(live.captureState());
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 300) },
    );
  });
});
