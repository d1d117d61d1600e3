import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ring } from '../../src/domain/ring.js';
import { TimeRing } from '../../src/domain/time-ring.js';

describe('TimeRing', () => {
  it('counts only entries strictly newer than the cutoff', () => {
    const ring = new TimeRing(100);
    for (const at of [10, 20, 30]) ring.push(at);
    expect([ring.countAfter(9), ring.countAfter(10), ring.countAfter(30)]).toEqual([3, 2, 0]);
  });

  it('grows past its initial storage up to maxEntries without losing entries', () => {
    const ring = new TimeRing(20);
    for (let at = 1; at <= 20; at++) ring.push(at);
    expect([ring.size, ring.countAfter(10)]).toEqual([20, 10]);
  });

  it('overwrites the oldest entry once maxEntries is reached', () => {
    const ring = new TimeRing(3);
    for (let at = 1; at <= 5; at++) ring.push(at);
    expect([ring.size, ring.countAfter(2), ring.countAfter(3)]).toEqual([3, 3, 2]);
  });

  it('removes only the newest entry with the given time on removeNewest', () => {
    const ring = new TimeRing(10);
    for (const at of [1, 2, 2, 3]) ring.push(at);
    ring.removeNewest(2);
    expect(ring.toArray()).toEqual([1, 2, 3]);
    ring.removeNewest(7);
    expect(ring.toArray()).toEqual([1, 2, 3]);
  });

  it('removes across the wrap-around of its storage', () => {
    const ring = new TimeRing(4);
    for (let at = 1; at <= 6; at++) ring.push(at);
    ring.removeNewest(4);
    expect(ring.toArray()).toEqual([3, 5, 6]);
  });

  it('keeps counting correctly after wrapping around its storage', () => {
    const ring = new TimeRing(4);
    for (let at = 1; at <= 4; at++) ring.push(at);
    ring.trim(2);
    ring.push(5);
    ring.push(6);
    expect([ring.size, ring.countAfter(4)]).toEqual([4, 2]);
  });

  it('holds its first entry inline: it expires, is undone, and moves into the buffer in order', () => {
    const ring = new TimeRing(10);
    ring.push(5);
    expect([ring.countAfter(4), ring.countAfter(5), ring.size, ring.trim(5), ring.size]).toEqual([1, 0, 1, 0, 0]);
    ring.push(7);
    ring.removeNewest(6);
    expect(ring.toArray()).toEqual([7]);
    ring.removeNewest(7);
    expect([ring.size, ring.toArray()]).toEqual([0, []]);
    for (const at of [8, 9, 10]) ring.push(at);
    expect([ring.toArray(), ring.countAfter(8)]).toEqual([[8, 9, 10], 2]);
  });

  it('with room for one entry keeps only the newest', () => {
    const ring = new TimeRing(1);
    ring.push(1);
    ring.push(2);
    expect([ring.size, ring.toArray(), ring.countAfter(1)]).toEqual([1, [2], 1]);
  });

  it('counts past the run at the front at or before the cutoff, however little the clock stepped back behind it', () => {
    const ring = new TimeRing(100);
    for (const at of [10, 20, 5, 30]) ring.push(at);
    // What trim would drop is the 10 alone: the 5 behind the 20 still counts.
    expect(ring.countAfter(15)).toBe(3);
    const slightly = new TimeRing(100);
    for (const at of [10, 20, 19, 30]) slightly.push(at);
    expect(slightly.countAfter(19)).toBe(3);
    expect([slightly.trim(19), slightly.toArray()]).toEqual([3, [20, 19, 30]]);
  });

  it('keeps the entries in order after a step back counted as such when undos take entries from them', () => {
    const ring = new TimeRing(100);
    // In order, then the clock steps back from 50 to 5.
    for (const at of [1, 2, 3, 4, 50, 5, 6, 7, 8, 9, 10, 11]) ring.push(at);
    for (const at of [11, 10, 9, 8]) ring.removeNewest(at);
    expect(ring.toArray()).toEqual([1, 2, 3, 4, 50, 5, 6, 7]);
    // The run at the front ends at 50: the 5, 6 and 7 behind it still count.
    expect(ring.countAfter(6.5)).toBe(4);
  });

  describe('the cache of the front run, after the clock stepped back', () => {
    /** Pushed out of order: the first five entries are before the sorted tail, and are scanned. */
    const stepped = (maxEntries = 100, times = [10, 5, 20, 3, 25, 4, 30]) => {
      const ring = new TimeRing(maxEntries);
      for (const at of times) ring.push(at);
      return ring;
    };

    it('goes on from where the last count stopped while the cutoff rises, and scans again when it falls', () => {
      const ring = stepped();
      expect([ring.countAfter(12), ring.knownFrontRun]).toEqual([5, 2]);
      expect([ring.countAfter(22), ring.knownFrontRun]).toEqual([3, 4]);
      expect([ring.countAfter(10), ring.knownFrontRun]).toEqual([5, 2]);
    });

    it('is dropped by a trim: the entries after the run are counted again', () => {
      const ring = stepped();
      expect(ring.countAfter(22)).toBe(3);
      ring.trim(12);
      expect([ring.toArray(), ring.countAfter(22)]).toEqual([[20, 3, 25, 4, 30], 3]);
    });

    it('is dropped by a push that overwrites the oldest entry', () => {
      const ring = stepped(6, [10, 5, 20, 3, 25, 30]);
      expect(ring.countAfter(12)).toBe(4);
      ring.push(40);
      expect([ring.toArray(), ring.countAfter(12)]).toEqual([[5, 20, 3, 25, 30, 40], 5]);
    });

    it('is dropped by an undo that takes an entry out of the run', () => {
      const ring = stepped();
      expect(ring.countAfter(22)).toBe(3);
      ring.removeNewest(5);
      expect([ring.toArray(), ring.countAfter(22)]).toEqual([[10, 20, 3, 25, 4, 30], 3]);
    });

    it('is dropped when the ring is cleared', () => {
      const ring = stepped();
      expect(ring.countAfter(22)).toBe(3);
      ring.clear();
      for (const at of [10, 30, 5, 40, 6, 50]) ring.push(at);
      expect(ring.countAfter(22)).toBe(5);
    });
  });

  it('counts a large ring as a scan of it would, in order (searched) and after the clock stepped back (scanned), across its wrap-around', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -3, max: 20 }), { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 300 }), fc.array(fc.integer({ min: -50, max: 5_000 }), { minLength: 1, maxLength: 20 }), (steps, trimAt, cutoffs) => {
        const ring = new TimeRing(256);
        let model: number[] = [];
        let clock = 1_000;
        steps.forEach((step, i) => {
          clock += step;
          ring.push(clock);
          model.push(clock);
          if (model.length > 256) model.shift();
          if (i === trimAt) {
            const kept = ring.trim(clock - 100);
            const run = model.findIndex((t) => t > clock - 100);
            model = run < 0 ? [] : model.slice(run);
            expect(kept).toBe(model.length);
          }
        });
        for (const cutoff of cutoffs.map((c) => c + model[0]! - 100)) {
          const run = model.findIndex((t) => t > cutoff);
          expect(ring.countAfter(cutoff)).toBe(run < 0 ? 0 : model.length - run);
        }
        expect(ring.toArray()).toEqual(model);
      }),
    );
  });

  it('counts as a scan of the front does under pushes out of order, trims, undos, clears and overwrites at capacity', () => {
    type Op = { op: 'push' | 'trim' | 'undo' | 'clear'; step: number; probe: number };
    const op = fc.record({
      op: fc.constantFrom<Op['op']>('push', 'push', 'push', 'push', 'push', 'push', 'trim', 'trim', 'undo', 'undo', 'clear'),
      step: fc.integer({ min: -40, max: 25 }),
      probe: fc.integer({ min: -5, max: 90 }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 48 }), fc.array(op, { maxLength: 200 }), (maxEntries, ops) => {
        const ring = new TimeRing(maxEntries);
        let model: number[] = [];
        let clock = 1_000;
        let probed = clock;
        const frontRun = (cutoff: number) => {
          const run = model.findIndex((t) => t > cutoff);
          return run < 0 ? model.length : run;
        };
        for (const { op: kind, step, probe } of ops) {
          if (kind === 'push') {
            clock += step;
            ring.push(clock);
            model.push(clock);
            if (model.length > maxEntries) model.shift();
          } else if (kind === 'trim') {
            const cutoff = clock - 50 + step;
            model = model.slice(frontRun(cutoff));
            expect(ring.trim(cutoff)).toBe(model.length);
          } else if (kind === 'clear') {
            ring.clear();
            model = [];
          } else if (model.length > 0) {
            const at = model[Math.abs(step) % model.length]!;
            model.splice(model.lastIndexOf(at), 1);
            ring.removeNewest(at);
          }
          // First a cutoff at or after the one the last op's counts ended with, which meets the
          // cache of the front's run that count left (see TimeRing.frontRun); then every cutoff
          // from below the smallest entry to past the largest; then one anywhere, for the next op.
          const after = probed + (probe % 7);
          expect(ring.countAfter(after)).toBe(model.length - frontRun(after));
          const low = Math.min(...model, clock) - 2;
          const high = Math.max(...model, clock) + 2;
          for (let cutoff = low; cutoff <= high; cutoff += 3) expect(ring.countAfter(cutoff)).toBe(model.length - frontRun(cutoff));
          probed = clock - probe;
          expect(ring.countAfter(probed)).toBe(model.length - frontRun(probed));
        }
        expect(ring.toArray()).toEqual(model);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with a plain array under any sequence of pushes, counts, trims and undos', () => {
    type Op = { op: 'push' | 'expire' | 'undo'; at: number };
    const op = fc.record({ op: fc.constantFrom<Op['op']>('push', 'push', 'expire', 'undo'), at: fc.integer({ min: 0, max: 30 }) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 60, size: 'max' }), (maxEntries, ops) => {
        const ring = new TimeRing(maxEntries);
        let model: number[] = [];
        let clock = 0;
        for (const { op: kind, at } of ops) {
          if (kind === 'push') {
            // Now and then the wall clock steps back: the ring is then out of order until it empties.
            clock += at === 30 ? -7 : at % 3;
            ring.push(clock);
            model.push(clock);
            if (model.length > maxEntries) model.shift();
          } else if (kind === 'expire') {
            const cutoff = clock - at;
            const dropped = model.findIndex((t) => t > cutoff);
            // Counting changes nothing; trimming drops what it did not count.
            expect(ring.countAfter(cutoff)).toBe(dropped < 0 ? 0 : model.length - dropped);
            expect(ring.toArray()).toEqual(model);
            model = dropped < 0 ? [] : model.slice(dropped);
            expect(ring.trim(cutoff)).toBe(model.length);
          } else {
            const index = model.lastIndexOf(clock - (at % 3));
            if (index >= 0) model.splice(index, 1);
            ring.removeNewest(clock - (at % 3));
          }
          expect(ring.toArray()).toEqual(model);
        }
      }),
    );
  });
});

describe('Ring', () => {
  it('returns the dropped oldest item when pushing into a full ring', () => {
    const ring = new Ring<number>(2);
    ring.push(1);
    ring.push(2);
    expect(ring.push(3)).toBe(1);
    expect([ring.at(0), ring.at(1), ring.length]).toEqual([2, 3, 2]);
  });

  it('shifts items oldest first', () => {
    const ring = new Ring<string>(40);
    for (let i = 0; i < 20; i++) ring.push(`i${i}`);
    expect([ring.shift(), ring.peekOldest(), ring.length]).toEqual(['i0', 'i1', 19]);
  });
});
