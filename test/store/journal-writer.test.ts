import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FileHandle } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import type * as FileWrites from '../../src/store/file-writes.js';
import { fsyncDirectory } from '../../src/store/file-writes.js';
import { decodeSegment, encodeHeader, JournalCorruptError } from '../../src/store/journal-format.js';
import { JournalWriter, segmentName } from '../../src/store/journal-writer.js';
import { recover } from '../../src/store/recovery.js';
import { fillDiskAfter } from '../support/disk-faults.js';
import { makeEngine } from '../support/engine-fixtures.js';

// Spied on, not replaced: a new segment's name is durable only once its directory is synced.
vi.mock('../../src/store/file-writes.js', async (importOriginal) => {
  const actual = await importOriginal<typeof FileWrites>();
  return { ...actual, fsyncDirectory: vi.fn(actual.fsyncDirectory) };
});

const tempDir = () => mkdtempSync(join(tmpdir(), 'ulc-writer-'));

const writer = (durability: 'fsync' | 'async', onWritten?: (bytes: Buffer) => void, dir = tempDir(), lastSeq = 0, segmentCapBytes?: number) =>
  new JournalWriter(
    {
      dir,
      durability,
      asyncFlushMs: 5,
      asyncSyncMs: 1_000,
      maxPendingEvents: 10_000,
      ...(onWritten === undefined ? {} : { onWritten }),
      ...(segmentCapBytes === undefined ? {} : { segmentCapBytes }),
    },
    lastSeq,
    () => undefined,
  );

const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Every segment in `dir`, oldest first: its name's first record, its size, and its records' seqs. */
function segmentsIn(dir: string) {
  return readdirSync(dir)
    .filter((f) => f.startsWith('journal-'))
    .sort()
    .map((file) => {
      const bytes = readFileSync(join(dir, file));
      const { firstSeq, records } = decodeSegment(file, bytes);
      return { firstSeq, bytes: bytes.length, seqs: records.map((r) => (JSON.parse(r.payload) as { s: number }).s) };
    });
}

const segmentOf = (journal: JournalWriter) => (journal as unknown as { segment: FileHandle }).segment;

/** Makes the segment's next fsync wait until released; `started` resolves once it was asked for. */
function slowSync(segment: FileHandle) {
  let finish!: (error?: Error) => void;
  const started = new Promise<void>((resolve) => {
    vi.spyOn(segment, 'sync').mockImplementationOnce(() => {
      resolve();
      return new Promise<void>((done, fail) => (finish = (error) => (error === undefined ? done() : fail(error))));
    });
  });
  return { started, release: (error?: Error) => finish(error) };
}

type Write = (buffer: Buffer, offset?: number, length?: number) => Promise<{ bytesWritten: number; buffer: Buffer }>;

/**
 * Makes the segment's next writes take only half of what they are given, as write(2) does when
 * the disk fills up; `thenFail` makes the write after that fail (ENOSPC), as the next one does.
 */
function shortWrites(segment: FileHandle, options: { thenFail: boolean }) {
  const write = segment.write.bind(segment) as Write;
  let calls = 0;
  return vi.spyOn(segment, 'write').mockImplementation(((buffer: Buffer, offset = 0, length = buffer.length - offset) => {
    calls++;
    if (calls === 1) return write(buffer.subarray(offset, offset + Math.ceil(length / 2)));
    if (calls === 2 && options.thenFail) return Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
    return write(buffer.subarray(offset, offset + length));
  }) as never);
}

/** The one segment in `dir`, decoded (throws on corruption, as recovery would). */
function onlySegment(dir: string) {
  const files = readdirSync(dir).filter((f) => f.startsWith('journal-'));
  expect(files).toHaveLength(1);
  const path = join(dir, files[0]!);
  return { file: files[0]!, decoded: decodeSegment(path, readFileSync(path)) };
}

describe('JournalWriter', () => {
  it('commits records appended while an fsync is in flight together (group commit)', async () => {
    const journal = writer('fsync');
    await journal.rotate();
    const acknowledged: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      journal.append({ type: 'session_reset', at: i });
      acknowledged.push(journal.settled()!);
      await nextTurn();
    }
    await Promise.all(acknowledged);
    expect(journal.lastSeq).toBe(40);
    // One request per event-loop turn: without group commit that is 40 writes and fsyncs.
    expect(journal.writes).toBeLessThan(20);
    await journal.close();
  });

  it('has nothing to wait for with async durability', async () => {
    const journal = writer('async');
    await journal.rotate();
    journal.append({ type: 'session_reset', at: 1 });
    expect(journal.settled()).toBeUndefined();
    await journal.drain();
    expect(journal.writes).toBe(1);
    await journal.close();
  });
  it('fails the journal rather than write a record longer than recovery reads as a record', async () => {
    const journal = writer('fsync');
    await journal.rotate();
    journal.append({ type: 'session_reset', at: 1 });
    await journal.settled();
    const rows = [{ accountId: 'A'.repeat(64), symbol: 'S', quantity: 1, avgPrice: 1 }];
    // 1.1 M rows of ~110 bytes: over the 64 MiB a record may hold.
    journal.append({ type: 'positions', at: 2, rows: Array.from({ length: 1_100_000 }, () => rows[0]!), replace: false });
    expect(journal.isHealthy).toBe(false);
    await expect(journal.settled()).rejects.toThrow(/over the 67108864 a record may hold/);
    expect(journal.lastSeq).toBe(2);
    // Closed, as a failed journal is: left to the garbage collector, its file handle was closed there with a warning.
    await expect(journal.close()).rejects.toThrow(/a record may hold/);
  });

  it('closes its segment file when closed after it failed', async () => {
    const journal = writer('fsync');
    await journal.rotate();
    const segment = segmentOf(journal);
    vi.spyOn(segment, 'sync').mockRejectedValue(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    journal.append({ type: 'session_reset', at: 1 });
    await expect(journal.settled()).rejects.toThrow('EIO');
    expect(segment.fd).toBeGreaterThanOrEqual(0);
    await expect(journal.close()).rejects.toThrow('EIO');
    // A FileHandle's fd reads -1 once it is closed.
    expect(segment.fd).toBe(-1);
  });

  it('hands the snapshot replica only what is synced: a write whose fsync fails never reaches it', async () => {
    const handed: number[] = [];
    const journal = writer('fsync', (bytes) => handed.push(bytes.length));
    await journal.rotate();
    journal.append({ type: 'session_reset', at: 1 });
    await journal.settled();
    expect(handed).toHaveLength(1);
    const segment = segmentOf(journal);
    vi.spyOn(segment, 'sync').mockRejectedValue(new Error('disk gone'));
    journal.append({ type: 'session_reset', at: 2 });
    await expect(journal.settled()).rejects.toThrow('disk gone');
    expect(handed).toHaveLength(1);
    expect(journal.isHealthy).toBe(false);
    await segment.close();
  });

  describe('rotating onto a segment that already exists', () => {
    it('keeps the open segment when nothing was written since it was opened (one header, records after it)', async () => {
      const dir = tempDir();
      const journal = writer('fsync', undefined, dir);
      await journal.rotate();
      const open = segmentOf(journal);
      await journal.rotate(); // an idle snapshot: lastSeq has not moved
      expect(segmentOf(journal)).toBe(open);
      journal.append({ type: 'session_reset', at: 1 });
      await journal.settled();
      await journal.close();
      const { file, decoded } = onlySegment(dir);
      expect(file).toBe(segmentName(1));
      expect(decoded).toMatchObject({ firstSeq: 1, tornAt: undefined });
      expect(decoded.records).toHaveLength(1);
    });

    it('appends after the header a previous run left (a restart after a clean shutdown), without a second one', async () => {
      const dir = tempDir();
      const first = writer('fsync', undefined, dir, 4);
      await first.rotate();
      await first.close();
      const second = writer('fsync', undefined, dir, 4);
      await second.rotate();
      second.append({ type: 'session_reset', at: 1 });
      await second.settled();
      await second.close();
      const { decoded } = onlySegment(dir);
      expect(decoded).toMatchObject({ firstSeq: 5, tornAt: undefined });
      expect(decoded.records).toHaveLength(1);
    });

    it('refuses an existing segment whose header is for another first record', async () => {
      const dir = tempDir();
      writeFileSync(join(dir, segmentName(1)), encodeHeader(7));
      const journal = writer('fsync', undefined, dir);
      await expect(journal.rotate()).rejects.toThrow(JournalCorruptError);
      expect(journal.isHealthy).toBe(false);
    });
  });

  describe('a write the disk takes only part of', () => {
    it('writes the rest before acknowledging: every record is whole on disk', async () => {
      const dir = tempDir();
      const journal = writer('fsync', undefined, dir);
      await journal.rotate();
      shortWrites(segmentOf(journal), { thenFail: false });
      for (let i = 0; i < 3; i++) journal.append({ type: 'session_reset', at: i });
      await journal.settled();
      await journal.close();
      const { decoded } = onlySegment(dir);
      expect(decoded.tornAt).toBeUndefined();
      expect(decoded.records).toHaveLength(3);
    });

    it('fails the journal when the rest cannot be written, and cuts the segment back to the last whole write', async () => {
      const dir = tempDir();
      const journal = writer('fsync', undefined, dir);
      await journal.rotate();
      journal.append({ type: 'session_reset', at: 1 });
      await journal.settled();
      const segment = segmentOf(journal);
      const size = (await segment.stat()).size;
      shortWrites(segment, { thenFail: true });
      journal.append({ type: 'session_reset', at: 2 });
      await expect(journal.settled()).rejects.toThrow('ENOSPC');
      expect(journal.isHealthy).toBe(false);
      journal.append({ type: 'session_reset', at: 3 });
      await expect(journal.settled()).rejects.toThrow('ENOSPC');
      expect((await segment.stat()).size).toBe(size);
      const { decoded } = onlySegment(dir);
      expect(decoded.tornAt).toBeUndefined();
      expect(decoded.records).toHaveLength(1);
      await segment.close();
    });
  });

  describe('settled() while a group commit is under way', () => {
    it('waits for the fsync of a flush that has already taken the records', async () => {
      const journal = writer('fsync');
      await journal.rotate();
      const sync = slowSync(segmentOf(journal));
      journal.append({ type: 'session_reset', at: 1 });
      await nextTurn(); // the flush (scheduled with setImmediate before this) has taken the record
      const settled = journal.settled();
      expect(settled).toBeDefined();
      let isSettled = false;
      void settled?.then(() => (isSettled = true));
      await sync.started;
      await nextTurn();
      expect(isSettled).toBe(false);
      sync.release();
      await settled;
      expect(journal.settled()).toBeUndefined();
      await journal.close();
    });

    it('rejects when the fsync of a flush that has already taken the records fails', async () => {
      const journal = writer('fsync');
      await journal.rotate();
      const sync = slowSync(segmentOf(journal));
      journal.append({ type: 'session_reset', at: 1 });
      await nextTurn();
      const settled = journal.settled();
      expect(settled).toBeDefined();
      await sync.started;
      sync.release(new Error('disk gone'));
      await expect(settled).rejects.toThrow('disk gone');
      expect(journal.isHealthy).toBe(false);
      await segmentOf(journal).close();
    });

    it('waits for the later flush when records were appended during an fsync, not for the one in flight', async () => {
      const journal = writer('fsync');
      await journal.rotate();
      const sync = slowSync(segmentOf(journal));
      journal.append({ type: 'session_reset', at: 1 });
      const first = journal.settled();
      await sync.started;
      journal.append({ type: 'session_reset', at: 2 });
      const second = journal.settled();
      let isSecondSettled = false;
      void second?.then(() => (isSecondSettled = true));
      const writesBefore = journal.writes;
      // The later flush's fsync is held too, so `second` can only settle early if it was settled wrongly.
      const secondSync = slowSync(segmentOf(journal));
      sync.release();
      await first;
      await secondSync.started;
      await new Promise((resolve) => setImmediate(resolve));
      expect(isSecondSettled).toBe(false);
      secondSync.release();
      await second;
      expect(journal.writes).toBe(writesBefore + 1);
      await journal.close();
    });
  });

  describe('a segment at its cap', () => {
    /** Appends `count` session resets (at 0: records of seqs 1 to 9 are the same size), draining after every `perWrite`. */
    const resets = async (journal: JournalWriter, count: number, perWrite: number) => {
      for (let i = 0; i < count; i++) {
        journal.append({ type: 'session_reset', at: 0 });
        if ((i + 1) % perWrite === 0) await journal.drain();
      }
      await journal.drain();
    };

    /** The framed size of one such record with a one-digit seq. */
    const recordBytes = async () => {
      const dir = tempDir();
      const journal = writer('async', undefined, dir);
      await journal.rotate();
      await resets(journal, 1, 1);
      await journal.close();
      return segmentsIn(dir)[0]!.bytes - encodeHeader(1).length;
    };

    /** A rotated journal in a new directory whose segments hold two such records. */
    const cappedJournal = async (durability: 'fsync' | 'async') => {
      const cap = 2 * (await recordBytes());
      const dir = tempDir();
      const journal = writer(durability, undefined, dir, 0, cap);
      await journal.rotate();
      return { cap, dir, journal };
    };

    it('holds writes up to the cap exactly, goes on in a new segment before one would pass it, and recovery reads them all in order', async () => {
      const { cap, dir, journal } = await cappedJournal('fsync');
      await resets(journal, 9, 1);
      await journal.close();
      const segments = segmentsIn(dir);
      // Two records fill a segment to the byte; the third goes on in the next.
      expect(segments.map((s) => s.seqs)).toEqual([[1, 2], [3, 4], [5, 6], [7, 8], [9]]);
      for (const segment of segments) expect(segment.firstSeq).toBe(segment.seqs[0]);
      expect(segments[0]!.bytes - encodeHeader(1).length).toBe(cap);
      const report = await recover(dir, makeEngine([]).engine, quietLog, { readOnly: false });
      expect([report.replayed, report.lastSeq, report.dropped]).toEqual([9, 9, []]);
    });

    it('cuts a flush larger than the cap into writes of whole records, no segment passing it', async () => {
      const { dir, journal } = await cappedJournal('async');
      await resets(journal, 1, 1);
      await resets(journal, 3, 3);
      await resets(journal, 1, 1);
      await journal.close();
      expect(segmentsIn(dir).map((s) => s.seqs)).toEqual([[1], [2, 3], [4, 5]]);
      const report = await recover(dir, makeEngine([]).engine, quietLog, { readOnly: false });
      expect([report.replayed, report.lastSeq]).toEqual([5, 5]);
    });

    it('acknowledges each of those writes on its own: one that lands stands when a later one fails (fsync)', async () => {
      const { dir, journal } = await cappedJournal('fsync');
      // The first write (records 1 and 2) lands; the next segment's header fails.
      const freeDisk = await fillDiskAfter(1);
      for (let i = 0; i < 5; i++) journal.append({ type: 'session_reset', at: 0 });
      try {
        await expect(journal.settled(2)).resolves.toBeUndefined();
        await expect(journal.settled(5)).rejects.toMatchObject({ name: 'NotDurableError', durableThrough: 2 });
      } finally {
        freeDisk();
      }
      expect(segmentsIn(dir)[0]!.seqs).toEqual([1, 2]);
      await journal.close().catch(() => undefined);
    });

    it('counts the journal since the last rotation across the segments the cap cut it into', async () => {
      const { cap, dir, journal } = await cappedJournal('async');
      await resets(journal, 9, 1);
      expect(segmentsIn(dir)).toHaveLength(5);
      expect(journal.bytesSinceRotate).toBe((9 * cap) / 2);
      await journal.rotate();
      expect(journal.bytesSinceRotate).toBe(0);
      await resets(journal, 1, 1);
      const after = segmentsIn(dir).find((segment) => segment.firstSeq === 10)!;
      expect(journal.bytesSinceRotate).toBe(after.bytes - encodeHeader(10).length);
      await journal.close();
    });

    it('counts the journal from the new segment on after a restart', async () => {
      const dir = tempDir();
      const journal = writer('fsync', undefined, dir);
      await journal.rotate();
      await resets(journal, 3, 1);
      shortWrites(segmentOf(journal), { thenFail: true });
      journal.append({ type: 'session_reset', at: 0 });
      await expect(journal.settled()).rejects.toThrow('ENOSPC');
      expect(journal.bytesSinceRotate).toBeGreaterThan(0);
      await journal.restart(10, () => Promise.resolve());
      expect(journal.bytesSinceRotate).toBe(0);
      await resets(journal, 1, 1);
      expect(journal.bytesSinceRotate).toBe(segmentsIn(dir).find((segment) => segment.firstSeq === 11)!.bytes - encodeHeader(11).length);
      await journal.close();
    });
  });

  describe('rotating to a new segment', () => {
    it('syncs the previous segment before it creates the next one (async durability leaves its tail unsynced)', async () => {
      const dir = tempDir();
      const journal = writer('async', undefined, dir);
      await journal.rotate();
      journal.append({ type: 'session_reset', at: 1 });
      const nextExistedAtSync: boolean[] = [];
      const previous = segmentOf(journal);
      const sync = previous.sync.bind(previous);
      vi.spyOn(previous, 'sync').mockImplementation(() => {
        nextExistedAtSync.push(existsSync(join(dir, segmentName(2))));
        return sync();
      });
      await journal.rotate();
      expect(nextExistedAtSync).toEqual([false]);
      expect(existsSync(join(dir, segmentName(2)))).toBe(true);
      await journal.close();
    });

    it('syncs the directory once the new segment is in it, so its name survives a power cut', async () => {
      const dir = tempDir();
      const journal = writer('fsync', undefined, dir);
      const segmentExisted: boolean[] = [];
      vi.mocked(fsyncDirectory).mockClear();
      vi.mocked(fsyncDirectory).mockImplementationOnce(async (synced) => {
        segmentExisted.push(existsSync(join(synced, segmentName(1))));
        const { fsyncDirectory: actual } = await vi.importActual<typeof FileWrites>('../../src/store/file-writes.js');
        await actual(synced);
      });
      await journal.rotate();
      expect(vi.mocked(fsyncDirectory)).toHaveBeenCalledWith(dir);
      expect(segmentExisted).toEqual([true]);
      await journal.close();
    });
  });
});
