import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PositionRow } from '../../domain/orders.js';
import { LargeBodyValidation, newBodyAjv } from '../body-validation.js';
import { assertWritable, sendDurably } from '../durable-reply.js';
import { jsonSchemaOf } from '../json-schema.js';
import { perToken } from '../plugins/rate-limit.js';
import { NoQuerySchema, POSITIONS_CEILING, PositionsRequestSchema, PositionsResponseSchema } from '../schemas.js';
import { parseLargeBodiesInSlices } from '../sliced-body.js';
import { nextTurn } from '../next-turn.js';
import { changeInSlices, itemsStanding, partlyApplied } from '../sliced-change.js';
import type { RouteDeps } from './deps.js';

/**
 * Rows per engine step of a large merge: about 1–2 ms of applying and journalling. Between
 * steps the event loop serves other requests (DESIGN §6: never more than 10 ms), which see the
 * rows applied so far, as they would had the gateway sent the body as several requests.
 */
export const POSITION_SLICE = 1_000;

interface PositionsBody {
  positions: PositionRow[];
  replace?: boolean;
}

/**
 * Position snapshots. A large body is read and validated in slices, in a scope of its own whose
 * JSON parser reads it a slice at a time, all of it before any row is applied: a body refused as
 * invalid changes nothing. A large merge is then applied in slices too; a replace is applied in
 * one go, as a check between its slices would see a half-replaced book.
 */
export async function positionRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  await app.register((scope, _options, done) => {
    parseLargeBodiesInSlices(scope, 'positions', POSITIONS_CEILING);
    positionsRoute(scope, deps);
    done();
  });
}

function positionsRoute(app: FastifyInstance, { engine, config, store }: RouteDeps): void {
  const bodySchema = jsonSchemaOf(PositionsRequestSchema);
  const body = new LargeBodyValidation(bodySchema, 'positions');
  const querystring = jsonSchemaOf(NoQuerySchema);
  const noQuery = newBodyAjv().compile(querystring);
  const apply = (reply: FastifyReply, { positions, replace = false }: PositionsBody) => {
    assertWritable(store);
    if (!replace && positions.length > POSITION_SLICE) return mergeInSlices({ engine, store }, reply, positions);
    engine.applyPositions(positions, replace);
    return sendDurably(reply, store, { applied: positions.length, replaced: replace });
  };
  app.put(
    '/v1/positions',
    {
      schema: {
        summary: 'Position snapshot; merges by account and symbol unless replace is true',
        tags: ['state'],
        querystring,
        body: bodySchema,
        response: { 200: jsonSchemaOf(PositionsResponseSchema, 'output') },
      },
      // A large body's rows are validated in slices (the event loop gets turns in between), before any is applied.
      validatorCompiler: ({ httpPart }) => (httpPart === 'body' ? body.validator : noQuery),
      config: { role: 'gateway', rateLimit: perToken(config.rateLimit) },
    },
    (request, reply) => {
      const rows = request.body as PositionsBody;
      return body.afterItems(rows, () => apply(reply, rows));
    },
  );
}

/**
 * A large merge, applied a slice at a time and answered once durable. The whole body must fit
 * capacity before any slice is applied, as applying it in one go would require: a body refused
 * for capacity changes nothing. Each slice's records go to the journal in writes of their own,
 * so if it fails part way the rows of the slices it holds stand and the rest do not: the answer
 * is then a 503 naming the first row not applied. A merge row restates its position, so sending
 * the rows from there on (or the whole body) again is safe.
 */
async function mergeInSlices({ engine, store }: Pick<RouteDeps, 'engine' | 'store'>, reply: FastifyReply, rows: readonly PositionRow[]): Promise<FastifyReply> {
  // Counted a slice at a time too: the whole body in one step held the loop 180–270 ms at a million rows.
  const tally = engine.positionsTally();
  for (let from = 0; from < rows.length; from += POSITION_SLICE) {
    if (from > 0) await nextTurn();
    tally.add(rows.slice(from, from + POSITION_SLICE));
  }
  const overflow = tally.overflow();
  if (overflow !== undefined) throw overflow;
  const change = await changeInSlices(store, rows, POSITION_SLICE, (slice) => engine.applyPositions(slice, false));
  const standing = await itemsStanding(store, change);
  if (standing.items < rows.length) throw partlyApplied('positions', standing, rows.length);
  return reply.send({ applied: rows.length, replaced: false });
}
