import fastJson from 'fast-json-stringify';
import type { BatchResult } from '../domain/engine.js';
import { jsonSchemaOf } from './json-schema.js';
import type { JsonSchema } from './json-schema.js';
import { BatchResponseSchema, CheckResultSchema } from './schemas.js';

/** Results serialised per step: well under a millisecond each. */
export const SERIALIZE_SLICE = 500;

/**
 * A batch's answer as JSON text, a slice of results at a time, yielding between slices: a
 * 10,000-result answer took 3–20 ms to serialise in one go. The text is the one the route's
 * response schema gives (same compiler, same schemas), so clients see no difference.
 */
export class BatchResponseSerializer {
  private readonly result = fastJson(jsonSchemaOf(CheckResultSchema, 'output'));
  private readonly summary = fastJson((jsonSchemaOf(BatchResponseSchema, 'output').properties as Record<string, JsonSchema>).summary!);

  async serialize(batch: BatchResult, yieldTurn: () => Promise<void>, slice = SERIALIZE_SLICE): Promise<string> {
    const { results } = batch;
    let text = '{"results":[';
    for (let i = 0; i < results.length; i++) {
      if (i > 0 && i % slice === 0) await yieldTurn();
      text += (i === 0 ? '' : ',') + this.result(results[i]!);
    }
    return `${text}],"summary":${this.summary(batch.summary)}}`;
  }
}
