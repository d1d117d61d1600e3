/**
 * A text held as the pieces it arrived in, read as one string without ever being joined into
 * one. A large body joined (or decoded) whole is a single multi-megabyte allocation made and
 * filled in one synchronous step: for a 10,000-order batch (1.7 MB) about 12 ms on a VM where
 * every fresh page faults, longer than the event loop may stall (DESIGN §6). Pieces of a
 * socket read each (64 KB) are decoded as they arrive and stay young, small strings.
 *
 * Reads mirror String's (out of range, `charCodeAt` is NaN), so a scanner written for a
 * string reads one of these alike.
 */
export class PieceText {
  readonly length: number;
  /** Where each piece starts in the text; pieces are never empty. */
  private readonly starts: number[] = [];
  private readonly pieces: string[] = [];
  /** The piece the last read was in: reads move forward through the text. */
  private cursor = 0;

  constructor(pieces: readonly string[]) {
    let length = 0;
    for (const piece of pieces) {
      if (piece.length === 0) continue;
      this.starts.push(length);
      this.pieces.push(piece);
      length += piece.length;
    }
    this.length = length;
  }

  /** The index of the piece holding `at` (0 ≤ at < length). */
  pieceAt(at: number): number {
    const cursor = this.cursor;
    if (at >= this.starts[cursor]! && at < this.starts[cursor]! + this.pieces[cursor]!.length) return cursor;
    let low = 0;
    let high = this.pieces.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.starts[middle]! <= at) low = middle;
      else high = middle - 1;
    }
    this.cursor = low;
    return low;
  }

  piece(index: number): string {
    return this.pieces[index]!;
  }

  pieceStart(index: number): number {
    return this.starts[index]!;
  }

  charCodeAt(at: number): number {
    if (!(at >= 0 && at < this.length)) return Number.NaN;
    const p = this.pieceAt(at);
    return this.pieces[p]!.charCodeAt(at - this.starts[p]!);
  }

  /** Where the next `char` (one UTF-16 unit) is from `from` on, or −1. */
  indexOf(char: string, from: number): number {
    if (char.length !== 1) throw new RangeError('PieceText.indexOf looks for one character');
    if (from >= this.length) return -1;
    const start = Math.max(0, from);
    for (let p = this.pieceAt(start); p < this.pieces.length; p++) {
      const base = this.starts[p]!;
      const found = this.pieces[p]!.indexOf(char, Math.max(0, start - base));
      if (found >= 0) return base + found;
    }
    return -1;
  }

  /** The text from `from` to `to` (exclusive), as String.prototype.slice with non-negative bounds. */
  slice(from: number, to: number = this.length): string {
    const start = Math.min(Math.max(0, from), this.length);
    const end = Math.min(Math.max(start, to), this.length);
    if (start === end) return '';
    const first = this.pieceAt(start);
    const firstBase = this.starts[first]!;
    if (end <= firstBase + this.pieces[first]!.length) return this.pieces[first]!.slice(start - firstBase, end - firstBase);
    const parts: string[] = [this.pieces[first]!.slice(start - firstBase)];
    for (let p = first + 1; p < this.pieces.length && this.starts[p]! < end; p++) {
      parts.push(this.pieces[p]!.slice(0, end - this.starts[p]!));
    }
    return parts.join('');
  }

  /** The whole text as one string (the joined allocation this class otherwise avoids). */
  toString(): string {
    return this.pieces.length === 1 ? this.pieces[0]! : this.pieces.join('');
  }
}
