import { errorCodes } from 'fastify';
import type { FastifyInstance } from 'fastify';
import { nextTurn } from './next-turn.js';
import { ProblemError } from './problems.js';
import { jsonParserRefusingRepeatedKeys } from './repeated-keys.js';
import { parseInSlices } from './sliced-json.js';

/** Bodies longer than this (characters) are parsed in slices; shorter ones at once, as any other. */
export const SLICED_PARSE_CHARS = 256 * 1024;

/**
 * Makes `scope`'s JSON parser read a large body a slice at a time (sliced-json.ts: a 10,000-item
 * body took 4–15 ms to parse whole), its one large array being the root's member `key`. Small
 * bodies go to Fastify's own parser, with the same poisoning options and errors.
 */
export function parseLargeBodiesInSlices(scope: FastifyInstance, key: string, maxItems: number): void {
  const parseWhole = jsonParserRefusingRepeatedKeys(scope);
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, parsed) => {
    if (body.length <= SLICED_PARSE_CHARS) return parseWhole(request, body as string, parsed);
    parseInSlices(body as string, key, nextTurn, { maxItems, refusesRepeatedKeys: true }).then(
      (value) => parsed(null, value),
      (error: unknown) => parsed(error instanceof ProblemError ? error : new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined),
    );
  });
}
