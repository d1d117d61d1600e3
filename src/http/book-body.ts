import type { LimitBook } from '../domain/limit-book.js';

/**
 * Each limit's JSON (and its UTF-8 length) by its definition object. A compiled limit's
 * definition is a frozen copy of plain JSON values, so its text never goes stale, and
 * JSON.stringify writes what the route's schema (a loose object per limit) would; entries go
 * with their definitions.
 */
const limitJson = new WeakMap<object, { readonly text: string; readonly bytes: number }>();
const COMMA = 0x2c;

function jsonOf(definition: object): { readonly text: string; readonly bytes: number } {
  let json = limitJson.get(definition);
  if (json === undefined) {
    const text = JSON.stringify(definition);
    json = { text, bytes: Buffer.byteLength(text) };
    limitJson.set(definition, json);
  }
  return json;
}

/** A book's body, and where each limit's bytes sit in it: what the next book's body copies. */
export interface Body {
  readonly book: LimitBook;
  readonly definitions: readonly object[];
  readonly bytes: Buffer;
  readonly starts: Uint32Array;
  readonly lengths: Uint32Array;
}

/**
 * The bodies of GET /v1/limits, one per book, each made from the one before. One PUT, POST or
 * DELETE of a limit is the common change and dashboards poll the book: the limits it left alone
 * keep their place (a change replaces a limit where it stood, adds one last, or removes one), so
 * their bytes are copied from the last body in runs, and only the changed limit is written.
 * Writing every limit's text again cost a GET after a change at 100,000 limits ~50 ms of one
 * step; copying runs of bytes costs a memory copy of the body.
 *
 * Bytes, made once per book: a string body is encoded to UTF-8 again on every send (11 MB at
 * 100,000 limits). Memory of its own: a small Buffer is a view of a shared pool slab, which a
 * kept body would hold whole.
 */
export class BookBodies {
  private last: Body | undefined;

  /** The body for `book`: kept while it is the book, made from the last one when it is not. */
  of(book: LimitBook): Buffer {
    // By the book itself, not its version: a version a journal rollback took back can come again with other limits.
    if (this.last?.book !== book) this.last = bodyOf(book, this.last);
    return this.last.bytes;
  }
}

/** Where each limit of `definitions` stands in `before` (-1: not there, so written afresh). */
function sourcesIn(definitions: readonly object[], before: Body | undefined): Int32Array {
  const sources = new Int32Array(definitions.length).fill(-1);
  if (before === undefined) return sources;
  const old = before.definitions;
  for (let i = 0, p = 0; i < definitions.length && p < old.length; i++) {
    const definition = definitions[i]!;
    if (old[p] === definition) sources[i] = p++;
    else if (old[p + 1] === definition) {
      // The one at p was removed.
      sources[i] = p + 1;
      p += 2;
    } else p++; // Replaced where it stood (or the book was replaced: nothing more will match).
  }
  return sources;
}

/** The body of GET /v1/limits for `book`, copying what it can from `before` (exported for tests). */
export function bodyOf(book: LimitBook, before?: Body): Body {
  const definitions = book.definitions;
  const n = definitions.length;
  const sources = sourcesIn(definitions, before);
  const lengths = new Uint32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const source = sources[i]!;
    lengths[i] = source >= 0 ? before!.lengths[source]! : jsonOf(definitions[i]!).bytes;
    total += lengths[i]!;
  }
  const head = `{"version":${book.version},"limits":[`;
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(head) + total + Math.max(0, n - 1) + 2);
  const starts = new Uint32Array(n);
  let at = bytes.write(head, 0);
  for (let i = 0; i < n; ) {
    if (i > 0) bytes[at++] = COMMA;
    const source = sources[i]!;
    if (source < 0) {
      starts[i] = at;
      at += bytes.write(jsonOf(definitions[i]!).text, at);
      i++;
      continue;
    }
    // A run of limits that stood side by side in the last body is one copy, commas included.
    let end = i + 1;
    while (end < n && sources[end] === sources[end - 1]! + 1) end++;
    const from = before!.starts[source]!;
    for (let k = i; k < end; k++) starts[k] = at + before!.starts[sources[k]!]! - from;
    at += before!.bytes.copy(bytes, at, from, before!.starts[sources[end - 1]!]! + lengths[end - 1]!);
    i = end;
  }
  bytes.write(']}', at);
  return { book, definitions, bytes, starts, lengths };
}
