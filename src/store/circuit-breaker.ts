import type { StoreLog } from './recovery.js';

/**
 * closed: the dependency works and is used. open: it failed; nothing that needs it is done
 * (fail closed) until `retryAfterMs` has passed. half_open: one recovery attempt is under way;
 * still nothing that needs it is done, and the attempt's outcome closes or re-opens the breaker.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

/** The value of each state in `ulc_dependency_breaker_state`. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, open: 1, half_open: 2 };

export interface BreakerOptions {
  /** The dependency's name, in log lines and metric labels. */
  dependency: string;
  /** How long the breaker stays open before it tries to recover (half-open). */
  retryAfterMs: number;
  /** The half-open attempt: resolves once the dependency is whole again, rejects if it is not. */
  recover: () => Promise<void>;
  log: StoreLog;
}

/**
 * One dependency's circuit breaker. A failure opens it; after `retryAfterMs` it runs one
 * recovery attempt (half-open), which closes it or opens it again for another interval. Failures
 * reported while open change nothing; one reported while half-open fails the attempt, even one
 * that then resolves.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private isStopped = false;
  /** A failure reported while half-open: the attempt cannot close the breaker, whatever it says. */
  private failedDuringAttempt: Error | undefined;
  /** Times the breaker opened from closed (outages), so a caller can tell two outages apart. */
  opened = 0;

  constructor(private readonly options: BreakerOptions) {}

  get state(): BreakerState {
    return this.current;
  }

  get isClosed(): boolean {
    return this.current === 'closed';
  }

  /** The dependency failed: from closed, the breaker opens and a recovery attempt is scheduled. */
  trip(error: Error): void {
    if (this.current === 'half_open') this.failedDuringAttempt ??= error;
    if (this.current !== 'closed') return;
    this.current = 'open';
    this.opened++;
    this.options.log.warn(
      { dependency: this.options.dependency, err: error, retryInMs: this.options.retryAfterMs },
      `circuit breaker open: ${this.options.dependency} failed; what needs it is refused until it recovers`,
    );
    this.schedule();
  }

  /**
   * No more attempts (shutdown); resolves once one under way has ended. With `tryLast`, a
   * breaker still open makes one last attempt first: what it would save is otherwise lost.
   */
  async stop(tryLast = false): Promise<void> {
    this.isStopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.attempt;
    if (tryLast && this.current === 'open') await this.halfOpen(true);
  }

  /** Read through a method: TypeScript would take the field, cleared before the attempt's await, as still unset after it. */
  private attemptFailure(): Error | undefined {
    return this.failedDuringAttempt;
  }

  private schedule(): void {
    if (this.isStopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.attempt = this.halfOpen().finally(() => {
        this.attempt = undefined;
      });
    }, this.options.retryAfterMs);
    this.timer.unref();
  }

  private async halfOpen(isLast = false): Promise<void> {
    if ((this.isStopped && !isLast) || this.current !== 'open') return;
    const { dependency, log } = this.options;
    this.current = 'half_open';
    this.failedDuringAttempt = undefined;
    log.info({ dependency }, `circuit breaker half-open: trying to recover ${dependency}`);
    try {
      await this.options.recover();
      const failed = this.attemptFailure();
      if (failed !== undefined) throw failed;
    } catch (error) {
      this.current = 'open';
      log.warn({ dependency, err: error, retryInMs: this.options.retryAfterMs }, `circuit breaker open again: ${dependency} did not recover`);
      this.schedule();
      return;
    }
    this.current = 'closed';
    log.info({ dependency }, `circuit breaker closed: ${dependency} recovered`);
  }
}
