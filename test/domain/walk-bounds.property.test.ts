import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CheckResult, EngineSnapshot } from '../../src/domain/engine.js';
import { LimitEngine } from '../../src/domain/engine.js';
import type { Aggregation } from '../../src/domain/enums.js';
import type { LimitDefinition } from '../../src/domain/limit-definition.js';
import type { Order } from '../../src/domain/orders.js';
import { LATE_FILL_WINDOW, orderBuilder, OutcomeCounts, printStats, scenarioArb, scopeIdOf } from '../support/engine-arbitraries.js';
import type { Op, PickSource } from '../support/engine-arbitraries.js';
import { testConfig } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

/**
 * The group walks' shortcut (walk-bounds.ts) changes no answer: an engine that takes it and one
 * that always walks, fed the same random streams, answer every check, batch and execution alike
 * and hold the same violations. Beside the reference-model property's operations, the clock
 * steps back and the engines rewind to or restore earlier snapshots, and the books carry
 * gross_notional and daily_loss limits per account, strategy and firm at thresholds from near
 * the values to far above them, so that the shortcut is taken often and refused often.
 */
/** 10,000 runs take about ten seconds; a clock step back mis-bounding one symbol took 7,556 to find (run far more on demand). */
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 10_000);
const SEED = process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) };
const CONFIG = testConfig({ lateFillWindowMs: LATE_FILL_WINDOW });
const GROUPS: readonly Aggregation[] = ['account', 'strategy', 'global'];

const groupLimitArb = (index: number): fc.Arbitrary<LimitDefinition> =>
  fc.oneof(
    fc.record({ per: fc.constantFrom(...GROUPS), hard: fc.constantFrom(300, 1_000, 2_500, 6_000, 15_000, 100_000, 1e7) }).map(
      ({ per, hard }): LimitDefinition => ({ id: `G${index}`, kind: 'gross_notional', per, thresholds: { warn: hard / 2, hard } }),
    ),
    fc.record({ per: fc.constantFrom(...GROUPS), hard: fc.constantFrom(0, 5, 20, 60, 200, 1_000, 1e6) }).map(
      ({ per, hard }): LimitDefinition => ({ id: `D${index}`, kind: 'daily_loss', per, thresholds: { hard } }),
    ),
  );

type Twist = { at: number; kind: 'back' | 'capture' | 'rewind' | 'restore'; ms: number };

const caseArb = fc.record({
  scenario: scenarioArb,
  groupLimits: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }).chain((ids) => fc.tuple(...ids.map((_, i) => groupLimitArb(i)))),
  twists: fc.array(
    fc.record({ at: fc.nat(60), kind: fc.constantFrom<Twist['kind']>('back', 'capture', 'rewind', 'restore'), ms: fc.integer({ min: 1, max: 70_000 }) }),
    { maxLength: 12 },
  ),
});

const stats = new OutcomeCounts();

/** Groups whose sums a check could take the shortcut from: that the streams reach such states at all. */
function countStamped(engine: LimitEngine): void {
  const { accounts, strategies, firm, walkBounds } = engine.ledger;
  for (const group of [...accounts.values(), ...strategies.values(), firm]) if (group.boundsAt === walkBounds.version) stats.count('group stamped at a check');
}

/** Both engines, the one always walking with its bounds' version new on every read. */
function twins(limits: readonly LimitDefinition[]): { taking: LimitEngine; walking: LimitEngine; clocks: FakeClock[] } {
  const clocks = [new FakeClock(), new FakeClock()];
  const taking = new LimitEngine(CONFIG, clocks[0]!, limits);
  const walking = new LimitEngine(CONFIG, clocks[1]!, limits);
  let version = 1e9;
  walking.ledger.walkBounds.versionAt = () => version++;
  return { taking, walking, clocks };
}

const shape = (r: CheckResult) => ({
  orderId: r.orderId,
  decision: r.decision,
  reasons: r.reasons,
  evaluated: r.evaluated,
  violations: r.violations.map((v) => [v.limitId, v.key, v.severity, v.action, v.value, v.threshold]),
});

function same(where: string, a: unknown, b: unknown): void {
  const [x, y] = [JSON.stringify(a), JSON.stringify(b)];
  if (x !== y) throw new Error(`${where}\n  shortcut: ${x}\n  walking:  ${y}`);
}

function run(scenario: { ops: Op[] }, limits: readonly LimitDefinition[], twists: readonly Twist[]): void {
  const { taking, walking, clocks } = twins(limits);
  const both = [taking, walking];
  const everAccepted: { accountId: string; orderId: string }[] = [];
  const source: PickSource = {
    get openOrders() {
      return [...taking.ledger.allOpenOrders()].map((o) => ({ accountId: o.accountId, orderId: o.orderId, remaining: o.remaining }));
    },
    everAccepted,
    positionOf: (accountId, symbol) => taking.ledger.heldExposure(taking.ledger.accounts.get(accountId), symbol)?.position ?? 0,
  };
  const { toOrder, toEvent } = orderBuilder(source);
  const snapshots: EngineSnapshot[][] = [];
  const accept = (orders: readonly Order[], results: readonly CheckResult[]) =>
    results.forEach((r, i) => r.decision === 'ACCEPT' && everAccepted.push({ accountId: orders[i]!.accountId, orderId: orders[i]!.orderId }));

  scenario.ops.forEach((op, index) => {
    for (const twist of twists.filter((t) => t.at === index)) {
      stats.count(`twist ${twist.kind}`);
      if (twist.kind === 'back') for (const clock of clocks) clock.wall -= twist.ms;
      else if (twist.kind === 'capture') snapshots.push(both.map((e) => e.captureState()));
      else if (snapshots.length > 0) {
        const pair = snapshots.at(-1)!;
        both.forEach((e, i) => (twist.kind === 'rewind' ? e.rewindTo(pair[i]!) : e.restoreState(pair[i]!)));
      }
    }
    const where = `op #${index}: ${JSON.stringify(op)}`;
    switch (op.op) {
      case 'check': {
        countStamped(taking);
        const o = toOrder(op.order, []);
        const [a, b] = both.map((e) => e.checkOrder(o));
        same(where, shape(a!), shape(b!));
        accept([o], [a!]);
        break;
      }
      case 'batch': {
        const orders: Order[] = [];
        for (const spec of op.orders) orders.push(toOrder(spec, orders));
        const [a, b] = both.map((e) => e.checkBatch(orders, { atomic: op.atomic }));
        same(where, a!.results.map(shape), b!.results.map(shape));
        accept(orders, a!.results);
        break;
      }
      case 'exec': {
        const events = op.events.map(toEvent);
        const [a, b] = both.map((e) => e.applyExecutions(events).map((r) => r.outcome));
        same(where, a, b);
        break;
      }
      case 'refs':
        for (const e of both) e.setReferencePrices(op.prices);
        break;
      case 'positions':
        for (const e of both) e.applyPositions(op.rows, op.replace);
        break;
      case 'advance':
        for (const clock of clocks) clock.advance(op.ms);
        break;
      case 'state':
        for (const e of both) e.setTradingState(op.type, scopeIdOf(op), op.state, 'test');
        break;
      case 'clearStates':
        for (const e of both) {
          for (const entry of e.tradingStates.list()) {
            const [type, id] = entry.scope === 'global' ? ['global', undefined] : entry.scope.split(':');
            e.setTradingState(type as Aggregation, id, 'ACTIVE', 'test');
          }
        }
        break;
      case 'reset':
        for (const e of both) e.resetSession();
        break;
      case 'sweep':
        for (const e of both) e.sweep();
        break;
    }
    same(`${where}\nactive violations differ`, taking.violations.active({}), walking.violations.active({}));
  });
}

describe('the group walks\u2019 shortcut', () => {
  it(
    'answers exactly as an engine that always walks, on random books and streams with the clock stepping back and snapshots restored',
    () => {
      fc.assert(
        fc.property(caseArb, ({ scenario, groupLimits, twists }) => {
          run(scenario, [...scenario.limits, ...groupLimits], twists);
        }),
        { numRuns: NUM_RUNS, ...SEED },
      );
      printStats(stats);
      expect(stats.get('group stamped at a check') ?? 0).toBeGreaterThan(NUM_RUNS);
    },
    Math.max(30_000, NUM_RUNS * 40),
  );
});
