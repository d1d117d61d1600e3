import { describe, expect, it } from 'vitest';
import { decodeSegment, eachRecord, encodeHeader, encodeRecord, HEADER_BYTES, JournalCorruptError, RECORD_HEADER_BYTES, splitAtRecords } from '../../src/store/journal-format.js';

const PAYLOADS = ['{"s":1}', '{"s":2,"x":"é"}', '{"s":3}'];
const records = (): Buffer => Buffer.concat(PAYLOADS.map(encodeRecord));
const segment = (body: Buffer = records()): Buffer => Buffer.concat([encodeHeader(1), body]);
/** Where each record starts in `records()`. */
const starts = (): number[] => {
  const at = [0];
  for (const p of PAYLOADS) at.push(at.at(-1)! + RECORD_HEADER_BYTES + Buffer.byteLength(p));
  return at;
};

const flip = (bytes: Buffer, at: number): Buffer => {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ 0xff;
  return copy;
};

/** The length field of the record at `at` set to 2^31: no record is that long. */
const impossibleLength = (bytes: Buffer, at: number): Buffer => {
  const copy = Buffer.from(bytes);
  copy.writeUInt32LE(0x8000_0000, at);
  return copy;
};

const corruption = (decode: () => unknown): string => {
  try {
    decode();
  } catch (error) {
    if (error instanceof JournalCorruptError) return error.message;
    throw error;
  }
  throw new Error('decoded without complaint');
};

describe('decodeSegment', () => {
  it('reads every whole record with its offset', () => {
    const decoded = decodeSegment('seg', segment());
    expect(decoded.firstSeq).toBe(1);
    expect(decoded.records).toEqual(PAYLOADS.map((payload, i) => ({ offset: HEADER_BYTES + starts()[i]!, payload })));
    expect(decoded.tornAt).toBeUndefined();
  });

  it('reports a last record cut short in its header or its payload, or failing its checksum, as torn', () => {
    const whole = segment();
    const last = HEADER_BYTES + starts()[2]!;
    for (const bytes of [whole.subarray(0, last + 3), whole.subarray(0, whole.length - 1), flip(whole, whole.length - 1)]) {
      const decoded = decodeSegment('seg', bytes);
      expect(decoded.tornAt).toBe(last);
      expect(decoded.records.map((r) => r.payload)).toEqual(PAYLOADS.slice(0, 2));
    }
  });

  it('reports an impossible length as torn when nothing follows it, as corruption when something does', () => {
    const whole = segment();
    const last = HEADER_BYTES + starts()[2]!;
    expect(decodeSegment('seg', impossibleLength(whole, last)).tornAt).toBe(last);
    const middle = HEADER_BYTES + starts()[1]!;
    expect(corruption(() => decodeSegment('seg', impossibleLength(whole, middle)))).toBe(
      `journal seg is corrupt at byte ${middle}: record length 2147483648 is impossible`,
    );
  });

  it('reports what a crash leaves past the last write as torn: zeros, garbage, a bad record before a cut one', () => {
    const whole = segment();
    const end = whole.length;
    const garbage = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x05, 0x7b, 0x22]);
    for (const tail of [Buffer.alloc(4096), garbage]) {
      const decoded = decodeSegment('seg', Buffer.concat([whole, tail]));
      expect(decoded.tornAt).toBe(end);
      expect(decoded.records.map((r) => r.payload)).toEqual(PAYLOADS);
    }
    const second = HEADER_BYTES + starts()[1]!;
    const bad = flip(whole.subarray(0, end - 1), second + RECORD_HEADER_BYTES);
    expect(decodeSegment('seg', bad).tornAt).toBe(second);
  });

  it('takes a bad record with a whole record after it as corruption, whatever is wrong with it', () => {
    const whole = segment();
    const middle = HEADER_BYTES + starts()[1]!;
    const zeroLength = Buffer.from(whole);
    zeroLength.writeUInt32LE(0, middle);
    expect(corruption(() => decodeSegment('seg', zeroLength))).toBe(`journal seg is corrupt at byte ${middle}: record length 0 is impossible`);
    const overrun = Buffer.from(whole);
    overrun.writeUInt32LE(100_000, middle);
    expect(corruption(() => decodeSegment('seg', overrun))).toBe(`journal seg is corrupt at byte ${middle}: record cut short`);
  });

  it('takes a checksum failure with records after it as corruption', () => {
    const middle = HEADER_BYTES + starts()[1]!;
    expect(corruption(() => decodeSegment('seg', flip(segment(), middle + RECORD_HEADER_BYTES)))).toBe(
      `journal seg is corrupt at byte ${middle}: checksum mismatch`,
    );
  });

  it('takes a segment of zeros (its size on disk before its header) as torn, but not one with whole records after', () => {
    expect(decodeSegment('seg', Buffer.alloc(4096))).toEqual({ firstSeq: 0, records: [], tornAt: 0 });
    expect(corruption(() => decodeSegment('seg', Buffer.concat([Buffer.alloc(HEADER_BYTES), records()])))).toMatch(/bad magic/);
  });

  it('takes a header cut short as holding nothing, and a foreign file as corruption', () => {
    expect(decodeSegment('seg', segment().subarray(0, 6))).toEqual({ firstSeq: 0, records: [], tornAt: 0 });
    expect(corruption(() => decodeSegment('seg', Buffer.from('{"not":"a journal"}')))).toMatch(/bad magic/);
  });
});

/** The payloads eachRecord visits, as text. */
function decodeRecords(source: string, bytes: Buffer): string[] {
  const payloads: string[] = [];
  eachRecord(source, bytes, (start, end) => payloads.push(bytes.toString('utf8', start, end)));
  return payloads;
}

describe('eachRecord over a write', () => {
  it('reads whole records laid end to end', () => {
    expect(decodeRecords('write', records())).toEqual(PAYLOADS);
    expect(decodeRecords('write', Buffer.alloc(0))).toEqual([]);
  });

  it('takes anything but whole records as corruption: a writer only hands out whole ones', () => {
    const whole = records();
    const last = starts()[2]!;
    expect(corruption(() => decodeRecords('write', whole.subarray(0, last + 3)))).toBe(`journal write is corrupt at byte ${last}: record header cut short`);
    expect(corruption(() => decodeRecords('write', whole.subarray(0, whole.length - 1)))).toBe(`journal write is corrupt at byte ${last}: record cut short`);
    expect(corruption(() => decodeRecords('write', flip(whole, whole.length - 1)))).toBe(`journal write is corrupt at byte ${last}: checksum mismatch`);
  });
});

describe('eachRecord', () => {
  it('visits each payload in place, then stops at the first record that is not whole', () => {
    const whole = records();
    const seen: string[] = [];
    eachRecord('write', whole, (start, end) => seen.push(whole.toString('utf8', start, end)));
    expect(seen).toEqual(PAYLOADS);
    const cut = whole.subarray(0, whole.length - 1);
    const before: string[] = [];
    expect(corruption(() => eachRecord('write', cut, (start, end) => before.push(cut.toString('utf8', start, end))))).toBe(`journal write is corrupt at byte ${starts()[2]!}: record cut short`);
    expect(before).toEqual(PAYLOADS.slice(0, 2));
  });
});

describe('splitAtRecords', () => {
  const write = (...lengths: number[]) => Buffer.concat(lengths.map((n) => encodeRecord('x'.repeat(n))));
  const cut = (bytes: Buffer, maxBytes: number) => splitAtRecords(bytes, 10, maxBytes).map((run) => [run.firstSeq, run.lastSeq, run.bytes.length]);

  it('cuts at record boundaries into runs of at most maxBytes, numbering each run', () => {
    // Records of 8 + 2, 8 + 4, 8 + 6 and 8 + 2 bytes.
    expect(cut(write(2, 4, 6, 2), 22)).toEqual([
      [10, 11, 22],
      [12, 12, 14],
      [13, 13, 10],
    ]);
  });

  it('keeps a run that fits exactly, and puts a record larger than maxBytes in a run of its own', () => {
    expect(cut(write(2, 2, 2), 20)).toEqual([
      [10, 11, 20],
      [12, 12, 10],
    ]);
    expect(cut(write(2, 30, 2), 20)).toEqual([
      [10, 10, 10],
      [11, 11, 38],
      [12, 12, 10],
    ]);
    expect(cut(write(30, 2), 20)).toEqual([
      [10, 10, 38],
      [11, 11, 10],
    ]);
    expect(cut(write(2, 2), 1_000)).toEqual([[10, 11, 20]]);
  });
});
