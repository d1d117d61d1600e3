/**
 * Two snapshots of one sequence number written at once (a snapshot worker that was let go may
 * still be writing while the store writes its own: with nothing journalled in between, both
 * cover the same seq) must leave a readable snapshot: each writes a temporary file of its own.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LimitEngine } from '../../src/domain/engine.js';
import { readSnapshot, writeSnapshot } from '../../src/store/snapshot-file.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

describe('two snapshots of one seq written at once', () => {
  it('leave a readable snapshot and both succeed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-snapshot-file-'));
    const clock = new FakeClock();
    const big = new LimitEngine(testConfig(), clock, []);
    for (let i = 0; i < 2_000; i++) big.checkOrder(order({ orderId: `o-${i}`, symbol: `S${i % 500}` }));
    const small = new LimitEngine(testConfig(), clock, []);
    const outcomes = await Promise.allSettled([writeSnapshot(dir, 7, big.captureState()), writeSnapshot(dir, 7, small.captureState())]);
    const readable = await readSnapshot(dir, 'snapshot-0000000000000007.json').then(
      () => 'ok',
      (error: unknown) => String(error),
    );
    expect({ outcomes: outcomes.map((o) => o.status), readable, files: readdirSync(dir) }).toEqual({
      outcomes: ['fulfilled', 'fulfilled'],
      readable: 'ok',
      files: ['snapshot-0000000000000007.json'],
    });
  });
});
