import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PieceText } from '../../src/http/piece-text.js';

/** A text and the pieces it is cut into (empty pieces included: they are skipped). */
const cutText = fc
  .record({ text: fc.string({ unit: fc.constantFrom('a', '"', '\\', 'é', '\u2028', '😀', ','), maxLength: 40 }), cuts: fc.array(fc.nat({ max: 40 }), { maxLength: 8 }) })
  .map(({ text, cuts }) => {
    const at = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((a, b) => a - b);
    const pieces: string[] = [];
    let from = 0;
    for (const to of [...at, text.length]) {
      pieces.push(text.slice(from, to));
      from = to;
    }
    return { text, pieces };
  });

describe('PieceText', () => {
  it('reads as the string its pieces make, wherever they are cut', () => {
    fc.assert(
      fc.property(cutText, fc.integer({ min: -2, max: 45 }), fc.integer({ min: -2, max: 45 }), ({ text, pieces }, a, b) => {
        const pieceText = new PieceText(pieces);
        expect(pieceText.length).toBe(text.length);
        expect(pieceText.toString()).toBe(text);
        for (let i = -1; i <= text.length; i++) expect(pieceText.charCodeAt(i)).toEqual(text.charCodeAt(i));
        for (const char of ['"', '\\', 'a', 'x']) expect(pieceText.indexOf(char, a)).toBe(text.indexOf(char, a));
        if (a >= 0 && b >= 0) expect(pieceText.slice(a, b)).toBe(text.slice(a, Math.max(a, b)));
        if (a >= 0) expect(pieceText.slice(a)).toBe(text.slice(a));
      }),
      { numRuns: 2_000 },
    );
  });

  it('reads backwards after forwards (the cursor is only a hint)', () => {
    const pieceText = new PieceText(['ab', 'cd', 'ef']);
    expect(String.fromCharCode(pieceText.charCodeAt(5), pieceText.charCodeAt(0), pieceText.charCodeAt(3), pieceText.charCodeAt(2))).toBe('fadc');
  });

  it('holds no piece for an empty text', () => {
    const empty = new PieceText(['', '']);
    expect(empty.length).toBe(0);
    expect(empty.charCodeAt(0)).toBeNaN();
    expect(empty.indexOf('"', 0)).toBe(-1);
    expect(empty.slice(0, 3)).toBe('');
    expect(empty.toString()).toBe('');
  });

  it('looks for one character only', () => {
    expect(() => new PieceText(['ab']).indexOf('ab', 0)).toThrow(RangeError);
  });
});
