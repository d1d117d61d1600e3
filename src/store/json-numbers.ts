/**
 * Numbers as JSON text, written into and read from bytes without making a string: the journal's
 * order_accepted records carry four or five numbers each, and prices are decimals. A decimal's
 * `${value}` (V8's shortest-digits search, a string, the number-string cache) took about 0.7 µs
 * a price in the service's batches, more than the rest of the record; JSON.parse of a whole
 * record took 1.7 µs on the snapshot worker.
 *
 * Both directions keep to the cases whose result is known to be exact, and leave the rest to
 * the engine's own conversions: the bytes and the values are always those of JSON.stringify
 * and JSON.parse.
 */

/** Fraction digits the fast path writes: 10^-6 is the smallest number JS still writes without an exponent. */
const MAX_FRACTION_DIGITS = 6;
/**
 * Scaled decimals up to this are written by the fast path. Below it a double's spacing times
 * 10^d is under 1/4, so at most one integer m has m / 10^d === value, and rounding value·10^d
 * finds it.
 */
const MAX_SCALED = 2 ** 50;
/** Digits read into one integer before the fast path gives up: 10^15 < 2^53, so m is exact. */
const MAX_READ_DIGITS = 15;
/** 10^0 … 10^22: every one exact as a double, so m / 10^d is the correctly rounded quotient. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, d) => 10 ** d);

const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * Writes `value` at `at` as JSON.stringify would (non-finite as `null`) and returns where it
 * ends; at most 25 bytes. A safe integer and a decimal of up to six fraction digits (a price)
 * are written digit by digit; anything else as `${value}`.
 */
export function writeJsonNumber(target: Buffer, at: number, value: number): number {
  if (Number.isSafeInteger(value)) return writeInteger(target, at, value);
  const end = writeShortDecimal(target, at, value);
  return end >= 0 ? end : writeAscii(target, at, Number.isFinite(value) ? `${value}` : 'null');
}

/** -0 is written `0`, as JSON.stringify does. */
function writeInteger(target: Buffer, at: number, value: number): number {
  let rest = value;
  if (rest < 0) {
    target[at++] = MINUS;
    rest = -rest;
  }
  return writeDigits(target, at, rest, 0);
}

/**
 * A value that some m / 10^d (d ≤ 6) gives back exactly, written with the fewest such d: the
 * digits of m with a point d from the right (and `0.` and zeros before a value under 1). That is
 * JS's own text for it: the fewest digits that read back as the value, which for a value of
 * this magnitude means the fewest fraction digits. −1 for any other value.
 */
function writeShortDecimal(target: Buffer, at: number, value: number): number {
  const magnitude = value < 0 ? -value : value;
  for (let d = 1; d <= MAX_FRACTION_DIGITS; d++) {
    const scale = POWERS_OF_TEN[d]!;
    const scaled = Math.round(magnitude * scale);
    // Also false for NaN and the infinities, which take the slow path to `null`.
    if (!(scaled < MAX_SCALED)) return -1;
    if (scaled / scale !== magnitude) continue;
    if (value < 0) target[at++] = MINUS;
    return writeDigits(target, at, scaled, d);
  }
  return -1;
}

/** The digits of a non-negative safe integer, a point before its last `fraction` digits (led by `0.` and zeros when it has no more). */
function writeDigits(target: Buffer, at: number, integer: number, fraction: number): number {
  let digits = 1;
  for (let scale = 10; scale <= integer; scale *= 10) digits++;
  if (digits <= fraction) digits = fraction + 1;
  const end = at + digits + (fraction > 0 ? 1 : 0);
  let rest = integer;
  let to = end;
  for (let written = 0; written < digits; written++) {
    if (written === fraction && fraction > 0) target[--to] = DOT;
    const next = Math.floor(rest / 10);
    target[--to] = ZERO + (rest - next * 10);
    rest = next;
  }
  return end;
}

function writeAscii(target: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) target[at++] = text.charCodeAt(i);
  return at;
}

/**
 * The number JSON.parse reads from bytes[start, end), or NaN (which no JSON number is) when
 * those bytes are not exactly one JSON number. Up to 15 digits with no exponent are read as
 * m / 10^d, which is exact: an integer under 2^53 over an exactly held power of ten, divided
 * with one rounding, as reading the decimal rounds once. An exponent or more digits go to Number.
 */
export function readJsonNumber(bytes: Buffer, start: number, end: number): number {
  let at = start;
  const isNegative = bytes[at] === MINUS;
  if (isNegative) at++;
  const integerStart = at;
  let integer = 0;
  while (at < end && isDigit(bytes[at]!)) integer = integer * 10 + (bytes[at++]! - ZERO);
  const integerDigits = at - integerStart;
  // JSON: at least one digit, and no leading zero before another digit.
  if (integerDigits === 0 || (integerDigits > 1 && bytes[integerStart] === ZERO)) return Number.NaN;
  let fraction = 0;
  if (at < end && bytes[at] === DOT) {
    at++;
    const fractionStart = at;
    while (at < end && isDigit(bytes[at]!)) integer = integer * 10 + (bytes[at++]! - ZERO);
    fraction = at - fractionStart;
    if (fraction === 0) return Number.NaN;
  }
  if (at < end) return readWithExponent(bytes, start, at, end);
  if (integerDigits + fraction > MAX_READ_DIGITS) return Number(bytes.toString('latin1', start, end));
  const magnitude = fraction > 0 ? integer / POWERS_OF_TEN[fraction]! : integer;
  return isNegative ? -magnitude : magnitude;
}

/** `e` or `E`, an optional sign and digits at `at`, up to `end`: Number reads such text as JSON.parse does. */
function readWithExponent(bytes: Buffer, start: number, at: number, end: number): number {
  if (bytes[at] !== 0x65 && bytes[at] !== 0x45) return Number.NaN;
  at++;
  if (bytes[at] === 0x2b || bytes[at] === MINUS) at++;
  const digitsStart = at;
  while (at < end && isDigit(bytes[at]!)) at++;
  return at === end && at > digitsStart ? Number(bytes.toString('latin1', start, end)) : Number.NaN;
}

const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;
