/**
 * A group walk adds its rows in row order, and floating-point addition is not associative:
 * a restored engine must keep the live row order (detach swap-removes, so it is not the order
 * symbols were first seen in), or the same state can compute a different daily_loss or
 * gross_notional and decide differently at a threshold.
 */
import { describe, expect, it } from 'vitest';
import { LimitEngine } from '../../src/domain/engine.js';
import type { EngineSnapshot } from '../../src/domain/engine.js';
import { order, testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

const LIMITS = [{ id: 'loss', kind: 'daily_loss', per: 'account', thresholds: { hard: 0.6 } }];
const PRICES = [
  { symbol: 'S1', price: 0.1 },
  { symbol: 'S3', price: 0.1 },
  { symbol: 'S4', price: 0.4 },
  { symbol: 'S5', price: 1 },
];

describe('group walks after a snapshot restore', () => {
  it('daily_loss over an account gives the same value (and decision) live and after restore', () => {
    const clock = new FakeClock();
    const live = new LimitEngine(testConfig(), clock, LIMITS);
    // Short 1 at avg cost 0: unrealized P&L is -mark.
    live.applyPositions(
      ['S1', 'S2', 'S3', 'S4'].map((symbol) => ({ accountId: 'ACC-1', symbol, quantity: -1, avgPrice: 0 })),
      false,
    );
    // Flattening S2 frees slot 1: S4's row moves into it (the walk reads S1, S4, S3, not the order they were added in).
    live.applyPositions([{ accountId: 'ACC-1', symbol: 'S2', quantity: 0, avgPrice: 0 }], false);
    live.setReferencePrices(PRICES);

    const restored = new LimitEngine(testConfig(), clock, LIMITS);
    restored.restoreState(JSON.parse(JSON.stringify(live.captureState())) as EngineSnapshot);
    restored.setReferencePrices(PRICES);
    expect(JSON.stringify(restored.captureState())).toBe(JSON.stringify(live.captureState()));

    const probe = { orderId: 'probe', symbol: 'S5', quantity: 1, price: 1 };
    const a = live.checkOrder(order(probe));
    const b = restored.checkOrder(order(probe));
    expect({ decision: b.decision, values: b.violations.map((v) => v.value) }).toEqual({
      decision: a.decision,
      values: a.violations.map((v) => v.value),
    });
  });
});
