import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LimitEngine } from '../../src/domain/engine.js';
import type { BatchRun, EngineSnapshot } from '../../src/domain/engine.js';
import type { StateEvent } from '../../src/domain/events.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

const Q = { id: 'q', kind: 'order_quantity', thresholds: { hard: 1_000 } };
const rate = (windowMs: number, hard = 5_000) => ({ id: 'rate', kind: 'order_rate', per: 'strategy', windowMs, thresholds: { hard } });
type Op =
  | { t: 'start'; n: number; bad: boolean }
  | { t: 'finish'; which: number }
  | { t: 'other'; n: number }
  | { t: 'upsertSame' } | { t: 'upsertOther' } | { t: 'deleteReadd' } | { t: 'delete' } | { t: 'readd' }
  | { t: 'replaceSame' } | { t: 'replaceOther' } | { t: 'replaceWithout' }
  | { t: 'advance'; ms: number } | { t: 'restart' } | { t: 'reset' };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('start' as const), n: fc.integer({ min: 1, max: 3 }), bad: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('finish' as const), which: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('other' as const), n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.constantFrom(...(['upsertSame', 'upsertOther', 'deleteReadd', 'delete', 'readd', 'replaceSame', 'replaceOther', 'replaceWithout'] as const).map((t) => ({ t }))) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.constantFrom(0, 0, 1, 10, 40_000) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'restart' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reset' as const }) },
);

/**
 * Atomic batches checked in slices while the rate limit is kept, redefined, deleted and added
 * again, the book replaced, the session reset and the service restarted, against a model of the
 * orders that stand: the window holds exactly theirs, live, after a replay of the journal from
 * any snapshot, and after a crash that takes back the batches left open.
 */
describe('atomic batch take-back against a model (property)', () => {
  it('leaves in the window exactly the entries of orders that stand; replay and recovery agree', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 60, size: 'max' }), (ops) => {
        const config = testConfig();
        const clock = new FakeClock();
        let windowMs = 60_000;
        let live = new LimitEngine(config, clock, [Q, rate(windowMs)]);
        const journal: StateEvent[] = [];
        const attach = (e: LimitEngine) => e.recordEventsTo((ev) => journal.push(JSON.parse(JSON.stringify(ev)) as StateEvent));
        attach(live);
        const base = { json: JSON.stringify(live.captureState()), events: 0 };
        // model: entries of the current store
        let entries: { id: string; t: number; batch?: BatchRun }[] = [];
        let runs: { run: BatchRun; ids: string[] }[] = [];
        const log: string[] = [];
        const bookHas = () => live.book.byId.has('rate');
        const snaps: { json: string; events: number }[] = [];
        for (const op of ops) {
          log.push(JSON.stringify(op));
          switch (op.t) {
            case 'start': {
              const orders = Array.from({ length: op.n }, () => order({ quantity: 10 }));
              const all = op.bad ? [...orders, order({ quantity: 5_000 })] : orders;
              const run = live.beginBatch(all, { atomic: true });
              const done = live.advanceBatch(run, op.n);
              if (bookHas()) for (const o of orders) entries.push({ id: o.orderId, t: clock.now(), batch: done ? undefined : run });
              if (!done) runs.push({ run, ids: orders.map((o) => o.orderId) });
              break;
            }
            case 'finish': {
              if (runs.length === 0) break;
              const { run } = runs.splice(op.which % runs.length, 1)[0]!;
              live.advanceBatch(run, Number.POSITIVE_INFINITY);
              if (run.result.summary.accepted === 0) entries = entries.filter((e) => e.batch !== run);
              break;
            }
            case 'other':
              for (let i = 0; i < op.n; i++) {
                const o = order({ quantity: 10 });
                expect(live.checkOrder(o).decision).toBe('ACCEPT');
                if (bookHas()) entries.push({ id: o.orderId, t: clock.now() });
              }
              break;
            case 'upsertSame': if (bookHas()) live.upsertLimit(rate(windowMs, 5_000 + (journal.length % 10))); break;
            case 'upsertOther': windowMs = windowMs === 60_000 ? 30_000 : 60_000; live.upsertLimit(rate(windowMs)); entries = []; break;
            case 'deleteReadd': if (bookHas()) live.deleteLimit('rate'); live.upsertLimit(rate(windowMs)); entries = []; break;
            case 'delete': if (bookHas()) live.deleteLimit('rate'); entries = []; break;
            case 'readd': if (!bookHas()) { live.upsertLimit(rate(windowMs)); entries = []; } break;
            case 'replaceSame': if (bookHas()) live.replaceLimits([Q, rate(windowMs)]); else { live.replaceLimits([Q, rate(windowMs)]); entries = []; } break;
            case 'replaceOther': windowMs = windowMs === 60_000 ? 30_000 : 60_000; live.replaceLimits([Q, rate(windowMs)]); entries = []; break;
            case 'replaceWithout': live.replaceLimits([Q]); entries = []; break;
            case 'advance': clock.advance(op.ms); break;
            case 'reset': live.resetSession(); entries = []; break;
            case 'restart': {
              const snap = JSON.parse(JSON.stringify(live.captureState())) as EngineSnapshot;
              const next = new LimitEngine(config, clock, []);
              next.restoreState(snap);
              attach(next);
              live.recordEventsTo(undefined);
              next.abandonOpenBatches();
              live = next;
              for (const { run } of runs) entries = entries.filter((e) => e.batch !== run);
              runs = [];
              break;
            }
          }
          // semantic check
          const limit = live.book.byId.get('rate');
          if (limit !== undefined) {
            const cutoff = clock.now() - limit.windowMs;
            const ring = limit.windows.find(order({}));
            const have = (ring?.toArray() ?? []).filter((t) => t > cutoff).length;
            const want = entries.filter((e) => e.t > cutoff).length;
            if (have !== want) throw new Error(`window ${have} vs model ${want}\n${log.join('\n')}`);
          }
          // replay check
          const replica = new LimitEngine(config, clock, []);
          replica.restoreState(JSON.parse(base.json) as EngineSnapshot);
          for (const e of journal.slice(base.events)) replica.replay(e);
          const a = JSON.stringify(live.captureState());
          const b = JSON.stringify(replica.captureState());
          if (a !== b) throw new Error(`replay differs\n${log.join('\n')}`);
          snaps.push({ json: a, events: journal.length });
          const mid = snaps[Math.floor(snaps.length / 2)]!;
          const r2 = new LimitEngine(config, clock, []);
          r2.restoreState(JSON.parse(mid.json) as EngineSnapshot);
          for (const e of journal.slice(mid.events)) r2.replay(e);
          if (JSON.stringify(r2.captureState()) !== a) throw new Error(`mid-snapshot replay differs\n${log.join('\n')}`);
          // and a crash now: abandon open batches in a recovered engine; the window must equal the model minus open batches
          const r3 = new LimitEngine(config, clock, []);
          r3.restoreState(JSON.parse(mid.json) as EngineSnapshot);
          for (const e of journal.slice(mid.events)) r3.replay(e);
          r3.abandonOpenBatches();
          const l3 = r3.book.byId.get('rate');
          if (l3 !== undefined) {
            const cutoff = clock.now() - l3.windowMs;
            const have = (l3.windows.find(order({}))?.toArray() ?? []).filter((t) => t > cutoff).length;
            const openRuns = new Set(runs.map((r) => r.run));
            const want = entries.filter((e) => e.t > cutoff && (e.batch === undefined || !openRuns.has(e.batch))).length;
            if (have !== want) throw new Error(`crash recovery window ${have} vs ${want}\n${log.join('\n')}`);
          }
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 300) },
    );
  }, 600_000);
});
