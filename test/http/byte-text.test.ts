import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteText } from '../../src/http/byte-text.js';

/** A text's UTF-8 bytes and the chunks they are cut into: anywhere, inside a character too, empty chunks included. */
const cutBytes = fc
  .record({ text: fc.string({ unit: fc.constantFrom('a', '"', '\\', 'é', '\u2028', '😀', ','), maxLength: 30 }), cuts: fc.array(fc.nat({ max: 80 }), { maxLength: 8 }) })
  .map(({ text, cuts }) => {
    const bytes = Buffer.from(text, 'utf8');
    const at = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
    return { text, bytes, chunks: [...at, bytes.length].map((to, i) => bytes.subarray(i === 0 ? 0 : at[i - 1], to)) };
  });

describe('ByteText', () => {
  it('reads as the bytes its chunks make, wherever they are cut', () => {
    fc.assert(
      fc.property(cutBytes, fc.integer({ min: -2, max: 90 }), fc.integer({ min: -2, max: 90 }), ({ text, bytes, chunks }, a, b) => {
        const byteText = new ByteText(chunks);
        expect(byteText.length).toBe(bytes.length);
        expect(byteText.toString()).toBe(text);
        for (let i = -1; i <= bytes.length; i++) expect(byteText.charCodeAt(i)).toEqual(i >= 0 && i < bytes.length ? bytes[i] : Number.NaN);
        if (a >= 0 && b >= 0) expect(byteText.slice(a, b)).toBe(bytes.subarray(a, Math.max(a, b)).toString('utf8'));
        if (a >= 0) expect(byteText.slice(a)).toBe(bytes.subarray(a).toString('utf8'));
      }),
      { numRuns: 2_000 },
    );
  });

  it('reads backwards after forwards (the cursor is only a hint)', () => {
    const byteText = new ByteText([Buffer.from('ab'), Buffer.from('cd'), Buffer.from('ef')]);
    expect(String.fromCharCode(byteText.charCodeAt(5), byteText.charCodeAt(0), byteText.charCodeAt(3), byteText.charCodeAt(2))).toBe('fadc');
  });

  it('decodes a character whose bytes are in two chunks', () => {
    const bytes = Buffer.from('"é😀"');
    expect(new ByteText([bytes.subarray(0, 2), bytes.subarray(2, 5), bytes.subarray(5)]).slice(1, bytes.length - 1)).toBe('é😀');
  });

  it('holds no chunk for an empty text', () => {
    const empty = new ByteText([Buffer.alloc(0), Buffer.alloc(0)]);
    expect(empty.length).toBe(0);
    expect(empty.charCodeAt(0)).toBeNaN();
    expect(empty.slice(0, 3)).toBe('');
    expect(empty.toString()).toBe('');
  });
});
