import type { ViolationNotice } from '../domain/violation-book.js';

/** What one stream needs of its response: Node's ServerResponse, or a fake in tests. */
export interface StreamSink {
  readonly writableLength: number;
  readonly destroyed: boolean;
  write(chunk: string): boolean;
  destroy(): void;
}

/**
 * One notice as an SSE message, encoded once however many streams send it: the violation book
 * tells each subscriber in turn, inside the check that breached, so the last notice is kept.
 */
export class NoticeEncoder {
  private last: ViolationNotice | undefined;
  private lastText = '';
  encoded = 0;

  encode(notice: ViolationNotice): string {
    if (notice === this.last) return this.lastText;
    const data = notice.type === 'violation' ? notice.event : { ...notice.violation, resolvedAt: notice.at };
    this.last = notice;
    this.lastText = `event: ${notice.type}\ndata: ${JSON.stringify(data)}\n\n`;
    this.encoded++;
    return this.lastText;
  }
}

/**
 * A stream's notices, held until the check (or batch slice) that made them has returned and
 * written on the next turn as one chunk: a socket write per notice per stream, inside the
 * check, was a syscall each (a breach storm with 64 dashboards open, thousands in one slice).
 * A client reading slower than `maxBufferedBytes` is dropped rather than buffered without end.
 */
export class ViolationStream {
  private pending: string[] = [];
  /** Characters held in `pending`: with what the socket holds, what the client has yet to read. */
  private pendingChars = 0;
  private isScheduled = false;
  private isDropped = false;

  constructor(
    private readonly sink: StreamSink,
    private readonly encoder: NoticeEncoder,
    private readonly maxBufferedBytes: number,
  ) {}

  readonly send = (notice: ViolationNotice): void => {
    if (this.isDropped) return;
    const text = this.encoder.encode(notice);
    // Checked as each notice is held, not at the write: one step can make 100,000 of them (a
    // limit deleted with its violations), and a stuck client must not hold them all.
    this.pendingChars += text.length;
    if (this.sink.writableLength + this.pendingChars > this.maxBufferedBytes) {
      this.drop();
      return;
    }
    this.pending.push(text);
    if (this.isScheduled) return;
    this.isScheduled = true;
    setImmediate(() => this.flush());
  };

  private flush(): void {
    this.isScheduled = false;
    const chunk = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    if (this.isDropped || this.sink.destroyed) return;
    this.sink.write(chunk);
  }

  private drop(): void {
    this.isDropped = true;
    this.pending = [];
    this.pendingChars = 0;
    this.sink.destroy();
  }
}
