import fc from 'fast-check';
import type { Order } from '../../src/domain/orders.js';

/** Arbitraries for journal records: the encoder's and the decoder's tests draw from the same ones. */

/** Strings that need every kind of JSON escaping: quotes, backslashes, controls, lone surrogates, non-ASCII. */
export const awkward = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  fc.constantFrom('a"b', 'a\\b', 'tab\there', 'nl\n', '\u0000', '\ud800', 'x\udfffy', 'é€😀', '\u007f', '\u2028'),
);
/** Any double, prices in cents and finer decimals (written digit by digit), and edges. */
export const numberLike = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: -1e9, max: 1e9 }).map((c) => c / 100), fc.tuple(fc.integer(), fc.integer({ min: 1, max: 8 })).map(([m, d]) => m / 10 ** d), fc.constantFrom(0, -0, 1e21, 5e-324, 1e-7, 123.456, Number.MAX_SAFE_INTEGER, 10, 100, -1e15, 2 ** 53, 9, 99, -1.2345678901234567e-6, -2.2250738585072014e-308));

/** Ids as gateways send them (printable ASCII that needs no escaping), now and then awkward. */
export const idLike = fc.oneof(
  { arbitrary: fc.string({ unit: fc.constantFrom(...'aZ09-_.:#!~{}`^@'), minLength: 1, maxLength: 16 }), weight: 30 },
  { arbitrary: awkward, weight: 1 },
);

/** Orders with their keys in the schema's order (as the encoder writes them). */
export const ordersOf = (text: fc.Arbitrary<string>): fc.Arbitrary<Order> =>
  fc
    .record(
      {
        orderId: text,
        accountId: text,
        strategyId: text,
        symbol: text,
        side: fc.constantFrom('BUY', 'SELL'),
        quantity: numberLike,
        price: numberLike,
        orderType: fc.constantFrom('LIMIT', 'MARKET'),
        venue: text,
        tags: fc.dictionary(awkward, awkward, { maxKeys: 4 }),
      },
      { requiredKeys: ['orderId', 'accountId', 'strategyId', 'symbol', 'side', 'quantity'] },
    )
    .map((o) => o as Order);
