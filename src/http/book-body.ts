import { COMMA } from './json-chars.js';
import { nextTurn } from './next-turn.js';
import type { LimitBook } from '../domain/limit-book.js';

/**
 * Each limit's JSON (and its UTF-8 length) by its definition object. A compiled limit's
 * definition is a frozen copy of plain JSON values, so its text never goes stale, and
 * JSON.stringify writes what the route's schema (a loose object per limit) would; entries go
 * with their definitions.
 */
const limitJson = new WeakMap<object, { readonly text: string; readonly bytes: number }>();

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

/** A body being made: where each limit comes from, and how far the bytes are written. */
interface Making extends Body {
  readonly sources: Int32Array;
  next: number;
  at: number;
}

/** Bytes a large body is made in between turns of the event loop (a copy of fresh pages runs ~2 GB/s here). */
const BODY_SLICE_BYTES = 1 << 20;

/**
 * The bodies of GET /v1/limits, one per book, each made from the one before. One PUT, POST or
 * DELETE of a limit is the common change and dashboards poll the book: the limits it left alone
 * keep their place (a change replaces a limit where it stood, adds one last, or removes one), so
 * their bytes are copied from the last body in runs, and only the changed limit is written.
 * Writing every limit's text again cost a GET after a change at 100,000 limits ~30 ms of one
 * step. A body larger than a slice is made a slice at a time, the event loop free in between
 * (DESIGN §6); a GET of a book whose body is being made waits for it.
 *
 * Bytes, made once per book: a string body is encoded to UTF-8 again on every send (11 MB at
 * 100,000 limits). Memory of its own: a small Buffer is a view of a shared pool slab, which a
 * kept body would hold whole.
 */
export class BookBodies {
  private last: Body | undefined;
  private making: { readonly book: LimitBook; readonly done: Promise<Body> } | undefined;

  constructor(
    private readonly yieldTurn: () => Promise<void> = nextTurn,
    private readonly sliceBytes = BODY_SLICE_BYTES,
  ) {}

  /** The body for `book`: kept while it is the book, made from the last one when it is not. */
  of(book: LimitBook): Buffer | Promise<Buffer> {
    // By the book itself, not its version: a version a journal rollback took back can come again with other limits.
    if (this.last?.book === book) return this.last.bytes;
    if (this.making?.book === book) return this.making.done.then((body) => body.bytes);
    // Read now: a book a change has superseded can no longer be read.
    const contents = { book, version: book.version, definitions: book.definitions };
    if (this.making === undefined) {
      const body = planBody(contents, this.last);
      if (body.bytes.length <= this.sliceBytes) {
        fillBody(body, this.last, Number.POSITIVE_INFINITY);
        this.last = body;
        return body.bytes;
      }
      return this.track(book, this.fillInSlices(body, this.last));
    }
    // A body is being made for an earlier book: this one is made from it, once it is done.
    return this.track(book, this.making.done.then(() => this.fillInSlices(planBody(contents, this.last), this.last)));
  }

  private track(book: LimitBook, done: Promise<Body>): Promise<Buffer> {
    const making = { book, done };
    this.making = making;
    return done.then(
      (body) => {
        this.last = body;
        if (this.making === making) this.making = undefined;
        return body.bytes;
      },
      (error: unknown) => {
        if (this.making === making) this.making = undefined;
        throw error;
      },
    );
  }

  private async fillInSlices(body: Making, before: Body | undefined): Promise<Body> {
    while (!fillBody(body, before, this.sliceBytes)) await this.yieldTurn();
    return body;
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

/** Sizes the body of a book and writes its head; fillBody writes the rest. */
function planBody({ book, version, definitions }: { book: LimitBook; version: number; definitions: readonly object[] }, before: Body | undefined): Making {
  const n = definitions.length;
  const sources = sourcesIn(definitions, before);
  const lengths = new Uint32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const source = sources[i]!;
    lengths[i] = source >= 0 ? before!.lengths[source]! : jsonOf(definitions[i]!).bytes;
    total += lengths[i]!;
  }
  const head = `{"version":${version},"limits":[`;
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(head) + total + Math.max(0, n - 1) + 2);
  return { book, definitions, bytes, starts: new Uint32Array(n), lengths, sources, next: 0, at: bytes.write(head, 0) };
}

/** Writes about `budget` more bytes of the body (at least one limit); returns whether it is done. */
function fillBody(body: Making, before: Body | undefined, budget: number): boolean {
  const { definitions, bytes, starts, lengths, sources } = body;
  const n = definitions.length;
  let { next: i, at } = body;
  const stopAt = at + budget;
  while (i < n && at < stopAt) {
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
    let size = lengths[i]!;
    while (end < n && sources[end] === sources[end - 1]! + 1 && at + size < stopAt) size += 1 + lengths[end++]!;
    const from = before!.starts[source]!;
    for (let k = i; k < end; k++) starts[k] = at + before!.starts[sources[k]!]! - from;
    at += before!.bytes.copy(bytes, at, from, from + size);
    i = end;
  }
  body.next = i;
  body.at = at;
  if (i < n) return false;
  bytes.write(']}', at);
  return true;
}

/** The body of GET /v1/limits for `book`, made in one step, copying what it can from `before` (for tests). */
export function bodyOf(book: LimitBook, before?: Body): Body {
  const body = planBody({ book, version: book.version, definitions: book.definitions }, before);
  fillBody(body, before, Number.POSITIVE_INFINITY);
  return body;
}
