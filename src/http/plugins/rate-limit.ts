import rateLimit from '@fastify/rate-limit';
import type { RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config/schema.js';
import { ProblemError } from '../problems.js';

/**
 * Protects the service, not the market (the order_rate limit kind is the risk control):
 * checks are limited per strategy, keyed from the validated body (so the hook runs at
 * preHandler), everything else per token. 429 carries retry-after.
 */
export async function registerRateLimit(app: FastifyInstance, config: AppConfig['rateLimit'], onLimited: () => void): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    cache: config.cacheSize,
    hook: 'preHandler',
    onExceeded: onLimited,
    errorResponseBuilder: (_request, context) =>
      new ProblemError('rateLimited', `rate limit of ${context.max} per ${context.after} exceeded; retry in ${context.after}`),
  });
}

const tokenKey = (request: FastifyRequest): string => `token:${request.principal?.name ?? request.ip}`;

export function perStrategy(config: AppConfig['rateLimit']): RateLimitOptions | false {
  if (!config.enabled) return false;
  return {
    max: config.perStrategy.max,
    timeWindow: config.perStrategy.timeWindowMs,
    hook: 'preHandler',
    keyGenerator: (request) => {
      const body = request.body as { strategyId?: unknown } | undefined;
      return typeof body?.strategyId === 'string' ? `strategy:${body.strategyId}` : tokenKey(request);
    },
  };
}

export function perToken(config: AppConfig['rateLimit']): RateLimitOptions | false {
  if (!config.enabled) return false;
  return { max: config.perToken.max, timeWindow: config.perToken.timeWindowMs, hook: 'preHandler', keyGenerator: tokenKey };
}
