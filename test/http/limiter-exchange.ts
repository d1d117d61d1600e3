import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CheckRateLimit } from '../../src/http/plugins/rate-limit.js';
import { testAppConfig } from '../support/app-fixtures.js';

/** Just enough of a request and reply for a CheckRateLimit. */
export function fakeExchange(strategyId: string | undefined, principal = 'gw') {
  const headers: Record<string, unknown> = {};
  const request = { body: strategyId === undefined ? {} : { strategyId }, principal: { name: principal }, ip: '127.0.0.1' } as unknown as FastifyRequest;
  const reply = {
    header(name: string, value: unknown) {
      headers[name] = value;
      return reply;
    },
  } as unknown as FastifyReply;
  return { request, reply, headers };
}

/** The rate-limit section of a test config with this per-strategy window and table size. */
export const limitConfig = (max: number, timeWindowMs: number, cacheSize: number) =>
  testAppConfig({ rateLimit: { perStrategy: { max, timeWindowMs }, cacheSize } }).rateLimit;

/** Whether the limit admits one single check of `strategy` (a refusal throws a 429 problem). */
export function admitsSingle(limit: CheckRateLimit, strategy: string): boolean {
  const { request, reply } = fakeExchange(strategy);
  try {
    limit.admit(request, reply);
    return true;
  } catch {
    return false;
  }
}

/** One single check of `strategy`: admitted or not, the headers it got and the refusal's detail. */
export function single(limit: CheckRateLimit, strategy: string) {
  const { request, reply, headers } = fakeExchange(strategy);
  try {
    limit.admit(request, reply);
    return { ok: true, headers, detail: undefined as string | undefined };
  } catch (error) {
    return { ok: false, headers, detail: (error as Error).message };
  }
}

/** One batch naming these strategies, one order each: admitted or not, the headers and the refusal's detail. */
export function batch(limit: CheckRateLimit, ...strategies: string[]) {
  const { reply, headers } = fakeExchange(undefined);
  try {
    limit.admitOrders(reply, strategies.map((strategyId) => ({ strategyId })));
    return { ok: true, headers, detail: undefined as string | undefined };
  } catch (error) {
    return { ok: false, headers, detail: (error as Error).message };
  }
}
