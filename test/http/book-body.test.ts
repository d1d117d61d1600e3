import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { BookBodies, bodyOf } from '../../src/http/book-body.js';
import type { LimitDefinition } from '../../src/domain/limit-definition.js';
import { makeEngine } from '../support/engine-fixtures.js';

const limit = (id: string, hard: number): LimitDefinition => ({ id, kind: 'order_quantity', name: `Ünïcode "${id}"`, thresholds: { hard } });

type Change = { op: 'put'; at: number; hard: number } | { op: 'post'; hard: number } | { op: 'delete'; at: number } | { op: 'replace'; keep: number };

const changeArb: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ op: fc.constant('put' as const), at: fc.nat(), hard: fc.integer({ min: 1, max: 1e6 }) }),
  fc.record({ op: fc.constant('post' as const), hard: fc.integer({ min: 1, max: 1e6 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), keep: fc.nat() }),
);

const immediately = (): Promise<void> => Promise.resolve();

describe('GET /v1/limits bodies made from the last one', () => {
  afterEach(() => vi.restoreAllMocks());

  it('are byte for byte the body made afresh, through any changes of the book, whole or in slices of any size', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 12 }), fc.array(changeArb, { maxLength: 25 }), fc.constantFrom(1, 40, 300, 1 << 20), async (size, changes, slice) => {
        const { engine } = makeEngine(Array.from({ length: size }, (_, i) => limit(`L${i}`, i + 1)));
        const bodies = new BookBodies(immediately, slice);
        let next = size;
        const check = async () => {
          const body = await bodies.of(engine.book);
          expect(body.equals(bodyOf(engine.book).bytes)).toBe(true);
          expect(JSON.parse(body.toString('utf8'))).toEqual({ version: engine.book.version, limits: engine.book.definitions });
        };
        await check();
        for (const change of changes) {
          const ids = engine.book.definitions.map((d) => d.id);
          if (change.op === 'post') engine.upsertLimit(limit(`L${next++}`, change.hard));
          else if (change.op === 'replace') engine.replaceLimits(engine.book.definitions.filter((_, i) => i % (change.keep + 2) !== 0).reverse());
          else if (ids.length === 0) continue;
          else if (change.op === 'put') engine.upsertLimit(limit(ids[change.at % ids.length]!, change.hard));
          else engine.deleteLimit(ids[change.at % ids.length]!);
          await check();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('copies the limits a change left alone in runs, writing only the changed one', () => {
    const { engine } = makeEngine(Array.from({ length: 1_000 }, (_, i) => limit(`L${i}`, i + 1)));
    const bodies = new BookBodies();
    // Under a slice (1 MB), a body is made at once.
    expect(bodies.of(engine.book)).toBeInstanceOf(Buffer);
    engine.upsertLimit(limit('L500', 7));
    const write = vi.spyOn(Buffer.prototype, 'write');
    const copy = vi.spyOn(Buffer.prototype, 'copy');
    const body = bodies.of(engine.book) as Buffer;
    // The head, the one changed limit, the tail; and the runs either side of it.
    expect(write).toHaveBeenCalledTimes(3);
    expect(copy).toHaveBeenCalledTimes(2);
    expect((JSON.parse(body.toString('utf8')) as { limits: unknown[] }).limits[500]).toEqual(limit('L500', 7));
    engine.deleteLimit('L10');
    write.mockClear();
    copy.mockClear();
    expect(bodies.of(engine.book)).toBeInstanceOf(Buffer);
    expect([write.mock.calls.length, copy.mock.calls.length]).toEqual([2, 2]);
  });

  it('makes a body larger than a slice a slice at a time, and a GET of the next book waits for it', async () => {
    const { engine } = makeEngine(Array.from({ length: 200 }, (_, i) => limit(`L${i}`, i + 1)));
    let turns = 0;
    const bodies = new BookBodies(() => {
      turns++;
      return Promise.resolve();
    }, 1_000);
    const firstExpected = bodyOf(engine.book).bytes;
    const write = vi.spyOn(Buffer.prototype, 'write');
    const first = bodies.of(engine.book);
    expect(first).toBeInstanceOf(Promise);
    const firstAgain = bodies.of(engine.book);
    // The change supersedes the first book (it can no longer be read) while its body is being made.
    engine.upsertLimit(limit('L100', 7));
    const second = bodies.of(engine.book);
    const writesBefore = write.mock.calls.length;
    const secondExpected = bodyOf(engine.book).bytes;
    const writesOfExpected = write.mock.calls.length - writesBefore;
    engine.upsertLimit(limit('L101', 7));
    expect((await first).equals(firstExpected)).toBe(true);
    expect(await firstAgain).toBe(await first);
    expect((await second).equals(secondExpected)).toBe(true);
    // Made once, not again for the second GET of the first book; the second book's body made from
    // the first's: its head, the changed limit and its tail, where one made afresh writes all 200.
    expect(write.mock.calls.length - writesOfExpected).toBe(202 + 3);
    // ~15 KB each, in slices of about 1 KB; the second copies the first in runs of them.
    expect(turns).toBeGreaterThan(20);
    // Made once per book: the next GET of the same book has it at once.
    await bodies.of(engine.book);
    expect(bodies.of(engine.book)).toBeInstanceOf(Buffer);
    // Nothing is being made any more: a body within a slice is made at once, not after another.
    engine.replaceLimits([limit('L0', 1)]);
    const small = bodies.of(engine.book);
    expect(small).toBeInstanceOf(Buffer);
    expect((small as Buffer).equals(bodyOf(engine.book).bytes)).toBe(true);
  });
});
