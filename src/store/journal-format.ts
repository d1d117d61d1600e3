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
const MAX_RECORD_BYTES = 64 * 1024 * 1024;

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
  const length = target.write(payload, body, 'utf8');
  target.writeUInt32LE(length, at);
  target.writeUInt32LE(crc32(target.subarray(body, body + length)), at + 4);
  return body + length;
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
 * Reads every record of a segment. Only the last record may be incomplete or fail its
 * checksum (a write cut short by a crash): it is reported as torn. A bad record with more
 * data after it is corruption, and so is a bad header.
 */
export function decodeSegment(file: string, bytes: Buffer): DecodedSegment {
  if (bytes.length < HEADER_BYTES) {
    if (bytes.length === 0 || MAGIC.subarray(0, bytes.length).equals(bytes.subarray(0, Math.min(bytes.length, 4)))) {
      return { firstSeq: 0, records: [], tornAt: 0 };
    }
    throw new JournalCorruptError(file, 0, 'not a journal segment');
  }
  if (!bytes.subarray(0, 4).equals(MAGIC)) throw new JournalCorruptError(file, 0, 'not a journal segment (bad magic)');
  const version = bytes.readUInt16LE(4);
  if (version !== FORMAT_VERSION) throw new JournalCorruptError(file, 4, `format version ${version}, this build reads ${FORMAT_VERSION}`);
  const firstSeq = Number(bytes.readBigUInt64LE(8));
  const records: DecodedSegment['records'] = [];
  let offset = HEADER_BYTES;
  while (offset < bytes.length) {
    const remaining = bytes.length - offset;
    if (remaining < RECORD_HEADER_BYTES) return { firstSeq, records, tornAt: offset };
    const length = bytes.readUInt32LE(offset);
    const checksum = bytes.readUInt32LE(offset + 4);
    const end = offset + RECORD_HEADER_BYTES + length;
    if (length > MAX_RECORD_BYTES) {
      if (end >= bytes.length) return { firstSeq, records, tornAt: offset };
      throw new JournalCorruptError(file, offset, `record length ${length} is impossible`);
    }
    if (end > bytes.length) return { firstSeq, records, tornAt: offset };
    const body = bytes.subarray(offset + RECORD_HEADER_BYTES, end);
    if (crc32(body) !== checksum) {
      if (end === bytes.length) return { firstSeq, records, tornAt: offset };
      throw new JournalCorruptError(file, offset, 'checksum mismatch');
    }
    records.push({ offset, payload: body.toString('utf8') });
    offset = end;
  }
  return { firstSeq, records, tornAt: undefined };
}

/**
 * The payloads of whole records laid end to end (what one journal write holds, without the
 * segment header), checksums verified. Anything else is corruption: a writer only ever hands
 * out whole records.
 */
export function decodeRecords(source: string, bytes: Buffer): string[] {
  const payloads: string[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < RECORD_HEADER_BYTES) throw new JournalCorruptError(source, offset, 'record header cut short');
    const length = bytes.readUInt32LE(offset);
    const end = offset + RECORD_HEADER_BYTES + length;
    if (end > bytes.length) throw new JournalCorruptError(source, offset, 'record cut short');
    const body = bytes.subarray(offset + RECORD_HEADER_BYTES, end);
    if (crc32(body) !== bytes.readUInt32LE(offset + 4)) throw new JournalCorruptError(source, offset, 'checksum mismatch');
    payloads.push(body.toString('utf8'));
    offset = end;
  }
  return payloads;
}
