import fc from 'fast-check';
import type { BatchResult } from '../../src/domain/engine.js';
import { describe, expect, it } from 'vitest';
import { LargeBodyValidation, newBodyAjv, VALIDATION_SLICE } from '../../src/http/body-validation.js';
import { jsonSchemaOf } from '../../src/http/json-schema.js';
import { BatchRequestSchema } from '../../src/http/schemas.js';
import { bearer } from '../support/app-fixtures.js';
import { anOrder, appPerTest, batchBesideProbe, expectProblem } from './http-helpers.js';

const LARGE = VALIDATION_SLICE * 2 + 7;
const startApp = appPerTest();
const bigBatchApp = () => startApp({ server: { logLevel: 'info', defaultDeadlineMs: 5_000, maxBatchSize: 5_000 } });

/** Ways an order can be wrong, each a different keyword of its schema. */
const BREAKAGES: Record<string, (order: Record<string, unknown>) => unknown> = {
  negativeQuantity: (o) => ({ ...o, quantity: -1 }),
  textQuantity: (o) => ({ ...o, quantity: '5' }),
  unknownField: (o) => ({ ...o, colour: 'red' }),
  missingAccount: ({ accountId: _a, ...o }) => o,
  badSide: (o) => ({ ...o, side: 'HOLD' }),
  limitWithoutPrice: ({ price: _p, ...o }) => o,
  badId: (o) => ({ ...o, orderId: 'has space' }),
  tooManyTags: (o) => ({ ...o, tags: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`t${i}`, 'x'])) }),
  notAnObject: () => 42,
};

/** The first error the whole schema reports, or undefined if the body passes. */
function wholeSchemaVerdict(body: unknown) {
  const validate = newBodyAjv().compile(jsonSchemaOf(BatchRequestSchema));
  return validate(structuredClone(body)) ? undefined : { instancePath: validate.errors![0]!.instancePath, keyword: validate.errors![0]!.keyword, message: validate.errors![0]!.message };
}

/** The first error of validating in slices (outline, then orders), or undefined if the body passes. */
async function slicedVerdict(body: unknown) {
  const validation = new LargeBodyValidation(jsonSchemaOf(BatchRequestSchema), 'orders');
  const copy = structuredClone(body);
  if (!validation.validator(copy)) {
    const first = validation.validator.errors![0]!;
    return { instancePath: first.instancePath, keyword: first.keyword, message: first.message };
  }
  try {
    await validation.validateItems(copy as { orders: unknown[] }, () => Promise.resolve());
    return undefined;
  } catch (error) {
    const first = (error as { validation: { instancePath: string; keyword: string; message?: string }[] }).validation[0]!;
    return { instancePath: first.instancePath, keyword: first.keyword, message: first.message };
  }
}

describe('validating a large batch in slices', () => {
  it('finds the same first error as the whole schema, wherever the errors are', async () => {
    const base = Array.from({ length: LARGE }, (_, i) => anOrder({ orderId: `v-${i}` }) as unknown as Record<string, unknown>);
    const breakage = fc.constantFrom(...Object.keys(BREAKAGES));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: LARGE - 1 }), breakage), { maxLength: 3 }),
        fc.constantFrom<unknown>(undefined, true, 'yes', 1),
        fc.boolean(),
        async (breaks, atomic, extraTopLevel) => {
          const orders: unknown[] = [...base];
          for (const [at, kind] of breaks) orders[at] = BREAKAGES[kind]!(orders[at] as Record<string, unknown>);
          const body: Record<string, unknown> = { orders };
          if (atomic !== undefined) body.atomic = atomic;
          if (extraTopLevel) body.priority = 'high';
          expect(await slicedVerdict(body)).toEqual(wholeSchemaVerdict(body));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('checks only the outline of a large body at once, and its orders a slice per turn', async () => {
    const validation = new LargeBodyValidation(jsonSchemaOf(BatchRequestSchema), 'orders');
    const orders: unknown[] = Array.from({ length: LARGE }, (_, i) => anOrder({ orderId: `s-${i}` }));
    orders[LARGE - 1] = { ...(orders[LARGE - 1] as object), quantity: -1 };
    // The last order is bad, yet Fastify's pass accepts the body: only the outline is checked there.
    const body = { orders };
    expect(validation.validator(body)).toBe(true);
    let turns = 0;
    const verdict = validation.validateItems(body, () => Promise.resolve(void turns++));
    await expect(verdict).rejects.toMatchObject({ statusCode: 400, validation: [{ instancePath: `/orders/${LARGE - 1}/quantity` }] });
    expect(turns).toBe(Math.ceil(LARGE / VALIDATION_SLICE));
    // A body of one slice or less is validated whole by Fastify's pass, and has nothing left after it.
    const small = orders.slice(-VALIDATION_SLICE);
    expect(validation.validator({ orders: small })).toBe(false);
  });

  it('fills in defaults as the whole schema does', async () => {
    const validation = new LargeBodyValidation(jsonSchemaOf(BatchRequestSchema), 'orders');
    const orders = Array.from({ length: LARGE }, (_, i) => {
      const { orderType: _t, ...order } = anOrder({ orderId: `d-${i}` });
      return order;
    });
    const body = { orders };
    expect(validation.validator(body)).toBe(true);
    await validation.validateItems(body, () => Promise.resolve());
    expect(body.orders.every((o) => (o as { orderType?: string }).orderType === 'LIMIT')).toBe(true);
  });

  it('answers the same 400 problem over HTTP as a small batch with the same error does, and changes nothing', async () => {
    const app = await bigBatchApp();
    const bad = { ...anOrder({ orderId: 'bad-one' }), quantity: -5 };
    const large = Array.from({ length: LARGE }, (_, i) => anOrder({ orderId: `h-${i}` }) as unknown);
    large[1_500] = bad;
    const small = Array.from({ length: 1_501 - VALIDATION_SLICE }, (_, i) => anOrder({ orderId: `s-${i}` }) as unknown);
    small[small.length - 1] = bad;
    const send = (orders: unknown[]) => app.server.inject({ method: 'POST', url: '/v1/checks/batch', headers: bearer('gateway'), payload: { orders } });
    const largeProblem = expectProblem(await send(large), 400);
    expect(largeProblem.errors).toEqual([{ field: 'orders.1500.quantity', message: 'must be > 0' }]);
    expect(app.engine.ledger.openOrderCount).toBe(0);
    // The same error at index 500 of a batch validated whole.
    const smallProblem = expectProblem(await send(small), 400);
    expect(JSON.stringify(largeProblem).replaceAll('1500', 'N')).toBe(JSON.stringify(smallProblem).replaceAll(String(small.length - 1), 'N'));
  });

  it('checks a valid large batch as before, letting other requests in while it validates', async () => {
    const app = await bigBatchApp();
    const orders = Array.from({ length: LARGE }, (_, i) => anOrder({ orderId: `ok-${i}`, accountId: 'ACC-VALID', quantity: 1 }));
    const { answered, response } = await batchBesideProbe(app.server, { orders });
    const body = response.json<BatchResult>();
    expect(answered).toEqual(['health', 'batch']);
    expect(body.summary).toEqual({ total: LARGE, accepted: LARGE, rejected: 0 });
  });

  it('refuses an invalid large batch before its size limit and its strategies\' rate limits, counting it against its token', async () => {
    const app = await startApp({
      server: { logLevel: 'info', defaultDeadlineMs: 5_000, maxBatchSize: 100 },
      rateLimit: { perStrategy: { max: 1, timeWindowMs: 60_000 }, perToken: { max: 2, timeWindowMs: 60_000 } },
    });
    const orders = Array.from({ length: LARGE }, (_, i) => anOrder({ orderId: `r-${i}` }) as unknown);
    orders[LARGE - 1] = { ...anOrder(), side: 'HOLD' };
    const send = (payload: unknown) => app.server.inject({ method: 'POST', url: '/v1/checks/batch', headers: bearer('gateway'), payload: payload as object });
    // Invalid: 400 (not 413), and its strategy's unit is not taken: the valid batch after it passes a limit of 1.
    expectProblem(await send({ orders }), 400);
    expect((await send({ orders: [anOrder({ orderId: 'r-ok' })] })).statusCode).toBe(200);
    // Its token's was: two requests of the two its window allows, so a third, even a bad one, is refused unread.
    const third = await send('{"orders": not json');
    expectProblem(third, 429);
    expect(third.headers['retry-after']).toBeDefined();
  });
});
