import { z } from 'zod';
import { ExecutionTypeSchema, OrderTypeSchema, SideSchema } from './enums.js';

/**
 * Ids are short printable tokens. '|' is reserved: it joins the parts of composite
 * aggregation keys (account+symbol), so an id containing it could alias another key.
 */
export const IdentifierSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[!-{}~]+$/, 'printable ASCII without spaces or "|"');

/** Finite, positive, and small enough that products of two stay exact-ish in a double. */
export const QuantitySchema = z.number().positive().max(1e12);
export const PriceSchema = z.number().positive().max(1e9);

const MAX_TAGS = 16;

export const OrderSchema = z
  .strictObject({
    orderId: IdentifierSchema,
    accountId: IdentifierSchema,
    strategyId: IdentifierSchema,
    symbol: IdentifierSchema,
    side: SideSchema,
    quantity: QuantitySchema,
    price: PriceSchema.optional(),
    orderType: OrderTypeSchema.default('LIMIT'),
    venue: IdentifierSchema.optional(),
    tags: z
      .record(z.string().min(1).max(64), z.string().max(256))
      .refine((tags) => Object.keys(tags).length <= MAX_TAGS, `at most ${MAX_TAGS} tags`)
      .meta({ maxProperties: MAX_TAGS })
      .optional(),
  })
  .refine((o) => o.orderType === 'MARKET' || o.price !== undefined, {
    message: 'price is required for LIMIT orders',
    path: ['price'],
  })
  // The same rule for JSON Schema validators (Fastify, OpenAPI), which cannot see the refine.
  .meta({ if: { properties: { orderType: { const: 'MARKET' } }, required: ['orderType'] }, else: { required: ['price'] } });
export type Order = z.infer<typeof OrderSchema>;

const ExecutionFieldsSchema = z.strictObject({
  type: ExecutionTypeSchema,
  accountId: IdentifierSchema,
  orderId: IdentifierSchema,
  /** FILL: the quantity filled by this execution (partial fills allowed). */
  quantity: QuantitySchema.optional(),
  /** FILL: the fill price. */
  price: PriceSchema.optional(),
});

/**
 * An execution as journals hold it. Before the API refused them, a non-FILL's quantity and price
 * were taken and ignored, so a journal written then may hold them: replay reads them, ignored as before.
 */
export const RecordedExecutionSchema = ExecutionFieldsSchema.refine((e) => e.type !== 'FILL' || (e.quantity !== undefined && e.price !== undefined), {
  message: 'a FILL needs quantity and price',
  path: ['quantity'],
});

/**
 * What is said of a quantity or price on an execution other than a FILL, by the refines below
 * and, for the JSON Schema's `false` in their place, by the HTTP error handler.
 */
export const FILL_ONLY = 'is only allowed on a FILL';

/**
 * An execution as the API takes it. Quantity and price belong to a FILL only: CANCEL, REJECT and
 * EXPIRE release the rest of the order whatever they carry, so a CANCEL with a quantity (a
 * gateway meaning a partial cancel) is refused rather than read as a cancel of the whole order,
 * which would understate the exposure.
 */
export const ExecutionEventSchema = RecordedExecutionSchema.refine((e) => e.type === 'FILL' || e.quantity === undefined, {
  message: FILL_ONLY,
  path: ['quantity'],
})
  .refine((e) => e.type === 'FILL' || e.price === undefined, { message: FILL_ONLY, path: ['price'] })
  // The same rules for JSON Schema validators (Fastify, OpenAPI), which cannot see the refines.
  .meta({
    if: { properties: { type: { const: 'FILL' } } },
    then: { required: ['quantity', 'price'] },
    // Only for the other known types: an unknown type is refused for its type, not for its quantity.
    else: { if: { properties: { type: { enum: ExecutionTypeSchema.options.filter((t) => t !== 'FILL') } } }, then: { properties: { quantity: false, price: false } } },
  });
export type ExecutionEvent = z.infer<typeof ExecutionEventSchema>;

export const PositionRowSchema = z.strictObject({
  accountId: IdentifierSchema,
  strategyId: IdentifierSchema.optional(),
  symbol: IdentifierSchema,
  /** Signed net quantity: negative is short. */
  quantity: z.number().min(-1e12).max(1e12),
  avgPrice: z.number().min(0).max(1e9),
});
export type PositionRow = z.infer<typeof PositionRowSchema>;

export const ReferencePriceSchema = z.strictObject({ symbol: IdentifierSchema, price: PriceSchema });
export type ReferencePrice = z.infer<typeof ReferencePriceSchema>;
