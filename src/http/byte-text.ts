/**
 * A request body held as the byte chunks it arrived in, read as one UTF-8 text without being
 * joined or decoded whole. Joined and decoded whole, a 10,000-order batch (1.7 MB) was two
 * allocations of its size made and filled in one synchronous step, about 12 ms on a VM where
 * every fresh page faults; and decoded as it arrived, its strings were young objects that every
 * scavenge during the parse copied. Chunks are Buffers, outside the JavaScript heap: only the
 * runs of items being parsed are decoded, a slice at a time (sliced-json.ts).
 *
 * Positions are byte offsets. JSON's structure is ASCII, and no byte of a multi-byte UTF-8
 * character is below 0x80, so a scanner that looks only for structure reads the bytes as it
 * would the characters, and cuts only between characters. Reads out of range are NaN, as
 * String's `charCodeAt`.
 */
export class ByteText {
  readonly length: number;
  /** Where each chunk starts in the text; chunks are never empty. */
  private readonly starts: number[] = [];
  private readonly chunks: Buffer[] = [];
  /** The chunk the last read was in: reads move forward through the text. */
  private cursor = 0;

  constructor(chunks: readonly Buffer[]) {
    let length = 0;
    for (const chunk of chunks) {
      if (chunk.length === 0) continue;
      this.starts.push(length);
      this.chunks.push(chunk);
      length += chunk.length;
    }
    this.length = length;
  }

  /** Chunks held (for tests: small ones arrive copied together, see readBodyPieces). */
  get chunkCount(): number {
    return this.chunks.length;
  }

  static of(text: string): ByteText {
    return new ByteText([Buffer.from(text, 'utf8')]);
  }

  /** The index of the chunk holding `at` (0 ≤ at < length). */
  chunkAt(at: number): number {
    const cursor = this.cursor;
    if (at >= this.starts[cursor]! && at < this.starts[cursor]! + this.chunks[cursor]!.length) return cursor;
    let low = 0;
    let high = this.chunks.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.starts[middle]! <= at) low = middle;
      else high = middle - 1;
    }
    this.cursor = low;
    return low;
  }

  chunk(index: number): Buffer {
    return this.chunks[index]!;
  }

  chunkStart(index: number): number {
    return this.starts[index]!;
  }

  /** The byte at `at`. */
  charCodeAt(at: number): number {
    if (!(at >= 0 && at < this.length)) return Number.NaN;
    const c = this.chunkAt(at);
    return this.chunks[c]![at - this.starts[c]!]!;
  }

  /** The bytes from `from` to `to` (exclusive), decoded; bounds as String.prototype.slice's, non-negative. */
  slice(from: number, to: number = this.length): string {
    const start = Math.min(Math.max(0, from), this.length);
    const end = Math.min(Math.max(start, to), this.length);
    if (start === end) return '';
    const first = this.chunkAt(start);
    const firstBase = this.starts[first]!;
    if (end <= firstBase + this.chunks[first]!.length) return this.chunks[first]!.toString('utf8', start - firstBase, end - firstBase);
    // Each chunk's bytes decoded on their own and the strings joined: no copy of the bytes into
    // one buffer first. That decodes alike only where a chunk ends on an ASCII byte (after one,
    // UTF-8 starts afresh); where a character straddles a cut, the bytes are joined first.
    let last = first;
    let isClean = true;
    for (; last + 1 < this.chunks.length && this.starts[last + 1]! < end; last++) {
      const chunk = this.chunks[last]!;
      if (chunk[chunk.length - 1]! >= 0x80) isClean = false;
    }
    if (!isClean) {
      const parts: Buffer[] = [];
      for (let c = first; c <= last; c++) parts.push(this.chunks[c]!.subarray(Math.max(0, start - this.starts[c]!), end - this.starts[c]!));
      return Buffer.concat(parts).toString('utf8');
    }
    let text = this.chunks[first]!.toString('utf8', start - firstBase);
    for (let c = first + 1; c <= last; c++) text += this.chunks[c]!.toString('utf8', 0, end - this.starts[c]!);
    return text;
  }

  /** The whole text decoded (the one large allocation this class otherwise avoids). */
  toString(): string {
    return this.chunks.length === 1 ? this.chunks[0]!.toString('utf8') : Buffer.concat(this.chunks, this.length).toString('utf8');
  }
}
