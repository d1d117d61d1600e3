import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteText } from '../../src/http/byte-text.js';
import { parseInSlices, parseJson } from '../../src/http/sliced-json.js';

const now = (): Promise<void> => Promise.resolve();

/** What parsing `text` whole gives: the value, or that it throws. */
function whole(text: string): { value: unknown } | 'throws' {
  try {
    return { value: parseJson(text) };
  } catch {
    return 'throws';
  }
}

async function sliced(text: string, sliceBytes: number): Promise<{ value: unknown } | 'throws'> {
  try {
    return { value: await parseInSlices(text, 'orders', now, { sliceBytes }) };
  } catch {
    return 'throws';
  }
}

const whitespace = fc.constantFrom('', ' ', '\n', '\t ', '\r\n  ');
/** Strings that look like the structure the scanner follows. */
const tricky = fc.constantFrom('"', '\\', '\\"', ',', '[', ']', '{', '}', ':', 'orders', '"orders"', '\u2028', '\uFEFF', 'é');
const trickyString = fc.array(fc.oneof(tricky, fc.string({ maxLength: 3 })), { maxLength: 6 }).map((parts) => parts.join(''));
const item = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(trickyString, fc.oneof(trickyString, fc.array(trickyString, { maxLength: 3 })), { maxKeys: 4 }),
);

/** A batch-shaped JSON text: other members around the array, odd keys and whitespace everywhere. */
const batchText = fc
  .record({
    items: fc.array(item, { maxLength: 30 }),
    before: fc.dictionary(trickyString.filter((k) => k !== 'orders'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    after: fc.dictionary(trickyString.filter((k) => k !== 'orders'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    ws: fc.array(whitespace, { minLength: 8, maxLength: 8 }),
  })
  .map(({ items, before, after, ws }) => {
    const members = (o: Record<string, unknown>) => Object.entries(o).map(([k, v]) => `${JSON.stringify(k)}${ws[0]}:${ws[1]}${JSON.stringify(v)}`);
    const array = `[${ws[2]}${items.map((v) => JSON.stringify(v, null, v === null ? 0 : 1)).join(`${ws[3]},${ws[4]}`)}${ws[5]}]`;
    return `${ws[6]}{${[...members(before), `"orders"${ws[0]}:${ws[1]}${array}`, ...members(after)].join(`,${ws[7]}`)}}${ws[7]}`;
  });

/**
 * The text's UTF-8 bytes cut at random places, as a body read in chunks arrives: a string, an
 * escape or a multi-byte character may straddle a cut.
 */
const inChunks = (text: string) => {
  const bytes = Buffer.from(text, 'utf8');
  return fc.array(fc.nat({ max: bytes.length }), { maxLength: 12 }).map((cuts) => {
    const at = [...cuts].sort((a, b) => a - b);
    return new ByteText([...at, bytes.length].map((to, i) => bytes.subarray(i === 0 ? 0 : at[i - 1], to)));
  });
};

async function slicedChunks(text: ByteText, sliceBytes: number): Promise<{ value: unknown } | 'throws'> {
  try {
    return { value: await parseInSlices(text, 'orders', now, { sliceBytes }) };
  } catch {
    return 'throws';
  }
}

/** One edit at a random place: a character dropped, or one of JSON's own put in. */
const edited = (text: string) =>
  fc.record({ at: fc.nat({ max: Math.max(0, text.length - 1) }), insert: fc.constantFrom('', '"', ',', '[', ']', '{', '}', ':', '\\', ' ', '1', '\uFEFF', 'x') }).map(({ at, insert }) =>
    insert === '' ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + insert + text.slice(at),
  );

describe('parseInSlices', () => {
  it('gives what parsing the text whole gives, at any slice size', async () => {
    await fc.assert(
      fc.asyncProperty(batchText, fc.integer({ min: 1, max: 64 }), async (text, sliceBytes) => {
        expect(await sliced(text, sliceBytes)).toEqual(whole(text));
      }),
      { numRuns: 1_000 },
    );
  });

  it('throws exactly when parsing the text whole throws, and otherwise gives the same value', async () => {
    await fc.assert(
      fc.asyncProperty(
        batchText.chain((text) => edited(text)),
        fc.integer({ min: 1, max: 64 }),
        async (text, sliceBytes) => {
          expect(await sliced(text, sliceBytes)).toEqual(whole(text));
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('gives what parsing the text whole gives when its bytes come in chunks, cut anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(
        batchText.chain((text) => fc.oneof(fc.constant(text), edited(text))).chain((text) => fc.tuple(fc.constant(text), inChunks(text))),
        fc.integer({ min: 1, max: 64 }),
        async ([text, chunks], sliceBytes) => {
          expect(chunks.toString()).toBe(text);
          expect(await slicedChunks(chunks, sliceBytes)).toEqual(whole(text));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('decodes invalid UTF-8 as decoding the whole body does, wherever the chunks and runs are cut', async () => {
    // Bytes a client may send that are not UTF-8: stray continuation bytes, cut sequences,
    // overlongs, encoded surrogates, past U+10FFFF. Each decodes to U+FFFD, whole or in runs.
    const junk = fc.constantFrom([0x80], [0xff], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]);
    const withJunk = batchText.chain((text) => {
      const bytes = Buffer.from(text, 'utf8');
      return fc.array(fc.tuple(fc.nat({ max: bytes.length }), junk), { minLength: 1, maxLength: 4 }).map((inserts) => {
        let out = bytes;
        for (const [at, junkBytes] of [...inserts].sort((a, b) => b[0] - a[0])) out = Buffer.concat([out.subarray(0, at), Buffer.from(junkBytes), out.subarray(at)]);
        return out;
      });
    });
    await fc.assert(
      fc.asyncProperty(
        withJunk.chain((bytes) => fc.tuple(fc.constant(bytes), fc.array(fc.nat({ max: bytes.length }), { maxLength: 12 }))),
        fc.integer({ min: 1, max: 64 }),
        async ([bytes, cuts], sliceBytes) => {
          const at = [...cuts].sort((a, b) => a - b);
          const chunks = new ByteText([...at, bytes.length].map((to, i) => bytes.subarray(i === 0 ? 0 : at[i - 1], to)));
          expect(await slicedChunks(chunks, sliceBytes)).toEqual(whole(bytes.toString('utf8')));
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it.each([
    ['the array twice (the last one counts)', '{"orders":[1,2],"orders":[3]}'],
    ['an escaped key that spells the array', '{"ord\\u0065rs":[1],"x":1}'],
    ['a byte-order mark before the root', '\uFEFF{"orders":[1]}'],
    ['a byte-order mark inside the array', '{"orders":[\uFEFF1,2]}'],
    ['a poisoned prototype in an item', '{"orders":[{"__proto__":{"x":1}}]}'],
    ['a poisoned constructor in an item', '{"orders":[{"constructor":{"prototype":{"x":1}}}]}'],
    ['no array where the member is', '{"orders":{"a":[1,2]}}'],
    ['a trailing comma', '{"orders":[1,2,]}'],
    ['an empty item', '{"orders":[1,,2]}'],
    ['an empty array', '{"orders":[ ]}'],
    // Blanks to trim() but not to JSON: the array is not empty, the text is not JSON.
    ['an array of a byte-order mark and whitespace', '{"orders":[\uFEFF\n ]}'],
    ['an array of a no-break space', '{"orders":[\u00a0]}'],
    ['an array of a vertical tab', '{"orders":[\u000b]}'],
    ['an array of a form feed', '{"atomic":true,"orders":[\u000c]}'],
    ['an array of a line separator', '{"orders":[\u2028]}'],
    ['an array of an ideographic space', '{"orders":[\n\u3000\n]}'],
    ['a mismatched bracket', '{"orders":[{"a":1]}]}'],
    ['a second root', '{"orders":[1]}{"orders":[2]}'],
    ['a root array', '[{"orders":[1]}]'],
    ['an unterminated string', '{"orders":["a\\"]}'],
  ])('agrees with the whole parse on %s', async (_name, text) => {
    for (const sliceBytes of [1, 3, 1_000]) expect(await sliced(text, sliceBytes)).toEqual(whole(text));
  });

  it('yields between slices: a scan step and a parse step per slice of the text', async () => {
    const text = JSON.stringify({ orders: Array.from({ length: 1_000 }, (_, i) => ({ orderId: `o-${i}`, quantity: i })), atomic: true });
    let turns = 0;
    const value = await parseInSlices(text, 'orders', () => Promise.resolve(void turns++), { sliceBytes: 2_000 });
    expect(value).toEqual(JSON.parse(text));
    // ~31k characters: ~15 scan steps and ~15 parse steps, each yielding once in between.
    expect(turns).toBeGreaterThanOrEqual(2 * Math.floor(text.length / 2_000) - 2);
    expect(turns).toBeLessThanOrEqual(2 * Math.ceil(text.length / 2_000) + 2);
  });
  it('follows escaped quotes and backslashes in strings, so a body with them is still parsed in slices', async () => {
    const items = Array.from({ length: 400 }, (_, i) => ({ note: `say "${i}" \\`, path: 'C:\\dir\\', quote: '"' }));
    const text = JSON.stringify({ orders: items });
    let turns = 0;
    const value = await parseInSlices(text, 'orders', () => Promise.resolve(void turns++), { sliceBytes: 2_000 });
    expect(value).toEqual({ orders: items });
    // A scanner that lost its place in a string would give up and parse the text whole: no turns.
    expect(turns).toBeGreaterThan(2 * Math.floor(text.length / 2_000) - 2);
  });

  it('carries an escape over a chunk boundary: a backslash that ends a chunk escapes the quote that starts the next', async () => {
    const text = '{"orders":["a\\"],[\\"b",1]}';
    expect(parseJson(text)).toEqual({ orders: ['a"],["b', 1] });
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const chunks = new ByteText([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(await slicedChunks(chunks, 4)).toEqual(whole(text));
    }
  });

  it('parses an array of more than maxItems whole, giving up the scan as soon as it passes them', async () => {
    const text = JSON.stringify({ orders: Array.from({ length: 1_000 }, (_, i) => i), atomic: true });
    let turns = 0;
    const value = await parseInSlices(text, 'orders', () => Promise.resolve(void turns++), { sliceBytes: 100, maxItems: 10 });
    expect(value).toEqual(JSON.parse(text));
    // 10 items of at most 4 characters sit in the first slice: no further scan step, no parse steps.
    expect(turns).toBe(0);
    // The same text under the limit is scanned and parsed in slices (~50 each).
    turns = 0;
    await parseInSlices(text, 'orders', () => Promise.resolve(void turns++), { sliceBytes: 100, maxItems: 1_000 });
    expect(turns).toBeGreaterThan(50);
  });
});
