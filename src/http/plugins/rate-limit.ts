import rateLimit from '@fastify/rate-limit';
import type { RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config/schema.js';
import { ProblemError } from '../problems.js';

/**
 * Protects the service, not the market (the order_rate limit kind is the risk control):
 * checks are limited per strategy, keyed from the validated body, everything else per token.
 * 429 carries retry-after.
 *
 * The check routes use `CheckRateLimit` below, called at the start of their handlers (after
 * validation, where @fastify/rate-limit's preHandler hook would run), synchronously; every
 * other route uses the plugin. Both count in fixed windows per key and route, answer with the
 * same headers and the same problem, and forget the least recently used key beyond `cacheSize`.
 */
export async function registerRateLimit(app: FastifyInstance, config: AppConfig['rateLimit'], onLimited: () => void): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    cache: config.cacheSize,
    hook: 'preHandler',
    onExceeded: onLimited,
    errorResponseBuilder: (_request, context) => limitedProblem(context.max, context.after),
  });
}

const limitedProblem = (max: number, after: string): ProblemError =>
  new ProblemError('rateLimited', `rate limit of ${max} per ${after} exceeded; retry in ${after}`);

const tokenKey = (request: FastifyRequest): string => `token:${request.principal?.name ?? request.ip}`;

export function perToken(config: AppConfig['rateLimit']): RateLimitOptions | false {
  if (!config.enabled) return false;
  return { max: config.perToken.max, timeWindow: config.perToken.timeWindowMs, hook: 'preHandler', keyGenerator: tokenKey };
}

/** One key's fixed window: requests counted since it started. */
interface Window {
  count: number;
  startedAt: number;
}

/**
 * A fixed-window rate limit of one route, kept in process: the same counting as the plugin's
 * local store (a window starts at a key's first request and lasts `timeWindowMs`; the count
 * restarts after it), with its least recently used keys forgotten beyond `capacity`.
 */
export class CheckRateLimit {
  /** Map order is recency order: a key is moved to the end whenever it is counted. */
  private readonly windows = new Map<string, Window>();

  private constructor(
    private readonly max: number,
    private readonly timeWindowMs: number,
    private readonly capacity: number,
    private readonly keyOf: (request: FastifyRequest) => string,
    private readonly onLimited: () => void,
    private readonly now: () => number,
  ) {}

  /** Per strategy (from the validated body; per token if it had none); undefined when rate limits are off. */
  static perStrategy(config: AppConfig['rateLimit'], onLimited: () => void, now: () => number = Date.now): CheckRateLimit | undefined {
    if (!config.enabled) return undefined;
    return new CheckRateLimit(config.perStrategy.max, config.perStrategy.timeWindowMs, config.cacheSize, strategyKey, onLimited, now);
  }

  /** Per token; undefined when rate limits are off. */
  static perToken(config: AppConfig['rateLimit'], onLimited: () => void, now: () => number = Date.now): CheckRateLimit | undefined {
    if (!config.enabled) return undefined;
    return new CheckRateLimit(config.perToken.max, config.perToken.timeWindowMs, config.cacheSize, tokenKey, onLimited, now);
  }

  /**
   * Counts the request; sets the x-ratelimit-* headers, and when over the limit also
   * retry-after, and throws the 429 problem.
   */
  admit(request: FastifyRequest, reply: FastifyReply): void {
    const key = this.keyOf(request);
    const now = this.now();
    const windows = this.windows;
    let window = windows.get(key);
    if (window === undefined) {
      window = { count: 1, startedAt: now };
      if (windows.size >= this.capacity) windows.delete(windows.keys().next().value!);
    } else {
      windows.delete(key);
      if (window.startedAt + this.timeWindowMs <= now) {
        window.count = 1;
        window.startedAt = now;
      } else {
        window.count++;
      }
    }
    windows.set(key, window);
    const resetSeconds = Math.ceil((this.timeWindowMs - (now - window.startedAt)) / 1000);
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
}

function strategyKey(request: FastifyRequest): string {
  const body = request.body as { strategyId?: unknown } | undefined;
  return typeof body?.strategyId === 'string' ? `strategy:${body.strategyId}` : tokenKey(request);
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
