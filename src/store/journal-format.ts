import { crc32 } from 'node:zlib';

/**
 * The journal's on-disk format. A segment file starts with a 16-byte header — magic `ULCJ`,
 * format version (u16), reserved (u16), sequence number of its first record (u64) — then
 * records: payload length (u32 LE), CRC-32 of the payload (u32 LE), payload (UTF-8 JSON).
 */
export const MAGIC = Buffer.from('ULCJ', 'ascii');
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 16;
export const RECORD_HEADER_BYTES = 8;
/** A record longer than this is not a record: the length field itself is garbage. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
/**
 * The largest a segment grows (see JournalWriterOptions.segmentCapBytes) and the most journal a
 * snapshot waits for: recovery reads a segment whole, and Node reads no file over 2 GiB at once.
 */
export const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;

export class JournalCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`journal ${file} is corrupt at byte ${offset}: ${reason}`);
    this.name = 'JournalCorruptError';
  }
}

export function encodeHeader(firstSeq: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt16LE(FORMAT_VERSION, 4);
  header.writeBigUInt64LE(BigInt(firstSeq), 8);
  return header;
}

/**
 * Writes one record (length, CRC-32, UTF-8 payload) into `target` at `at`, which must have room
 * for RECORD_HEADER_BYTES plus the payload's UTF-8 length; returns where the record ends.
 */
export function frameRecord(target: Buffer, at: number, payload: string): number {
  const body = at + RECORD_HEADER_BYTES;
  return sealRecord(target, at, body + target.write(payload, body, 'utf8'));
}

/**
 * Writes the length and CRC-32 of a record whose payload is already in `target` from
 * `at + RECORD_HEADER_BYTES` to `end`; returns `end`.
 */
export function sealRecord(target: Buffer, at: number, end: number): number {
  const body = at + RECORD_HEADER_BYTES;
  target.writeUInt32LE(end - body, at);
  target.writeUInt32LE(crc32(target.subarray(body, end)), at + 4);
  return end;
}

export function encodeRecord(payload: string): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + Buffer.byteLength(payload, 'utf8'));
  frameRecord(record, 0, payload);
  return record;
}

export interface DecodedSegment {
  firstSeq: number;
  records: { offset: number; payload: string }[];
  /** Where a torn last record starts (to be truncated), if there is one. */
  tornAt: number | undefined;
}

/**
 * Reads every record of a segment. A crash can leave the last write cut short, so the first
 * record that is not whole and checksummed is torn when no whole record follows it; one with a
 * whole record after it is corruption, and so is a bad header.
 */
export function decodeSegment(file: string, bytes: Buffer): DecodedSegment {
  if (bytes.length < HEADER_BYTES) {
    if (bytes.length === 0 || MAGIC.subarray(0, bytes.length).equals(bytes.subarray(0, Math.min(bytes.length, 4)))) {
      return { firstSeq: 0, records: [], tornAt: 0 };
    }
    throw new JournalCorruptError(file, 0, 'not a journal segment');
  }
  if (!bytes.subarray(0, 4).equals(MAGIC)) {
    // A new segment whose size reached the disk before its header did reads as zeros: torn, as any
    // other first write cut short, unless whole records follow (then something else is wrong).
    if (isZero(bytes.subarray(0, HEADER_BYTES)) && !hasRecordAfter(bytes, 0)) return { firstSeq: 0, records: [], tornAt: 0 };
    throw new JournalCorruptError(file, 0, 'not a journal segment (bad magic)');
  }
  const version = bytes.readUInt16LE(4);
  if (version !== FORMAT_VERSION) throw new JournalCorruptError(file, 4, `format version ${version}, this build reads ${FORMAT_VERSION}`);
  const firstSeq = Number(bytes.readBigUInt64LE(8));
  const records: DecodedSegment['records'] = [];
  let offset = HEADER_BYTES;
  while (offset < bytes.length) {
    const end = recordEnd(bytes, offset);
    if (typeof end !== 'number') {
      if (!hasRecordAfter(bytes, offset)) return { firstSeq, records, tornAt: offset };
      throw new JournalCorruptError(file, offset, describe(end, bytes, offset));
    }
    records.push({ offset, payload: payloadOf(bytes, offset, end) });
    offset = end;
  }
  return { firstSeq, records, tornAt: undefined };
}

/** A run of whole records and the seqs of its first and last. */
export interface RecordRun {
  bytes: Buffer;
  firstSeq: number;
  lastSeq: number;
}

/**
 * Whole records laid end to end (a journal write), the first numbered `firstSeq`, cut into runs
 * of at most `maxBytes` each at record boundaries; a record larger than that is a run of its own.
 */
export function splitAtRecords(bytes: Buffer, firstSeq: number, maxBytes: number): RecordRun[] {
  const runs: RecordRun[] = [];
  let start = 0;
  let seq = firstSeq;
  let runFirstSeq = firstSeq;
  for (let offset = 0; offset < bytes.length; seq++) {
    const end = offset + RECORD_HEADER_BYTES + bytes.readUInt32LE(offset);
    if (end - start > maxBytes && offset > start) {
      runs.push({ bytes: bytes.subarray(start, offset), firstSeq: runFirstSeq, lastSeq: seq - 1 });
      start = offset;
      runFirstSeq = seq;
    }
    offset = end;
  }
  runs.push({ bytes: bytes.subarray(start), firstSeq: runFirstSeq, lastSeq: seq - 1 });
  return runs;
}

/**
 * Visits the payload, bytes[start, end), of each record of whole records laid end to end (what
 * one journal write holds, without the segment header), checksum verified, without making its
 * text. Anything else is corruption, as a writer only ever hands out whole records: it throws
 * at the first record that is not whole, after visiting those before it.
 */
export function eachRecord(source: string, bytes: Buffer, visit: (start: number, end: number) => void): void {
  let offset = 0;
  while (offset < bytes.length) {
    const end = recordEnd(bytes, offset);
    if (typeof end !== 'number') throw new JournalCorruptError(source, offset, describe(end, bytes, offset));
    visit(offset + RECORD_HEADER_BYTES, end);
    offset = end;
  }
}

/** Why the bytes at an offset are not a whole record. */
type Flaw = 'header cut short' | 'cut short' | 'impossible length' | 'checksum mismatch';

/**
 * Where the whole, checksummed record at `offset` ends, or why there is none. A length of 0 is
 * impossible too: the writer frames only JSON objects, and the zeros a crash can leave past the
 * last write would otherwise read as empty records (the CRC-32 of nothing is 0).
 */
function recordEnd(bytes: Buffer, offset: number): number | Flaw {
  if (bytes.length - offset < RECORD_HEADER_BYTES) return 'header cut short';
  const length = bytes.readUInt32LE(offset);
  if (length === 0 || length > MAX_RECORD_BYTES) return 'impossible length';
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > bytes.length) return 'cut short';
  return crc32(bytes.subarray(offset + RECORD_HEADER_BYTES, end)) === bytes.readUInt32LE(offset + 4) ? end : 'checksum mismatch';
}

/**
 * Whether a whole record starts anywhere after a bad one at `offset`. Its length may be the bad
 * part, so every later offset is tried; a torn tail is short, and past corruption in the middle
 * the next record is found within a record's length.
 */
function hasRecordAfter(bytes: Buffer, offset: number): boolean {
  for (let at = offset + 1; at + RECORD_HEADER_BYTES < bytes.length; at++) if (typeof recordEnd(bytes, at) === 'number') return true;
  return false;
}

const isZero = (bytes: Buffer): boolean => bytes.every((byte) => byte === 0);

const payloadOf = (bytes: Buffer, offset: number, end: number): string => bytes.toString('utf8', offset + RECORD_HEADER_BYTES, end);

function describe(flaw: Flaw, bytes: Buffer, offset: number): string {
  switch (flaw) {
    case 'header cut short':
      return 'record header cut short';
    case 'cut short':
      return 'record cut short';
    case 'impossible length':
      return `record length ${bytes.readUInt32LE(offset)} is impossible`;
    case 'checksum mismatch':
      return flaw;
  }
}
