/**
 * An array whose inside is only characters that String.prototype.trim() removes but JSON does
 * not count as whitespace (NBSP, BOM, VT, FF, U+2028, U+3000) is not an empty array: the whole
 * parse, and Fastify's own parser, refuse the text, and so must the sliced parse (an early
 * version tested emptiness with trim()). Over HTTP, a large body is refused as malformed JSON
 * just as a small one is.
 */
import { describe, expect, it } from 'vitest';
import { SLICED_PARSE_CHARS } from '../../src/http/routes/checks.js';
import { parseInSlices, parseJson } from '../../src/http/sliced-json.js';
import { bearer } from '../support/app-fixtures.js';
import { appPerTest, expectProblem } from './http-helpers.js';

const now = (): Promise<void> => Promise.resolve();

function whole(text: string): { value: unknown } | 'throws' {
  try {
    return { value: parseJson(text) };
  } catch {
    return 'throws';
  }
}

async function sliced(text: string, sliceChars: number): Promise<{ value: unknown } | 'throws'> {
  try {
    return { value: await parseInSlices(text, 'orders', now, sliceChars) };
  } catch {
    return 'throws';
  }
}

describe('parseInSlices on an array of non-JSON whitespace', () => {
  it.each([
    ['a no-break space', '{"orders":[\u00a0]}'],
    ['a byte-order mark', '{"orders":[ \ufeff ]}'],
    ['a vertical tab', '{"orders":[\u000b]}'],
    ['a form feed', '{"atomic":true,"orders":[\u000c]}'],
    ['a line separator', '{"orders":[\u2028]}'],
    ['an ideographic space', '{"orders":[\n\u3000\n]}'],
  ])('refuses %s as the whole parse does', async (_name, text) => {
    expect(whole(text)).toBe('throws');
    for (const sliceChars of [1, 3, 1_000]) expect(await sliced(text, sliceChars)).toBe('throws');
  });
});

describe('a large batch body whose array holds only a no-break space', () => {
  const startApp = appPerTest();

  it('is refused as malformed JSON, as the same body is when small', async () => {
    const app = await startApp({ server: { logLevel: 'info', defaultDeadlineMs: 5_000, maxBatchSize: 10_000, bodyLimitBytes: 8 * 1024 * 1024 } });
    const post = (payload: string) =>
      app.server.inject({ method: 'POST', url: '/v1/checks/batch', headers: { ...bearer('gateway'), 'content-type': 'application/json' }, payload });
    const small = '{"orders":[ \u00a0]}';
    const large = `{"orders":[${' '.repeat(SLICED_PARSE_CHARS)}\u00a0]}`;
    expect(expectProblem(await post(small), 400).type).toBe('/problems/malformed-json');
    // Before adb8749: 400 /problems/validation "orders must NOT have fewer than 1 items" (parsed as {"orders":[]}).
    expect(expectProblem(await post(large), 400).type).toBe('/problems/malformed-json');
  });
});
