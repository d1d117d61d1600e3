import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ViolationBook } from '../../src/domain/violation-book.js';
import type { ViolationNotice } from '../../src/domain/violation-book.js';

const LIMITS = ['A', 'B', 'C'];
type Op =
  | { t: 'rec'; l: string; k: number }
  | { t: 'bulk'; l: string; n: number }
  | { t: 'res'; l: string; k: number }
  | { t: 'end'; l: string }
  | { t: 'forget'; l: string }
  | { t: 'drain'; n: number }
  | { t: 'rewind' }
  | { t: 'save' }
  | { t: 'pstep'; size: number }
  | { t: 'page'; size: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('rec' as const), l: fc.constantFrom(...LIMITS), k: fc.integer({ min: 0, max: 1500 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('bulk' as const), l: fc.constantFrom(...LIMITS), n: fc.integer({ min: 1, max: 1400 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('res' as const), l: fc.constantFrom(...LIMITS), k: fc.integer({ min: 0, max: 1500 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('end' as const), l: fc.constantFrom(...LIMITS) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('forget' as const), l: fc.constantFrom(...LIMITS) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drain' as const), n: fc.integer({ min: 1, max: 1500 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'rewind' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'save' as const }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('pstep' as const), size: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('page' as const), size: fc.integer({ min: 1, max: 700 }) }) },
);

/**
 * Random sequences of breaches, resolutions, limits ending their violations (resolveAllOf,
 * forgetLimit), bounded drains, eviction at capacity, rollbacks (handOver, restore, takeOver)
 * and cursor paging, against a model: the live violations in recency order, the ended ones a
 * subscriber has yet to hear of. Counts, reads, snapshots and paging must match it; a
 * subscriber must hear each violation resolved exactly once.
 */
describe('violation book against a model (property)', () => {
  it('keeps reads, counts, snapshots, pages and what subscribers hear consistent', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 10, maxLength: 60 }), fc.integer({ min: 50, max: 3000 }), (ops, maxActive) => {
        const book = new ViolationBook({ historyCapacity: 10, retentionMs: 1_000_000, maxActive, maxSubscribers: 4 });
        // subscriber view: id -> state
        const view = new Map<string, 'active' | 'resolved'>();
        const errors: string[] = [];
        book.subscribe((n: ViolationNotice) => {
          if (n.type === 'violation') view.set(n.event.violationId, 'active');
          else {
            const id = n.violation.violationId;
            if (view.get(id) !== 'active') errors.push(`resolved ${id} when ${view.get(id)}`);
            view.set(id, 'resolved');
          }
        });
        // model: live by L|K -> id, in recency order (Map insertion order, re-insert on touch)
        const live = new Map<string, string>();
        let pending = new Set<string>();
        let saved: { disk: ReturnType<ViolationBook['capture']>; live: Map<string, string> } | undefined;
        let at = 1;
        let paging: { cursor: number | undefined; seen: Set<string>; start: Set<string> } | undefined;
        const disturbed = new Set<string>();
        const rec = (l: string, k: number) => {
          const lk = `${l}|k${k}`;
          const before = book.evictedActive;
          const liveBefore = live.size;
          const ev = book.record({ limitId: l, kind: 'value', key: `k${k}`, severity: 'HARD_BREACH', action: 'BLOCK', value: 1, threshold: 0, orderId: undefined, message: 'm' }, at);
          if (live.has(lk)) {
            disturbed.add(live.get(lk)!);
            live.delete(lk);
          } else if (book.evictedActive !== before) {
            if (liveBefore < maxActive) errors.push('evicted while room');
            const oldest = live.keys().next().value!;
            disturbed.add(live.get(oldest)!);
            live.delete(oldest);
          } else if (liveBefore >= maxActive) errors.push('no eviction when full');
          live.set(lk, ev.violationId);
        };
        for (const op of ops) {
          at++;
          switch (op.t) {
            case 'rec': rec(op.l, op.k); break;
            case 'bulk': for (let i = 0; i < op.n; i++) rec(op.l, i); break;
            case 'res': {
              const lk = `${op.l}|k${op.k}`;
              const ok = book.resolve(op.l, `k${op.k}`, at);
              if (ok !== live.has(lk)) errors.push('resolve mismatch');
              if (live.has(lk)) disturbed.add(live.get(lk)!);
              live.delete(lk);
              break;
            }
            case 'end':
            case 'forget': {
              for (const [lk, id] of [...live]) if (lk.startsWith(op.l + '|')) { live.delete(lk); pending.add(id); disturbed.add(id); }
              if (op.t === 'end') book.resolveAllOf(op.l, at); else book.forgetLimit(op.l, at);
              break;
            }
            case 'drain': book.drainEnded(op.n); break;
            case 'pstep': {
              if (paging === undefined) { paging = { cursor: undefined, seen: new Set(), start: new Set(live.values()) }; disturbed.clear(); }
              const p = book.activePage({ pageSize: op.size, cursor: paging.cursor });
              const liveIds = new Set(live.values());
              for (const v of p.items) {
                if (!liveIds.has(v.violationId)) errors.push('page shows non-live');
                if (paging.seen.has(v.violationId)) errors.push('page repeats');
                paging.seen.add(v.violationId);
              }
              if (p.nextCursor === undefined) {
                for (const id of paging.start) if (!disturbed.has(id) && !paging.seen.has(id)) errors.push(`page skipped ${id}`);
                paging = undefined;
              } else paging.cursor = p.nextCursor;
              break;
            }
            case 'save': saved = { disk: structuredClone(book.capture()), live: new Map(live) }; break;
            case 'rewind': {
              const disk = saved?.disk ?? book.capture();
              if (saved !== undefined) { live.clear(); for (const [a, b] of saved.live) live.set(a, b); }
              const told = book.handOver();
              book.restore(structuredClone(disk));
              book.takeOver(told, at);
              pending = new Set();
              paging = undefined;
              break;
            }
            case 'page': {
              const ids: string[] = [];
              let cursor: number | undefined;
              for (let guard = 0; guard < 10_000; guard++) {
                const p = book.activePage({ pageSize: op.size, cursor });
                ids.push(...p.items.map((v) => v.violationId));
                if (p.nextCursor === undefined) break;
                if (p.items.length !== op.size) errors.push('short page with cursor');
                cursor = p.nextCursor;
              }
              const want = [...live.values()].reverse();
              if (JSON.stringify(ids) !== JSON.stringify(want)) errors.push('paging mismatch');
              break;
            }
          }
          // drop pending that view resolved
          for (const id of [...pending]) if (view.get(id) === 'resolved') pending.delete(id);
          if (book.activeCount !== live.size) errors.push(`activeCount ${book.activeCount} vs ${live.size} after ${op.t}`);
          if (book.endingCount !== pending.size) errors.push(`endingCount ${book.endingCount} vs ${pending.size} after ${op.t}`);
          const activeIds = book.active({}).map((v) => v.violationId);
          if (JSON.stringify(activeIds) !== JSON.stringify([...live.values()].reverse())) errors.push(`active mismatch after ${op.t}`);
          const cap = book.capture().active.map((v) => v.violationId);
          if (JSON.stringify(cap) !== JSON.stringify([...live.values()])) errors.push(`capture mismatch after ${op.t}`);
          const viewActive = [...view].filter(([, s]) => s === 'active').map(([id]) => id).sort();
          const want = [...live.values(), ...pending].sort();
          if (JSON.stringify(viewActive) !== JSON.stringify(want)) errors.push(`view mismatch after ${op.t}: ${viewActive.length} vs ${want.length}`);
          if (errors.length > 0) break;
        }
        book.drainEnded(Number.POSITIVE_INFINITY);
        const viewActive = [...view].filter(([, s]) => s === 'active').length;
        if (viewActive !== live.size) errors.push(`final view ${viewActive} vs ${live.size}`);
        expect(errors).toEqual([]);
      }),
      { numRuns: Number(process.env.RUNS ?? 300) },
    );
  });
});
