import secureJson from 'secure-json-parse';
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-chars.js';
import { ByteText } from './byte-text.js';
import { repeatedKeyError, repeatedKeyIn } from './repeated-keys.js';

/**
 * `value`, unless its text repeats a key in one object (see repeatedKeyIn). A run of items is
 * parsed as an array of its own: its item `i` is the batch's item `firstItem + i` under `key`.
 */
function refuseRepeated(value: unknown, text: string, key: string, firstItem = 0): unknown {
  const repeated = repeatedKeyIn(text, value);
  if (repeated === undefined) return value;
  if (key === '') throw repeatedKeyError(repeated);
  const [index, ...rest] = repeated.split('.');
  throw repeatedKeyError([key, String(Number(index) + firstItem), ...rest].join('.'));
}

const keep = (value: unknown): unknown => value;

/** As Fastify's default JSON parser: `__proto__` and `constructor.prototype` keys are refused. */
const POISONING = { protoAction: 'error', constructorAction: 'error' } as const;

export const parseJson = (text: string): unknown => secureJson.parse(text, null, POISONING) as unknown;

/**
 * Bytes scanned, or of items parsed, per step: about half a millisecond of work here (about 200
 * orders). A young collection that lands in a step lengthens that turn by its own pause (5–12
 * ms on a 2-core host while a large batch is alive), so the steps are kept short: 128 KB steps
 * took 2–3 ms, and the 10,000-order batch's longest turn was longer by that.
 */
const SLICE_BYTES = 32 * 1024;

const isWhitespace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;

function isBlank(text: ByteText, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isWhitespace(text.charCodeAt(i))) return false;
  return true;
}

/**
 * Where the string opened at `open` closes, or −1: the next quote not escaped, a backslash
 * escaping the byte after it. Read byte by byte in the chunk's own array: strings are short (an
 * order's are ids and enums), and a search call per string (then a look back for backslashes)
 * made the scan of a 10,000-order body take twice as long as a string's.
 */
function closingQuote(text: ByteText, open: number): number {
  let isEscape = false;
  for (let i = open + 1; i < text.length; ) {
    const index = text.chunkAt(i);
    const chunk = text.chunk(index);
    const base = text.chunkStart(index);
    const end = base + chunk.length;
    for (; i < end; i++) {
      const c = chunk[i - base]!;
      if (isEscape) isEscape = false;
      else if (c === BACKSLASH) isEscape = true;
      else if (c === QUOTE) return i;
    }
  }
  return -1;
}

/**
 * One pass over a JSON text, resumable, that finds the array which is the value of the root
 * object's member `key` and where each of its items starts and ends. It tracks only strings,
 * nesting and separators; whether the text is JSON is left to the parses of the pieces it
 * cuts out. `isPlain` turns false for anything it does not follow (the root not an object, the
 * member missing, twice, not an array, or a root key with escapes): the text is then parsed whole.
 */
class ItemScanner {
  /** Index of the array's `[` and `]`. */
  open = -1;
  close = -1;
  /** Start and end (exclusive) of each item, with the whitespace around it. */
  readonly bounds: number[] = [];
  isPlain = true;
  private at = 0;
  private depth = 0;
  private expectsKey = false;
  private keyIsTarget = false;
  private expectsTarget = false;
  private inTarget = false;
  private itemStart = 0;

  constructor(
    private readonly text: ByteText,
    private readonly key: string,
    /** Past this many items the scan gives up (the text is parsed whole): `bounds` stays bounded. */
    private readonly maxItems: number,
  ) {}

  get isDone(): boolean {
    return !this.isPlain || this.at >= this.text.length;
  }

  /**
   * Scans up to about `bytes` more of the text (a string is skipped whole), a chunk at a time:
   * the loop reads the chunk's bytes, not the text through a method.
   */
  advance(bytes: number): void {
    const text = this.text;
    const end = Math.min(text.length, this.at + bytes);
    let i = this.at;
    while (i < end && this.isPlain) {
      const index = text.chunkAt(i);
      const chunk = text.chunk(index);
      const base = text.chunkStart(index);
      const stop = Math.min(end, base + chunk.length);
      while (i < stop && this.isPlain) {
        const c = chunk[i - base]!;
        if (c === QUOTE) i = this.skipString(i);
        else this.structuralChar(c, i++);
      }
    }
    this.at = i;
    if (this.at >= text.length && (this.close < 0 || this.depth !== 0)) this.isPlain = false;
  }

  /** From a string's opening quote to past its closing one; notes a root key. */
  private skipString(open: number): number {
    const text = this.text;
    if (this.depth === 0 || this.expectsTarget) {
      this.isPlain = false;
      return open;
    }
    const close = closingQuote(text, open);
    if (close < 0) {
      this.isPlain = false;
      return text.length;
    }
    if (this.depth === 1 && this.expectsKey) this.rootKey(text.slice(open + 1, close));
    this.expectsKey = false;
    return close + 1;
  }

  private rootKey(name: string): void {
    // An escaped key could spell the target's name; the whole parse decides what it means.
    if (name.includes('\\')) this.isPlain = false;
    this.keyIsTarget = name === this.key;
    if (this.keyIsTarget && this.open >= 0) this.isPlain = false;
  }

  private structuralChar(c: number, i: number): void {
    if (isWhitespace(c)) return;
    if (this.expectsTarget && c !== OPEN_BRACKET) {
      this.isPlain = false;
      return;
    }
    if (this.depth === 0 && c !== OPEN_BRACE) {
      // Before the root object (a BOM, an array) or after it: left to the whole parse.
      this.isPlain = false;
      return;
    }
    switch (c) {
      case OPEN_BRACE:
      case OPEN_BRACKET:
        if (this.expectsTarget) {
          this.expectsTarget = false;
          this.inTarget = true;
          this.open = i;
          this.itemStart = i + 1;
        }
        this.depth++;
        if (this.depth === 1) this.expectsKey = true;
        return;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        this.depth--;
        if (this.inTarget && this.depth === 1) this.closeTarget(i);
        return;
      case COMMA:
        if (this.depth === 1) this.expectsKey = true;
        else if (this.inTarget && this.depth === 2) this.endItem(i);
        return;
      case COLON:
        if (this.depth === 1 && this.keyIsTarget) this.expectsTarget = true;
        this.keyIsTarget = false;
        return;
      default:
        return;
    }
  }

  private endItem(at: number): void {
    if (this.bounds.length >= 2 * this.maxItems) {
      this.isPlain = false;
      return;
    }
    this.bounds.push(this.itemStart, at);
    this.itemStart = at + 1;
  }

  private closeTarget(at: number): void {
    this.inTarget = false;
    this.close = at;
    // `[]` has no items; `[1,]` has an empty last one, which then fails to parse, as it should.
    // (JSON's whitespace, not trim()'s: `[\uFEFF]` is not an empty array.)
    if (this.bounds.length > 0 || !isBlank(this.text, this.itemStart, at)) this.endItem(at);
  }
}

/**
 * Parses a JSON text whose root object has one large array member (`key`) a slice at a time,
 * calling `yieldTurn` between slices so that other requests run meanwhile. The result, and
 * whether it throws, are those of parsing the text whole: the items are parsed in runs, and the
 * text with the array emptied on its own; if all of those parse, the text is JSON, and the
 * array's items are exactly those values. A text the scanner does not follow is parsed whole,
 * and so is one whose array holds more than `maxItems` items: the caller refuses those anyway,
 * and two numbers kept per item would otherwise grow with the body (a body of `0,` items held
 * about six times what a whole parse does). With `refusesRepeatedKeys`, each part is also checked
 * for a key twice in one object (repeated-keys.ts), which throws a problem naming it.
 */
export async function parseInSlices(
  body: string | ByteText,
  key: string,
  yieldTurn: () => Promise<void>,
  {
    maxItems = Number.POSITIVE_INFINITY,
    sliceBytes = SLICE_BYTES,
    refusesRepeatedKeys = false,
  }: { maxItems?: number; sliceBytes?: number; refusesRepeatedKeys?: boolean } = {},
): Promise<unknown> {
  const check = refusesRepeatedKeys ? refuseRepeated : keep;
  const text = typeof body === 'string' ? ByteText.of(body) : body;
  const scanner = new ItemScanner(text, key, maxItems);
  for (scanner.advance(sliceBytes); !scanner.isDone; scanner.advance(sliceBytes)) await yieldTurn();
  if (!scanner.isPlain) {
    const whole = text.toString();
    return check(parseJson(whole), whole, '');
  }
  const envelopeText = text.slice(0, scanner.open + 1) + text.slice(scanner.close);
  const envelope = check(parseJson(envelopeText), envelopeText, '') as Record<string, unknown>;
  const { bounds } = scanner;
  const items: unknown[] = [];
  // Items are parsed a run at a time, as an array of their own: the text from the first's start
  // to the last's end is those items and the commas between them, so it parses if they all do.
  for (let first = 0; first < bounds.length; ) {
    let last = first;
    while (last + 2 < bounds.length && bounds[last + 1]! - bounds[first]! < sliceBytes) last += 2;
    const runText = `[${text.slice(bounds[first]!, bounds[last + 1])}]`;
    const run = check(parseJson(runText), runText, key, first / 2) as unknown[];
    // A run of one empty item (`[1,]`'s last) parses as `[]`: it is not a value.
    if (run.length !== (last - first) / 2 + 1) throw new SyntaxError(`empty item in the array at position ${bounds[first]}`);
    for (const item of run) items.push(item);
    first = last + 2;
    if (first < bounds.length) await yieldTurn();
  }
  envelope[key] = items;
  return envelope;
}
