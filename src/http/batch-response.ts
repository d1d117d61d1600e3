import fastJson from 'fast-json-stringify';
import type { BatchResult } from '../domain/engine.js';
import { jsonSchemaOf } from './json-schema.js';
import type { JsonSchema } from './json-schema.js';
import { BatchResponseSchema, CheckResultSchema } from './schemas.js';

/** Results serialised per step: well under a millisecond each. */
export const SERIALIZE_SLICE = 500;

/**
 * A batch's answer as UTF-8 JSON, a slice of results at a time, yielding between slices: a
 * 10,000-result answer took 3–20 ms to serialise in one go. The bytes are those the route's
 * response schema gives (same compiler, same schemas), so clients see no difference.
 *
 * Each slice's text is encoded into a buffer of its own as soon as it is built: the bytes are
 * then outside the V8 heap. Kept as text, a 10,000-result answer was some 20,000 young strings
 * (each result's and the concatenations), about 5 MB that every scavenge during the rest of the
 * batch had to copy (a scavenge at the end of a batch went from ~15 to ~20 ms of a blocked event
 * loop); and the send then flattened and encoded all of it in one step, a few ms more.
 */
export class BatchResponseSerializer {
  private readonly result = fastJson(jsonSchemaOf(CheckResultSchema, 'output'));
  private readonly summary = fastJson((jsonSchemaOf(BatchResponseSchema, 'output').properties as Record<string, JsonSchema>).summary!);

  async serialize(batch: BatchResult, yieldTurn: () => Promise<void>, slice = SERIALIZE_SLICE): Promise<Buffer> {
    const { results } = batch;
    const parts: Buffer[] = [];
    let text = '{"results":[';
    for (let i = 0; i < results.length; i++) {
      if (i > 0 && i % slice === 0) {
        parts.push(Buffer.from(text, 'utf8'));
        text = '';
        await yieldTurn();
      }
      text += (i === 0 ? '' : ',') + this.result(results[i]!);
    }
    parts.push(Buffer.from(`${text}],"summary":${this.summary(batch.summary)}}`, 'utf8'));
    return Buffer.concat(parts);
  }
}
