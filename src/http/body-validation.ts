import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { preValidationHookHandler } from 'fastify';
import type { JsonSchema } from './json-schema.js';
import { nextTurn } from './next-turn.js';

/**
 * Bodies are validated without type coercion ("5" is not a number) and unknown fields are
 * errors, not silently dropped; defaults (an order's LIMIT type) are filled in.
 */
export const newBodyAjv = (): Ajv => new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });

/**
 * The preValidation hook of a route whose body may be absent: Fastify validates a request
 * without a body as `undefined`, which an object schema refuses, so it becomes `{}` first.
 * (A JSON `null` is a body, and stays one to be refused.)
 */
export const absentBodyIsEmpty: preValidationHookHandler = (request, _reply, done) => {
  if (request.body === undefined) request.body = {};
  done();
};

/** What Fastify's validation error carries (the errors plugin turns it into a 400 problem). */
export interface ValidationError extends Error {
  statusCode: number;
  code: string;
  validation: ErrorObject[];
  validationContext: 'body';
}

/** A body validator as Fastify calls it: errors of the last call on `errors`. */
export type BodyValidator = ((body: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** Items of a large body validated per step; a step costs well under a millisecond. */
export const VALIDATION_SLICE = 1_000;

/**
 * Validation of bodies with one large array member (a batch's `orders`, the `events` of
 * executions), of which a large one is validated in steps. A body of at most VALIDATION_SLICE
 * items is validated whole by Fastify, as any other; a larger one is checked by Fastify only
 * down to the array (that it is one, of allowed length, with nothing unknown beside it), and
 * `validateItems` then checks the items a slice at a time, yielding between slices, before
 * anything else touches the request. It refuses exactly the bodies the whole schema refuses,
 * with the same first error (same path, keyword and message), so the 400 problem is the one
 * Fastify's validation would have answered.
 */
export class LargeBodyValidation {
  private readonly whole: ValidateFunction;
  private readonly outline: ValidateFunction;
  private readonly item: ValidateFunction;
  private readonly rest: ValidateFunction;
  /** Bodies that passed the outline and still have their items to check. */
  private readonly pending = new WeakSet<object>();

  constructor(
    schema: JsonSchema,
    private readonly key: string,
    ajv: Ajv = newBodyAjv(),
  ) {
    const properties = schema.properties as Record<string, JsonSchema>;
    const { items, ...array } = properties[key]!;
    this.whole = ajv.compile(schema);
    // The whole schema checks the array's items before any later property (a batch's atomic);
    // the outline leaves out both, and `rest` checks the later ones once the items have passed.
    const { [key]: _array, ...later } = properties;
    this.outline = ajv.compile({ ...schema, properties: { [key]: array, ...Object.fromEntries(Object.keys(later).map((k) => [k, true])) } });
    this.item = ajv.compile(items as JsonSchema);
    this.rest = ajv.compile({ type: 'object', properties: later });
  }

  /** Fastify's validator for the route's body. */
  readonly validator: BodyValidator = (body: unknown): boolean => {
    const items = (body as Record<string, unknown> | null)?.[this.key];
    const isLarge = Array.isArray(items) && items.length > VALIDATION_SLICE;
    const validate = isLarge ? this.outline : this.whole;
    const isValid = validate(body);
    this.validator.errors = validate.errors;
    if (isValid && isLarge) this.pending.add(body as object);
    return isValid;
  };

  /**
   * Checks the items of a large body, a slice per `yieldTurn`, and rejects with the validation
   * error of the first invalid item; undefined for a body Fastify validated whole.
   */
  /** Runs `apply` once the body's items are valid: at once for a body Fastify validated whole. */
  afterItems<T>(body: object, apply: () => T): T | Promise<T> {
    const validating = this.validateItems(body, nextTurn);
    return validating === undefined ? apply() : validating.then(apply);
  }

  validateItems(body: object, yieldTurn: () => Promise<void>): Promise<void> | undefined {
    if (!this.pending.has(body)) return undefined;
    this.pending.delete(body);
    return this.validateInSlices(body as Record<string, unknown[]>, yieldTurn);
  }

  private async validateInSlices(body: Record<string, unknown[]>, yieldTurn: () => Promise<void>): Promise<void> {
    const items = body[this.key]!;
    for (let from = 0; from < items.length; from += VALIDATION_SLICE) {
      await yieldTurn();
      const to = Math.min(from + VALIDATION_SLICE, items.length);
      for (let i = from; i < to; i++) {
        if (!this.item(items[i])) throw validationError(this.item.errors!.map((e) => ({ ...e, instancePath: `/${this.key}/${i}${e.instancePath}` })));
      }
    }
    if (!this.rest(body)) throw validationError(this.rest.errors!);
  }
}

/** As Fastify builds it (its default schemaErrorFormatter, then code, status and context). */
function validationError(errors: ErrorObject[]): ValidationError {
  const error = new Error(errors.map((e) => `body${e.instancePath} ${e.message ?? ''}`).join(', ')) as ValidationError;
  error.statusCode = 400;
  error.code = 'FST_ERR_VALIDATION';
  error.validation = errors;
  error.validationContext = 'body';
  return error;
}
