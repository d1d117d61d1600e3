/**
 * An atomic batch checked in slices (what POST /v1/checks/batch does above 256 orders) lets
 * other work run between its slices, a main-thread snapshot included. The snapshot holds the
 * batch's reservations so far, so the journal must already hold them too, and must hold their
 * rollback if the batch then rejects: otherwise a restart reserved the first slice twice, or
 * brought back reservations the client was told were BATCH_REJECTED.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LimitEngine } from '../../src/domain/engine.js';
import { DurableStore } from '../../src/store/durable-store.js';
import type { StoreLog } from '../../src/store/durable-store.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

const LIMITS = [{ id: 'pos', kind: 'position', thresholds: { hard: 1_000_000 } }];
const log: StoreLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function open(dir: string, clock: FakeClock) {
  const engine = new LimitEngine(testConfig(), clock, LIMITS);
  const store = await DurableStore.open({ dataDir: dir, durability: 'fsync', snapshotIntervalMs: 3_600_000, maxSegmentBytes: 64 << 20, asyncFlushMs: 5 }, engine, log);
  return { engine, store };
}

/** A store in a fresh directory that has accepted one order before the batch. */
async function started() {
  const dir = mkdtempSync(join(tmpdir(), 'ulc-atomic-'));
  const clock = new FakeClock();
  const live = await open(dir, clock);
  live.engine.checkOrder(order({ orderId: 'first', quantity: 1 }));
  return { dir, clock, live };
}

const batch = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => order({ orderId: `${prefix}-${i}`, quantity: 1 }));
const state = (engine: LimitEngine) => ({ open: engine.ledger.openOrderCount, exposure: engine.exposure('ACC-1') });

/**
 * Checks `orders` as one atomic batch in two slices with a main-thread snapshot between them,
 * restarts from the data dir, and expects the restarted engine to hold what the live one does
 * (`openOrders` in all, the first order included).
 */
async function restartAfterSlicedBatch(orders: ReturnType<typeof batch>, accepted: number, openOrders: number): Promise<void> {
  const { dir, clock, live } = await started();
  const run = live.engine.beginBatch(orders, { atomic: true });
  live.engine.advanceBatch(run, 256);
  await live.store.snapshot();
  live.engine.advanceBatch(run, 256);
  expect(run.result.summary.accepted).toBe(accepted);
  await live.store.settled();
  const restarted = await open(dir, clock);
  expect(state(restarted.engine)).toEqual(state(live.engine));
  expect(restarted.engine.ledger.openOrderCount).toBe(openOrders);
  await restarted.store.close();
  await live.store.close();
}

describe('an atomic batch checked in slices, with a main-thread snapshot between them', () => {
  it('comes back after a restart with each reservation once when the batch stands', async () => {
    await restartAfterSlicedBatch(batch(300, 'b'), 300, 301);
  });

  it('comes back after a restart without the reservations when the batch rolls back', async () => {
    const orders = batch(300, 'r');
    // A repeated order id: the batch rejects as a whole in its second slice.
    orders[290] = order({ orderId: 'r-0', quantity: 1 });
    await restartAfterSlicedBatch(orders, 0, 1);
  });
});

describe('an atomic batch the service stopped between slices (kill -9)', () => {
  it('is taken back whole at the next start, and that start is journalled, so the one after agrees', async () => {
    const { dir, clock, live } = await started();
    const run = live.engine.beginBatch(batch(300, 'k'), { atomic: true });
    live.engine.advanceBatch(run, 256);
    await live.store.settled();
    expect(live.engine.ledger.openOrderCount).toBe(257);
    const restarted = await open(dir, clock);
    expect(restarted.engine.ledger.openOrderCount).toBe(1);
    await restarted.store.settled();
    const again = await open(dir, clock);
    expect(state(again.engine)).toEqual(state(restarted.engine));
    // The gateway's retry of the same batch is not refused as duplicate order ids.
    expect(again.engine.checkBatch(batch(300, 'k'), { atomic: true }).summary.accepted).toBe(300);
    await again.store.close();
    await restarted.store.close();
    await live.store.close();
  });

  it('is taken back whole from a snapshot taken between its slices too', async () => {
    const { dir, clock, live } = await started();
    const run = live.engine.beginBatch(batch(300, 's'), { atomic: true });
    live.engine.advanceBatch(run, 256);
    await live.store.snapshot();
    const restarted = await open(dir, clock);
    expect(restarted.store.recovery).toMatchObject({ snapshotSeq: expect.any(Number) as number, replayed: 0 });
    expect(restarted.engine.ledger.openOrderCount).toBe(1);
    await restarted.store.close();
    await live.store.close();
  });
});
