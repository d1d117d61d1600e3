import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PositionRow } from '../../domain/orders.js';
import { LargeBodyValidation, newBodyAjv } from '../body-validation.js';
import { assertWritable, journalFailedSince, sendDurably } from '../durable-reply.js';
import { jsonSchemaOf } from '../json-schema.js';
import { perToken } from '../plugins/rate-limit.js';
import { NoQuerySchema, POSITIONS_CEILING, PositionsRequestSchema, PositionsResponseSchema } from '../schemas.js';
import { parseLargeBodiesInSlices } from '../sliced-body.js';
import { nextTurn } from '../next-turn.js';
import { changeInSlices, itemsStanding, journalFailed, notAppliedFrom, partlyApplied } from '../sliced-change.js';
import type { Standing } from '../sliced-change.js';
import { CapacityError } from '../../domain/exposure-ledger.js';
import { PositionsReplacingError } from '../../domain/engine.js';
import type { LimitEngine } from '../../domain/engine.js';
import { ProblemError } from '../problems.js';
import type { RouteDeps } from './deps.js';

/**
 * Rows per engine step of a large merge: about 1–2 ms of applying and journalling. Between
 * steps the event loop serves other requests (DESIGN §6: never more than 10 ms), which see the
 * rows applied so far, as they would had the gateway sent the body as several requests.
 */
export const POSITION_SLICE = 1_000;

/** Held positions a replace flattens per step before its rows: about 1–2 ms (100,000 in one step took 6–12 ms). */
export const FLATTEN_SLICE = 16_384;

interface PositionsBody {
  positions: PositionRow[];
  replace?: boolean;
}

/**
 * Position snapshots. A large body is read and validated in slices, in a scope of its own whose
 * JSON parser reads it a slice at a time, all of it before any row is applied: a body refused as
 * invalid changes nothing. A large merge or replace is then applied in slices too; while a replace
 * is half applied, checks are rejected POSITIONS_REPLACING (see LimitEngine.beginPositionsReplace).
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
  /** A replace being applied in slices by this process: another replace waits for its answer. */
  let isReplaceUnderWay = false;
  const apply = async (reply: FastifyReply, { positions, replace = false }: PositionsBody) => {
    assertWritable(store);
    if (replace && isReplaceUnderWay) throw new ProblemError('conflict', 'another positions replace is being applied: send this one once that one is answered');
    // A replace flattens every held position first: in slices past FLATTEN_SLICE of them, however few its rows.
    const isLarge = positions.length > POSITION_SLICE || (replace && engine.ledger.positionCount > FLATTEN_SLICE);
    if (!isLarge) {
      engine.applyPositions(positions, replace);
      return sendDurably(reply, store, { applied: positions.length, replaced: replace });
    }
    if (!replace) return mergeInSlices({ engine, store }, reply, positions);
    isReplaceUnderWay = true;
    try {
      return await replaceInSlices({ engine, store }, reply, positions);
    } finally {
      isReplaceUnderWay = false;
    }
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
  await refuseOverflow(engine, rows);
  const change = await changeInSlices(store, rows, POSITION_SLICE, (slice) => engine.applyPositions(slice, false));
  const standing = await itemsStanding(store, change);
  if (standing.items === rows.length) return reply.send({ applied: rows.length, replaced: false });
  // A replace begun meanwhile restated the rows merged, whatever else stopped the merge.
  throw standing.cause instanceof PositionsReplacingError || engine.isReplacingPositions ? mergeSuperseded(standing.items, rows.length) : partlyApplied('positions', standing, rows.length);
}

/** A merge a replace cut short: the rows merged before it began are restated by it, so only the whole merge again can follow it. */
function mergeSuperseded(merged: number, total: number): ProblemError {
  return new ProblemError(
    'unavailable',
    `only the first ${merged} of ${total} positions were merged before a positions replace began, which restates every position: send the whole merge again once the replace is answered, if it is newer`,
    notAppliedFrom('positions', merged),
  );
}

/**
 * A large replace, a part at a time (at 100,000 rows one step held the loop 120–190 ms, journal
 * included): every held position is flattened, whole groups of at most FLATTEN_SLICE positions a
 * step, then the rows are set POSITION_SLICE at a time, and checks are rejected
 * POSITIONS_REPLACING until the last slice. Refused for capacity as a merge is, before it begins.
 * If it stops part way (the journal failed, or symbols came meanwhile that leave no room) the book
 * is left half replaced, its checks rejected, until a replace is sent again whole (with fsync
 * durability, as far as the disk holds it: see replaceUnfinished).
 */
async function replaceInSlices({ engine, store }: Pick<RouteDeps, 'engine' | 'store'>, reply: FastifyReply, rows: readonly PositionRow[]): Promise<FastifyReply> {
  await refuseOverflow(engine, rows);
  const outages = store.outages;
  reply.log.info({ rows: rows.length }, 'positions replace begun: checks are rejected POSITIONS_REPLACING until it ends');
  const stopped = (items: number, cause: unknown): ProblemError => {
    reply.log.warn({ applied: items, rows: rows.length, isReplacing: engine.isReplacingPositions }, 'positions replace stopped');
    return replaceUnfinished({ items, ...(cause instanceof Error ? { cause } : {}) }, rows.length);
  };
  engine.beginPositionsReplace();
  let isFlattening = true;
  while (isFlattening) {
    isFlattening = engine.flattenForReplace(FLATTEN_SLICE);
    await nextTurn();
    if (journalFailedSince(store, outages)) throw stopped(0, journalFailed());
  }
  if (rows.length === 0) {
    engine.replacePositionsSlice([], true);
    try {
      await sendDurably(reply, store, { applied: 0, replaced: true });
    } catch (error) {
      throw stopped(0, error);
    }
    reply.log.info({ rows: 0 }, 'positions replace ended');
    return reply;
  }
  const last = Math.ceil(rows.length / POSITION_SLICE) - 1;
  let slice = 0;
  const change = await changeInSlices(store, rows, POSITION_SLICE, (part) => {
    engine.replacePositionsSlice(part, slice === last);
    slice++;
  });
  let standing: Standing;
  try {
    standing = await itemsStanding(store, change);
  } catch (error) {
    // None of its rows stand (a first slice refused, or not made durable): the flattening may.
    throw stopped(0, error);
  }
  if (standing.items < rows.length) throw stopped(standing.items, standing.cause);
  reply.log.info({ rows: rows.length }, 'positions replace ended');
  return reply.send({ applied: rows.length, replaced: true });
}

/** Counted a slice at a time: the whole body in one step held the loop 180–270 ms at a million rows. */
async function refuseOverflow(engine: LimitEngine, rows: readonly PositionRow[]): Promise<void> {
  const tally = engine.positionsTally();
  for (let from = 0; from < rows.length; from += POSITION_SLICE) {
    if (from > 0) await nextTurn();
    tally.add(rows.slice(from, from + POSITION_SLICE));
  }
  const overflow = tally.overflow();
  if (overflow !== undefined) throw overflow;
}

/**
 * A replace that stopped after its first `standing.items` rows: unlike a merge, only the whole of
 * it again ends it. Whether the book is left half replaced is not told: with fsync durability
 * the recovery still to come decides it (it goes back to what the disk holds, before the replace
 * or part way through it); ulc_positions_replacing tells.
 */
function replaceUnfinished(standing: Standing, total: number): ProblemError {
  return new ProblemError(
    standing.cause instanceof CapacityError ? 'capacity' : 'unavailable',
    `the replace stopped after ${standing.items} of ${total} positions (${standing.cause?.message ?? 'stopped'}): send the whole replace again; until a replace ends, the book may be half replaced and its checks rejected POSITIONS_REPLACING (ulc_positions_replacing tells)`,
    notAppliedFrom('positions', standing.items),
  );
}
