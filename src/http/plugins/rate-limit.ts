import rateLimit from '@fastify/rate-limit';
import type { RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppConfig } from '../../config/schema.js';
import { jsonSchemaOf } from '../json-schema.js';
import { ProblemError } from '../problems.js';
import type { ResponseHeaders } from '../schema-docs.js';
import { monotonicRateStore } from './monotonic-rate-store.js';
import { RateWindows } from './rate-windows.js';

/**
 * Protects the service, not the market (the order_rate limit kind is the risk control):
 * checks are limited per strategy, keyed from the validated body, everything else per token.
 * 429 carries retry-after.
 *
 * Per token, a request counts before its body is read (preParsing, after authentication): a
 * token sending bodies that fail validation is limited as any other. The check routes count
 * per strategy with `CheckRateLimit` below, at the start of their handlers (the strategy is in
 * the validated body), synchronously; the batch route counts its token with one too, in its
 * preParsing hook. Every other route uses the plugin, with a store timed on the monotonic clock
 * too (monotonic-rate-store.ts). Both count in fixed windows per key and route: a token's reads
 * cannot use up what its kill switch (PUT /v1/trading-state) may send. They answer with the
 * same headers and the same problem. The plugin forgets its least recently used key beyond
 * `cacheSize`; CheckRateLimit forgets only windows that have run out and refuses a new key
 * while every kept one still counts (see RateWindows.makeRoom).
 * The per-strategy windows are shared by both check routes: a single check takes one unit from
 * its strategy, a batch one unit per order from each order's strategy (and one from its token's
 * own per-token window, as a request).
 *
 * `now` (here and in CheckRateLimit) is the app's monotonic clock: windows are durations, and a
 * wall clock that NTP steps forward would end every window at once (letting a burst through),
 * one stepped back would keep them all counting for as long as the step.
 */
export async function registerRateLimit(app: FastifyInstance, config: AppConfig['rateLimit'], onLimited: () => void, now: () => number): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    store: monotonicRateStore(config.cacheSize, now),
    hook: 'preParsing',
    onExceeded: onLimited,
    errorResponseBuilder: (_request, context) => limitedProblem(context.max, context.after),
  });
}

const COUNT = jsonSchemaOf(z.int().min(0));

/**
 * What a response of a rate-limited route (every route that takes a token) carries while rate
 * limits are on, a success as well as a 429, for openapi.yaml.
 */
export const RATE_LIMIT_HEADERS: ResponseHeaders = {
  'X-RateLimit-Limit': { description: 'Requests (for a batch, orders of the strategy that refused it) a window allows', required: false, schema: COUNT },
  'X-RateLimit-Remaining': { description: 'What the window still allows', required: false, schema: COUNT },
  'X-RateLimit-Reset': { description: 'Seconds until the window restarts', required: false, schema: COUNT },
};

/**
 * What a 429 may carry, for openapi.yaml. None is on every 429: a request that can never pass
 * as sent (a batch with more orders of one strategy than its limit) gets no retry-after, and
 * one refused because every kept window still counts gets retry-after alone.
 */
export const RATE_LIMITED_HEADERS: ResponseHeaders = {
  'Retry-After': { description: 'Seconds until the request may pass; absent when sending it again as it is cannot help', required: false, schema: COUNT },
  ...RATE_LIMIT_HEADERS,
};

const limitedProblem = (max: number, after: string): ProblemError =>
  new ProblemError('rateLimited', `rate limit of ${max} per ${after} exceeded; retry in ${after}`);

const tokenKey = (request: FastifyRequest): string => `token:${request.principal?.name ?? request.ip}`;

export function perToken(config: AppConfig['rateLimit']): RateLimitOptions | false {
  if (!config.enabled) return false;
  return { max: config.perToken.max, timeWindow: config.perToken.timeWindowMs, hook: 'preParsing', keyGenerator: tokenKey };
}

/**
 * A fixed-window rate limit of one route, kept in process: the same counting as the plugin's
 * local store (a window starts at a key's first request and lasts `timeWindowMs`; the count
 * restarts after it), with at most `capacity` keys: windows that ran out are forgotten to make
 * room, and a new key is refused while every kept window still counts.
 */
export class CheckRateLimit {
  private readonly windows: RateWindows;

  /**
   * Every strategy a batch named lately, with its table key built once and its count of orders
   * in the batch being admitted (when its `batch` is that batch's number). Kept from batch to
   * batch: emptied at the start of every batch a Map and made again, with a key string per
   * strategy, took about 0.5 µs an order. Emptied before a batch that finds it holding more than
   * the windows' capacity: it holds at most that and one batch's new strategies (a refused batch's
   * too, until the next batch).
   */
  private readonly tallies = new Map<string, BatchStrategy>();
  private batchNumber = 0;
  /**
   * The strategies of the batch being admitted, in its order: the first `pendingCount`, walked by
   * index (walking a Map allocates an iterator result per strategy), written from the front and
   * never truncated (`length = 0` gives the backing store up, to be grown again next batch). As
   * long as the most strategies one batch has named: at most maxBatchSize.
   */
  private readonly pendingList: BatchStrategy[] = [];
  private pendingCount = 0;

  private constructor(
    private readonly max: number,
    private readonly timeWindowMs: number,
    capacity: number,
    private readonly keyOf: (request: FastifyRequest) => string,
    private readonly onLimited: () => void,
    private readonly now: () => number,
  ) {
    this.windows = new RateWindows(timeWindowMs, capacity);
  }

  /** Per strategy (from the validated body; per token if it had none); undefined when rate limits are off. */
  static perStrategy(config: AppConfig['rateLimit'], onLimited: () => void, now: () => number): CheckRateLimit | undefined {
    if (!config.enabled) return undefined;
    return new CheckRateLimit(config.perStrategy.max, config.perStrategy.timeWindowMs, config.cacheSize, strategyKey, onLimited, now);
  }

  /** Per token; undefined when rate limits are off. */
  static perToken(config: AppConfig['rateLimit'], onLimited: () => void, now: () => number): CheckRateLimit | undefined {
    if (!config.enabled) return undefined;
    return new CheckRateLimit(config.perToken.max, config.perToken.timeWindowMs, config.cacheSize, tokenKey, onLimited, now);
  }

  /**
   * Counts the request; sets the x-ratelimit-* headers, and when over the limit also
   * retry-after, and throws the 429 problem.
   */
  admit(request: FastifyRequest, reply: FastifyReply): void {
    const now = this.now();
    const key = this.keyOf(request);
    if (this.windows.get(key) === undefined) this.makeRoomFor(1, now, reply);
    const window = this.windows.take(key, 1, now);
    const resetSeconds = Math.ceil((window.endsAt - now) / 1000);
    if (window.count <= this.max) {
      reply.header('x-ratelimit-limit', this.max);
      reply.header('x-ratelimit-remaining', this.max - window.count);
      reply.header('x-ratelimit-reset', resetSeconds);
      return;
    }
    this.onLimited();
    reply.header('x-ratelimit-limit', this.max);
    reply.header('x-ratelimit-remaining', 0);
    reply.header('x-ratelimit-reset', resetSeconds);
    reply.header('retry-after', resetSeconds);
    const after = longDuration(resetSeconds * 1000);
    throw limitedProblem(this.max, after);
  }

  /**
   * Admits a batch against the per-strategy windows: each order takes one unit from its
   * strategy's window. When that would take any strategy over its limit the whole batch is
   * refused (429, before any order is checked) and takes nothing from any window; the
   * x-ratelimit-* and retry-after headers then describe the strategy that refused it (the one
   * whose window restarts last, if several did). An admitted batch leaves the headers to the
   * per-token limit. A batch holding more orders of one strategy than `max` can never pass and
   * is refused with a detail that says so.
   */
  admitOrders(reply: FastifyReply, orders: readonly { readonly strategyId: string }[]): void {
    try {
      this.tallyByStrategy(orders);
      this.admitTallied(reply);
    } finally {
      this.pendingCount = 0;
    }
  }

  /** Counts the batch's orders per strategy into the first `pendingCount` of `pendingList`. */
  private tallyByStrategy(orders: readonly { readonly strategyId: string }[]): void {
    const tallies = this.tallies;
    if (tallies.size > this.windows.capacity) tallies.clear();
    const batch = ++this.batchNumber;
    for (let i = 0; i < orders.length; i++) {
      const strategyId = orders[i]!.strategyId;
      let tally = tallies.get(strategyId);
      if (tally === undefined) {
        tally = { strategyId, key: strategyKeyOf(strategyId), orders: 0, batch };
        tallies.set(strategyId, tally);
        this.pendingList[this.pendingCount++] = tally;
      } else if (tally.batch !== batch) {
        tally.orders = 0;
        tally.batch = batch;
        this.pendingList[this.pendingCount++] = tally;
      }
      tally.orders++;
    }
  }

  private admitTallied(reply: FastifyReply): void {
    const now = this.now();
    const windows = this.windows;
    let refused: BatchStrategy | undefined;
    let refusedUsed = 0;
    let refusedResetMs = -1;
    let newKeys = 0;
    const strategies = this.pendingList;
    const count = this.pendingCount;
    for (let i = 0; i < count; i++) {
      const strategy = strategies[i]!;
      const window = windows.get(strategy.key);
      const isOpen = window !== undefined && !window.hasRunOut(now);
      // A run-out window needs a row as much as a missing one: it may be the one forgotten to make room.
      if (!isOpen) newKeys++;
      const used = isOpen ? window.count : 0;
      if (used + strategy.orders <= this.max) continue;
      // A strategy with more orders here than its limit allows at all refuses the batch for good.
      const resetMs = strategy.orders > this.max ? Number.POSITIVE_INFINITY : isOpen ? window.endsAt - now : this.timeWindowMs;
      if (resetMs > refusedResetMs) {
        refused = strategy;
        refusedUsed = used;
        refusedResetMs = resetMs;
      }
    }
    if (refused !== undefined) this.refuseBatch(reply, refused, refusedUsed, now);
    if (newKeys > 0) this.makeRoomFor(newKeys, now, reply, count);
    for (let i = 0; i < count; i++) windows.take(strategies[i]!.key, strategies[i]!.orders, now);
  }

  /** Throws the 429 for a batch that `refused`'s window (`used` units of it counted) cannot take. */
  private refuseBatch(reply: FastifyReply, refused: BatchStrategy, used: number, now: number): never {
    const { strategyId, orders: count } = refused;
    this.onLimited();
    const window = this.windows.get(refused.key);
    const resetSeconds = Math.ceil((window !== undefined && !window.hasRunOut(now) ? window.endsAt - now : this.timeWindowMs) / 1000);
    reply.header('x-ratelimit-limit', this.max);
    reply.header('x-ratelimit-remaining', Math.max(0, this.max - used));
    reply.header('x-ratelimit-reset', resetSeconds);
    const after = longDuration(resetSeconds * 1000);
    const per = longDuration(this.timeWindowMs);
    // No retry-after for a batch that can never pass as it is: sent again, it would be refused again.
    if (count <= this.max) reply.header('retry-after', resetSeconds);
    if (count > this.max) {
      throw new ProblemError('rateLimited', `the batch holds ${count} orders of strategy ${strategyId}, more than its rate limit of ${this.max} per ${per} allows at once; split the batch`);
    }
    throw new ProblemError(
      'rateLimited',
      `rate limit of ${this.max} per ${per} exceeded for strategy ${strategyId}: the batch holds ${count} of its orders, ${Math.max(0, this.max - used)} can pass now; retry in ${after}`,
    );
  }

  /**
   * Makes room for `newKeys` more keys, or refuses the request (429) when every kept window
   * still counts. A request naming more strategies than the table keeps (a batch holds up to
   * maxBatchSize) could never be admitted, and is refused for good.
   */
  private makeRoomFor(newKeys: number, now: number, reply: FastifyReply, strategies = newKeys): void {
    const capacity = this.windows.capacity;
    if (strategies > capacity) {
      this.onLimited();
      throw new ProblemError('rateLimited', `the batch names ${strategies} strategies, more than rate limits are kept for (rateLimit.cacheSize ${capacity}); split the batch`);
    }
    const roomAt = this.windows.makeRoom(newKeys, now);
    if (roomAt === undefined) return;
    this.onLimited();
    const resetSeconds = Math.ceil((roomAt - now) / 1000);
    reply.header('retry-after', resetSeconds);
    throw new ProblemError(
      'rateLimited',
      `rate limits are kept for at most ${capacity} keys (rateLimit.cacheSize), all counting now; retry in ${longDuration(resetSeconds * 1000)}`,
    );
  }
}

/** A strategy's key in the table, and its orders in batch number `batch`. */
interface BatchStrategy {
  readonly strategyId: string;
  readonly key: string;
  orders: number;
  batch: number;
}

const STRATEGY_PREFIX = 'strategy:';
const strategyKeyOf = (strategyId: string): string => STRATEGY_PREFIX + strategyId;

function strategyKey(request: FastifyRequest): string {
  const body = request.body as { strategyId?: unknown } | undefined;
  return typeof body?.strategyId === 'string' ? strategyKeyOf(body.strategyId) : tokenKey(request);
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365.25 * DAY;

/** A duration in words as the plugin words it (`1 second`, `45 seconds`, `2 minutes`, `500 ms`). */
export function longDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < SECOND) return `${ms} ms`;
  const [value, unit] = abs < MINUTE ? [abs / SECOND, 'second'] : abs < HOUR ? [abs / MINUTE, 'minute'] : abs < DAY ? [abs / HOUR, 'hour'] : abs < YEAR ? [abs / DAY, 'day'] : [abs / YEAR, 'year'];
  const rounded = (value | 0) === value ? value : ~~(value + 0.5);
  return `${sign}${rounded} ${unit}${rounded !== 1 ? 's' : ''}`;
}
