import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { systemMonotonic } from '../domain/clock.js';
import { LimitEngine } from '../domain/engine.js';
import type { EngineConfig } from '../domain/engine.js';
import type { LimitDefinition } from '../domain/limit-definition.js';
import { Telemetry } from '../telemetry/metrics.js';
import { disabledTracing } from '../telemetry/tracing.js';
import type { Tracing } from '../telemetry/tracing.js';
import type { Principal } from './plugins/auth.js';

/**
 * What the check routes act on: the live engine and telemetry, or (for warm-up requests) a
 * scratch engine and a scratch registry, so warming the HTTP path changes no state, no metric
 * and no log of the live service.
 */
export interface CheckTarget {
  readonly engine: LimitEngine;
  readonly telemetry: Telemetry;
  readonly tracing: Tracing;
  readonly isWarmUp: boolean;
}

/**
 * A per-process random bearer token, valid only until the HTTP path is warm: the service
 * sends itself requests through the whole stack (auth, deadline, parsing, validation, rate
 * limit, handler, serializer, hooks) before /readyz turns ready, because the first requests
 * after start-up otherwise pay for compiling that path (tens of ms, more than the default
 * deadline on a loaded machine). It happens in `onReady`, before the server listens, and
 * the token never leaves the process.
 */
export class HttpWarmUp {
  private readonly token = randomBytes(32).toString('base64url');
  readonly digest = createHash('sha256').update(this.token).digest();
  readonly principal: Principal = { name: 'http-warm-up', roles: new Set(['gateway']) };
  readonly target: CheckTarget;
  /** What the last run sent; undefined until it has run. */
  outcome: WarmUpOutcome | undefined;
  private active = true;

  constructor(config: EngineConfig, limits: readonly LimitDefinition[]) {
    let wall = Date.now();
    const engine = new LimitEngine(config, { now: () => wall++, ...systemMonotonic }, limits);
    engine.setReferencePrices([{ symbol: WARM_SYMBOL, price: 100 }]);
    this.target = { engine, telemetry: new Telemetry(() => engine, { defaultMetrics: false }), tracing: disabledTracing, isWarmUp: true };
  }

  get isActive(): boolean {
    return this.active;
  }

  /** True for a request that authenticated with the warm-up token. */
  owns(request: FastifyRequest): boolean {
    return request.principal === this.principal;
  }

  /**
   * Sends `requests` single checks and a few batches to the app's own router over a temporary
   * loopback listener (so Node's HTTP parser and socket path warm up too; `inject` cannot run
   * before the app is ready), then retires the token for good. The routes keep its requests out
   * of the live rate limiters, so no limit setting can refuse them.
   */
  async run(server: FastifyInstance, requests: number): Promise<WarmUpOutcome> {
    const listener = createServer((req, res) => server.routing(req, res));
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(0, '127.0.0.1', resolve);
    });
    const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    const headers = { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', 'x-deadline-ms': '60000' };
    const batches = Math.max(1, Math.floor(requests / 50));
    const outcome: WarmUpOutcome = { requests: 0, failures: 0 };
    const started = performance.now();
    const send = async (path: string, body: unknown): Promise<void> => {
      const response = await fetch(url + path, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(MAX_WARM_UP_MS) });
      await response.arrayBuffer();
      outcome.requests++;
      if (response.status !== 200) outcome.failures++;
    };
    try {
      for (let i = 0; i < requests && performance.now() - started < MAX_WARM_UP_MS; i++) {
        await send('/v1/checks', warmOrder(i));
      }
      for (let b = 0; b < batches && performance.now() - started < MAX_WARM_UP_MS; b++) {
        await send('/v1/checks/batch', { orders: Array.from({ length: 50 }, (_, i) => warmOrder(requests + b * 50 + i)) });
      }
    } catch {
      outcome.failures++;
    } finally {
      this.active = false;
      listener.closeAllConnections();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
    this.outcome = outcome;
    return outcome;
  }
}

export interface WarmUpOutcome {
  requests: number;
  failures: number;
}

/** A bound on the warm-up, whatever the machine: readiness must not wait on it for long. */
const MAX_WARM_UP_MS = 2_000;
const WARM_SYMBOL = 'WARM-SYM';

const warmOrder = (i: number) => ({
  orderId: `warm-http-${i}`,
  accountId: `WARM-ACC-${i % 8}`,
  strategyId: 'WARM-STRAT',
  symbol: WARM_SYMBOL,
  side: i % 2 === 0 ? 'BUY' : 'SELL',
  // Passive prices and varied sizes: no self-cross, no duplicate, nothing near a limit.
  quantity: 1 + (i % 97),
  price: i % 2 === 0 ? 99 : 101,
  orderType: 'LIMIT',
});
