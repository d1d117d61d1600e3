import { errorCodes } from 'fastify';
import type { FastifyInstance } from 'fastify';
import { readBodyPieces } from './body-pieces.js';
import { nextTurn } from './next-turn.js';
import { ProblemError } from './problems.js';
import { jsonParserRefusingRepeatedKeys } from './repeated-keys.js';
import { parseInSlices } from './sliced-json.js';

/** Bodies longer than this (bytes) are parsed in slices; shorter ones at once, as any other. */
export const SLICED_PARSE_BYTES = 256 * 1024;

/**
 * Makes `scope`'s JSON parser read a large body a slice at a time (sliced-json.ts: a 10,000-item
 * body took 4–15 ms to parse whole), its one large array being the root's member `key`. Its
 * chunks are never joined, and only the runs being parsed are decoded (body-pieces.ts). Small
 * bodies go to Fastify's own parser, with the same poisoning options and errors.
 */
export function parseLargeBodiesInSlices(scope: FastifyInstance, key: string, maxItems: number): void {
  const parseWhole = jsonParserRefusingRepeatedKeys(scope);
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', (request, payload, parsed) => {
    readBodyPieces(request, payload, (error, text) => {
      if (error !== null || text === undefined) {
        parsed(error, undefined);
        return;
      }
      if (text.length <= SLICED_PARSE_BYTES) {
        // Fastify's default JSON parser answers through `parsed`, at once; its type allows a promise, it returns none.
        void parseWhole(request, text.toString(), parsed);
        return;
      }
      parseInSlices(text, key, nextTurn, { maxItems, refusesRepeatedKeys: true }).then(
        (value) => parsed(null, value),
        (failure: unknown) => parsed(failure instanceof ProblemError ? failure : new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined),
      );
    });
  });
}
