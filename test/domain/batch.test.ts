import { describe, expect, it } from 'vitest';
import { makeEngine, order } from '../support/engine-fixtures.js';
import { accountExposure } from '../support/engine-actions.js';

const position = { id: 'pos', kind: 'position', thresholds: { hard: 1_000 } };

describe('batch checks', () => {
  it('lets each order see the reservations of the orders accepted before it', () => {
    const { engine } = makeEngine([position]);
    const { results, summary } = engine.checkBatch([order({ quantity: 600 }), order({ quantity: 400 }), order({ quantity: 1 })]);
    expect(results.map((r) => r.decision)).toEqual(['ACCEPT', 'ACCEPT', 'REJECT']);
    expect(results[2]?.violations[0]?.value).toBe(1_001);
    expect(summary).toEqual({ total: 3, accepted: 2, rejected: 1 });
  });

  it('does not count a rejected order against the orders after it', () => {
    const { engine } = makeEngine([position]);
    const { results } = engine.checkBatch([order({ quantity: 600 }), order({ quantity: 500 }), order({ quantity: 400 })]);
    expect(results.map((r) => r.decision)).toEqual(['ACCEPT', 'REJECT', 'ACCEPT']);
  });

  it('keeps the earlier reservations of a non-atomic batch when a later order rejects', () => {
    const { engine } = makeEngine([position]);
    engine.checkBatch([order({ quantity: 600 }), order({ quantity: 500 })]);
    expect(accountExposure(engine)?.openBuy).toBe(600);
  });

  it('rejects a second order with an id already accepted earlier in the batch', () => {
    const { engine } = makeEngine([]);
    const first = order();
    const { results } = engine.checkBatch([first, { ...first }]);
    expect(results[1]?.reasons).toEqual(['DUPLICATE_ORDER_ID']);
  });

  it('answers an empty batch with an empty summary', () => {
    const { engine } = makeEngine([]);
    expect(engine.checkBatch([])).toEqual({ results: [], summary: { total: 0, accepted: 0, rejected: 0 } });
  });

  it('accepts every order of an atomic batch that passes', () => {
    const { engine } = makeEngine([position]);
    const { results, summary } = engine.checkBatch([order({ quantity: 600 }), order({ quantity: 400 })], { atomic: true });
    expect(results.map((r) => r.decision)).toEqual(['ACCEPT', 'ACCEPT']);
    expect(summary).toEqual({ total: 2, accepted: 2, rejected: 0 });
    expect(accountExposure(engine)?.openBuy).toBe(1_000);
  });

  it('rejects the earlier orders of an atomic batch with BATCH_REJECTED when one fails', () => {
    const { engine } = makeEngine([position]);
    const { results, summary } = engine.checkBatch([order({ quantity: 600 }), order({ quantity: 500 })], { atomic: true });
    expect(results.map((r) => [r.decision, r.reasons])).toEqual([
      ['REJECT', ['BATCH_REJECTED']],
      ['REJECT', ['LIMIT_BREACH']],
    ]);
    expect(summary).toEqual({ total: 2, accepted: 0, rejected: 2 });
  });

  it('takes back every reservation of a failed atomic batch', () => {
    const { engine } = makeEngine([position]);
    engine.checkBatch([order({ quantity: 600 }), order({ symbol: 'MSFT', quantity: 10 }), order({ quantity: 500 })], { atomic: true });
    expect(engine.ledger.openOrderCount).toBe(0);
    expect(engine.ledger.positionCount).toBe(0);
    expect(engine.checkOrder(order({ quantity: 1_000 })).decision).toBe('ACCEPT');
  });

  it('rejects the orders after the failing one with BATCH_REJECTED and nothing evaluated', () => {
    const { engine } = makeEngine([position]);
    const { results } = engine.checkBatch([order({ quantity: 1_001 }), order({ quantity: 1 })], { atomic: true });
    expect(results[1]).toMatchObject({ decision: 'REJECT', reasons: ['BATCH_REJECTED'], violations: [], evaluated: 0 });
  });

  it('keeps the violations of earlier orders that an atomic rollback rejects', () => {
    const { engine } = makeEngine([{ id: 'qty', kind: 'order_quantity', thresholds: { warn: 10, hard: 100 } }]);
    const { results } = engine.checkBatch([order({ quantity: 50 }), order({ quantity: 101 })], { atomic: true });
    expect(results[0]).toMatchObject({ reasons: ['BATCH_REJECTED'], evaluated: 1 });
    expect(results[0]?.violations.map((v) => v.severity)).toEqual(['WARNING']);
  });

  it('records the failing order of an atomic batch in the violation history', () => {
    const { engine, clock } = makeEngine([position]);
    const failing = order({ quantity: 1_001 });
    engine.checkBatch([order({ quantity: 1 }), failing], { atomic: true });
    expect(engine.violations.query({ pageSize: 10 }, clock.now()).items.map((e) => e.orderId)).toEqual([failing.orderId]);
  });

  it('takes back the rate-window entries of a failed atomic batch', () => {
    const { engine } = makeEngine([
      { id: 'rate', kind: 'order_rate', windowMs: 1_000, thresholds: { hard: 2 } },
      { id: 'qty', kind: 'order_quantity', thresholds: { hard: 100 } },
    ]);
    engine.checkBatch([order(), order(), order({ quantity: 101 })], { atomic: true });
    const { results } = engine.checkBatch([order(), order(), order()]);
    expect(results.map((r) => r.decision)).toEqual(['ACCEPT', 'ACCEPT', 'REJECT']);
  });

  it('takes back the duplicate-window entries of a failed atomic batch', () => {
    const { engine } = makeEngine([
      { id: 'dup', kind: 'duplicate_order', windowMs: 1_000, thresholds: { hard: 1 } },
      { id: 'qty', kind: 'order_quantity', thresholds: { hard: 100 } },
    ]);
    engine.checkBatch([order({ quantity: 10 }), order({ quantity: 101 })], { atomic: true });
    expect(engine.checkOrder(order({ quantity: 10 })).decision).toBe('ACCEPT');
  });

  it('takes back the open-order count of a failed atomic batch', () => {
    const { engine } = makeEngine([
      { id: 'open', kind: 'open_orders', thresholds: { hard: 2 } },
      { id: 'qty', kind: 'order_quantity', thresholds: { hard: 100 } },
    ]);
    engine.checkBatch([order(), order({ quantity: 101 })], { atomic: true });
    const { results } = engine.checkBatch([order(), order(), order()]);
    expect(results.map((r) => r.decision)).toEqual(['ACCEPT', 'ACCEPT', 'REJECT']);
  });

  it('keeps the reservations of an earlier successful batch when a later atomic batch fails', () => {
    const { engine } = makeEngine([position]);
    engine.checkBatch([order({ quantity: 300 })], { atomic: true });
    engine.checkBatch([order({ quantity: 300 }), order({ quantity: 500 })], { atomic: true });
    expect(accountExposure(engine)?.openBuy).toBe(300);
  });
});
