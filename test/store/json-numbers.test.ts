import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readJsonNumber, writeJsonNumber } from '../../src/store/json-numbers.js';

const written = (value: number, offset = 0): string => {
  const target = Buffer.alloc(offset + 32, 0xee);
  const end = writeJsonNumber(target, offset, value);
  expect(target.subarray(end).every((b) => b === 0xee)).toBe(true);
  return target.toString('latin1', offset, end);
};

const read = (text: string, pad = 0): number => {
  const bytes = Buffer.from(`${'x'.repeat(pad)}${text}}`, 'latin1');
  return readJsonNumber(bytes, pad, pad + text.length);
};

/** Decimals as prices come: m / 10^d, every d the fast path takes and two past it. */
const decimals = fc
  .tuple(fc.oneof(fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), fc.maxSafeInteger(), fc.integer({ min: 2 ** 49, max: 2 ** 51 })), fc.integer({ min: 0, max: 8 }))
  .map(([m, d]) => m / 10 ** d);
const cents = fc.integer({ min: 0, max: 100_000_000 }).map((c) => c / 100);
/** Values at the edges: powers of ten, the fast path's magnitude bound, exponents, the smallest and largest doubles. */
const edges = fc.constantFrom(
  0, -0, 1, -1, 0.1, 0.2, 0.1 + 0.2, 0.3, 1 / 3, 2 / 3, 9.999999, 9.9999999, 99.995, 0.000001, 0.0000015, 0.000009, 0.0000001, 5e-7,
  1e-6, 1e-7, 1e21, 1e20, 123456789012.345, 2 ** 50, 2 ** 50 - 0.5, 2 ** 50 + 0.5, (2 ** 50 - 1) / 10, 2 ** 53, 2 ** 53 + 2,
  Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, 1.7976931348623157e308, 4.35, 0.015, 1.005, 10.075,
);
const anyNumber = fc.oneof(decimals, cents, edges, fc.double(), fc.double({ min: -1e6, max: 1e6 }));

describe('writeJsonNumber', () => {
  it('writes what JSON.stringify writes, for decimals, integers, edges and any double (NaN and infinities as null)', () => {
    fc.assert(
      fc.property(anyNumber, fc.nat(8), (value, offset) => {
        expect(written(value, offset)).toBe(JSON.stringify(value));
      }),
      { numRuns: 20_000 },
    );
  });

  it('writes prices with the fewest fraction digits, a leading 0. and zeros under 1, and -0 as 0', () => {
    expect([101.25, 101.2, 0.05, 0.000001, -0.5, -12.345678, 100, -0, 1e-7, 0.1 + 0.2].map((v) => written(v))).toEqual([
      '101.25', '101.2', '0.05', '0.000001', '-0.5', '-12.345678', '100', '0', '1e-7', '0.30000000000000004',
    ]);
  });

  it('writes every cent from 0 to 10,000.00 as JS does', () => {
    const target = Buffer.alloc(32);
    const wrong: string[] = [];
    for (let c = 0; c <= 1_000_000; c++) {
      const value = c / 100;
      const text = target.toString('latin1', 0, writeJsonNumber(target, 0, value));
      if (text !== `${value}`) wrong.push(`${value}: ${text}`);
    }
    expect(wrong).toEqual([]);
  });

  it('writes at most 25 bytes (the journal bounds a record by it)', () => {
    fc.assert(
      fc.property(anyNumber, (value) => {
        expect(written(value).length).toBeLessThanOrEqual(25);
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('readJsonNumber', () => {
  it('reads back every number as written, -0 included, wherever the text starts', () => {
    fc.assert(
      fc.property(anyNumber.filter(Number.isFinite), fc.nat(6), (value, pad) => {
        expect(Object.is(read(JSON.stringify(value), pad), JSON.parse(JSON.stringify(value)))).toBe(true);
      }),
      { numRuns: 20_000 },
    );
    expect(Object.is(read('-0'), -0)).toBe(true);
  });

  it('reads any JSON number text as JSON.parse does: long digit runs, trailing zeros, exponents', () => {
    const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
    const integerPart = fc.oneof(fc.constant('0'), fc.tuple(fc.constantFrom(...'123456789'), digits(0, 24)).map(([a, b]) => a + b));
    const text = fc
      .tuple(fc.boolean(), integerPart, fc.option(digits(1, 24), { nil: undefined }), fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits(1, 3)), { nil: undefined }))
      .map(([isNegative, integer, fraction, exponent]) => `${isNegative ? '-' : ''}${integer}${fraction === undefined ? '' : `.${fraction}`}${exponent === undefined ? '' : exponent.join('')}`);
    fc.assert(
      fc.property(text, (t) => {
        expect(Object.is(read(t), JSON.parse(t))).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('answers NaN for text that is not one JSON number: text JSON.parse refuses, and space around a number', () => {
    for (const text of ['-', '01', '-01', '1.', '.5', '1e', '1e+', '+1', 'Infinity', '0x10', '1.5.2', '1e5.5', '--1', '1-']) {
      expect(read(text), text).toBeNaN();
      expect(() => JSON.parse(text) as unknown, text).toThrow();
    }
    for (const text of ['', 'null', ' 1', '1 ']) expect(read(text), text).toBeNaN();
  });
});
