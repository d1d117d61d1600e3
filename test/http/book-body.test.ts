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

describe('GET /v1/limits bodies made from the last one', () => {
  afterEach(() => vi.restoreAllMocks());

  it('are byte for byte the body made afresh, through any changes of the book', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.array(changeArb, { maxLength: 25 }), (size, changes) => {
        const { engine } = makeEngine(Array.from({ length: size }, (_, i) => limit(`L${i}`, i + 1)));
        const bodies = new BookBodies();
        let next = size;
        const check = () => {
          const body = bodies.of(engine.book);
          expect(body.equals(bodyOf(engine.book).bytes)).toBe(true);
          expect(JSON.parse(body.toString('utf8'))).toEqual({ version: engine.book.version, limits: engine.book.definitions });
        };
        check();
        for (const change of changes) {
          const ids = engine.book.definitions.map((d) => d.id);
          if (change.op === 'post') engine.upsertLimit(limit(`L${next++}`, change.hard));
          else if (change.op === 'replace') engine.replaceLimits(engine.book.definitions.filter((_, i) => i % (change.keep + 2) !== 0).reverse());
          else if (ids.length === 0) continue;
          else if (change.op === 'put') engine.upsertLimit(limit(ids[change.at % ids.length]!, change.hard));
          else engine.deleteLimit(ids[change.at % ids.length]!);
          check();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('copies the limits a change left alone in runs, writing only the changed one', () => {
    const { engine } = makeEngine(Array.from({ length: 1_000 }, (_, i) => limit(`L${i}`, i + 1)));
    const bodies = new BookBodies();
    bodies.of(engine.book);
    engine.upsertLimit(limit('L500', 7));
    const write = vi.spyOn(Buffer.prototype, 'write');
    const copy = vi.spyOn(Buffer.prototype, 'copy');
    const body = bodies.of(engine.book);
    // The head, the one changed limit, the tail; and the runs either side of it.
    expect(write).toHaveBeenCalledTimes(3);
    expect(copy).toHaveBeenCalledTimes(2);
    expect((JSON.parse(body.toString('utf8')) as { limits: unknown[] }).limits[500]).toEqual(limit('L500', 7));
    engine.deleteLimit('L10');
    write.mockClear();
    copy.mockClear();
    bodies.of(engine.book);
    expect([write.mock.calls.length, copy.mock.calls.length]).toEqual([2, 2]);
  });
});
