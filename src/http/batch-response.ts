import fastJson from 'fast-json-stringify';
import type { BatchResult, ExecutionOutcome } from '../domain/engine.js';
import { jsonSchemaOf } from './json-schema.js';
import type { JsonSchema } from './json-schema.js';
import { BatchResponseSchema, CheckResultSchema, ExecutionsResponseSchema } from './schemas.js';

/** Items serialised per step: well under a millisecond each. */
export const SERIALIZE_SLICE = 500;

/**
 * An answer whose bulk is one array, `{"<key>":[...items]...}`, as UTF-8 JSON, a slice of items
 * at a time, yielding between slices: a 10,000-result batch answer took 3–20 ms to serialise in
 * one go, and 10,000 execution outcomes about 30 ms to serialise and write here. The bytes are
 * those the route's response schema gives (same compiler, same schemas), so clients see no
 * difference.
 *
 * Each slice's text is encoded into a buffer of its own as soon as it is built: the bytes are
 * then outside the V8 heap. Kept as text, a 10,000-result answer was some 20,000 young strings
 * (each result's and the concatenations), about 5 MB that every scavenge during the rest of the
 * batch had to copy (a scavenge at the end of a batch went from ~15 to ~20 ms of a blocked event
 * loop); and the send then flattened and encoded all of it in one step, a few ms more.
 */
export class SlicedArraySerializer<T> {
  private readonly item: (value: T) => string;

  constructor(
    itemSchema: JsonSchema,
    private readonly key: string,
  ) {
    this.item = fastJson(itemSchema) as (value: T) => string;
  }

  /** `tail` is the text after the array: the answer's other members and its closing brace. */
  async serialize(items: readonly T[], tail: string, yieldTurn: () => Promise<void>, slice = SERIALIZE_SLICE): Promise<Buffer> {
    const parts: Buffer[] = [];
    let text = `{${JSON.stringify(this.key)}:[`;
    for (let i = 0; i < items.length; i++) {
      if (i > 0 && i % slice === 0) {
        parts.push(Buffer.from(text, 'utf8'));
        text = '';
        await yieldTurn();
      }
      text += (i === 0 ? '' : ',') + this.item(items[i]!);
    }
    parts.push(Buffer.from(`${text}]${tail}`, 'utf8'));
    return Buffer.concat(parts);
  }
}

/** A batch's answer: its results in slices, then its summary. */
export class BatchResponseSerializer {
  private readonly results = new SlicedArraySerializer<BatchResult['results'][number]>(jsonSchemaOf(CheckResultSchema, 'output'), 'results');
  private readonly summary = fastJson((jsonSchemaOf(BatchResponseSchema, 'output').properties as Record<string, JsonSchema>).summary!);

  serialize(batch: BatchResult, yieldTurn: () => Promise<void>, slice = SERIALIZE_SLICE): Promise<Buffer> {
    return this.results.serialize(batch.results, `,"summary":${this.summary(batch.summary)}}`, yieldTurn, slice);
  }
}

/** POST /v1/executions's answer: an outcome per event. */
export const executionsResponseSerializer = (): SlicedArraySerializer<ExecutionOutcome> => {
  const results = (jsonSchemaOf(ExecutionsResponseSchema, 'output').properties as Record<string, JsonSchema>).results!;
  return new SlicedArraySerializer<ExecutionOutcome>(results.items as JsonSchema, 'results');
};
