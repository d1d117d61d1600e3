import fc from 'fast-check';
import fastJson from 'fast-json-stringify';
import { describe, expect, it, vi } from 'vitest';
import type { BatchResult, CheckResult } from '../../src/domain/engine.js';
import { ActionSchema, DecisionSchema, LimitKindSchema, ReasonCodeSchema, SeveritySchema } from '../../src/domain/enums.js';
import type { ExecutionOutcome } from '../../src/domain/engine.js';
import { BatchResponseSerializer, executionsResponseSerializer, SERIALIZE_SLICE } from '../../src/http/batch-response.js';
import { jsonSchemaOf } from '../../src/http/json-schema.js';
import { BatchResponseSchema, ExecutionsResponseSchema } from '../../src/http/schemas.js';

/** What the route's response schema makes of a batch in one go (Fastify compiles it the same way). */
const whole = fastJson(jsonSchemaOf(BatchResponseSchema, 'output'));
const serializer = new BatchResponseSerializer();
const now = (): Promise<void> => Promise.resolve();

const text = fc.string({ unit: 'binary', maxLength: 12 });
const number = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer());
const violation = fc.record({
  violationId: text,
  limitId: text,
  kind: fc.constantFrom(...LimitKindSchema.options),
  severity: fc.constantFrom(...SeveritySchema.options),
  action: fc.constantFrom(...ActionSchema.options),
  value: number,
  threshold: number,
  key: text,
  message: text,
});
const result: fc.Arbitrary<CheckResult> = fc.record({
  orderId: text,
  decision: fc.constantFrom(...DecisionSchema.options),
  reasons: fc.array(fc.constantFrom(...ReasonCodeSchema.options), { maxLength: 3 }),
  violations: fc.array(violation, { maxLength: 2 }),
  evaluated: fc.nat(),
  bookVersion: fc.nat(),
});
const batch: fc.Arbitrary<BatchResult> = fc
  .array(result, { maxLength: 40 })
  .map((results) => ({ results, summary: { total: results.length, accepted: results.filter((r) => r.decision === 'ACCEPT').length, rejected: results.filter((r) => r.decision === 'REJECT').length } }));

describe('a batch answer serialised in slices', () => {
  it('is byte for byte what the response schema gives in one go, at any slice size', async () => {
    await fc.assert(
      fc.asyncProperty(batch, fc.integer({ min: 1, max: 50 }), async (b, slice) => {
        // The bytes a reply of the whole text would write (UTF-8), slices encoded one by one.
        expect((await serializer.serialize(b, now, slice)).equals(Buffer.from(whole(b) as string, 'utf8'))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('yields between slices', async () => {
    const results = Array.from({ length: SERIALIZE_SLICE * 4 + 1 }, (_, i) => ({ orderId: `o-${i}`, decision: 'ACCEPT' as const, reasons: [], violations: [], evaluated: 3, bookVersion: 1 }));
    let turns = 0;
    const bytes = await serializer.serialize({ results, summary: { total: results.length, accepted: results.length, rejected: 0 } }, () => Promise.resolve(void turns++));
    expect(turns).toBe(4);
    expect((JSON.parse(bytes.toString('utf8')) as BatchResult).results).toHaveLength(results.length);
  });

  it('keeps no slice as text once it has yielded: the answer so far is bytes, outside the V8 heap', async () => {
    const results = Array.from({ length: SERIALIZE_SLICE * 2 + 1 }, (_, i) => ({ orderId: `ö-${i}`, decision: 'ACCEPT' as const, reasons: [], violations: [], evaluated: 3, bookVersion: 1 }));
    const encoded: number[] = [];
    const from = vi.spyOn(Buffer, 'from');
    try {
      const bytes = await serializer.serialize({ results, summary: { total: results.length, accepted: results.length, rejected: 0 } }, () => {
        encoded.push(from.mock.calls.length);
        return Promise.resolve();
      });
      // Before each turn, every slice so far was encoded (the first on the first turn, and so on).
      expect(encoded).toEqual([1, 2]);
      expect(from).toHaveBeenCalledTimes(3);
      expect(bytes.toString('utf8')).toBe(whole({ results, summary: { total: results.length, accepted: results.length, rejected: 0 } }));
    } finally {
      from.mockRestore();
    }
  });
});

describe('an executions answer serialised in slices', () => {
  const wholeExecutions = fastJson(jsonSchemaOf(ExecutionsResponseSchema, 'output'));
  const executions = executionsResponseSerializer();
  const outcome: fc.Arbitrary<ExecutionOutcome> = fc.record({ orderId: text, outcome: fc.constantFrom('applied' as const, 'unknown_order' as const) });

  it('is byte for byte what the response schema gives in one go, at any slice size', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(outcome, { maxLength: 40 }), fc.integer({ min: 1, max: 50 }), async (results, slice) => {
        expect((await executions.serialize(results, '}', now, slice)).equals(Buffer.from(wholeExecutions({ results }) as string, 'utf8'))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('yields between slices', async () => {
    const results = Array.from({ length: SERIALIZE_SLICE * 3 + 1 }, (_, i): ExecutionOutcome => ({ orderId: `x-${i}`, outcome: 'applied' }));
    let turns = 0;
    const bytes = await executions.serialize(results, '}', () => Promise.resolve(void turns++));
    expect(turns).toBe(3);
    expect(bytes.toString('utf8')).toBe(wholeExecutions({ results }));
  });
});
