import type { FastifyBaseLogger, LogLevel } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

/**
 * A request's logger, made only when the request first logs: production logs errors and
 * REJECTs, not every request, and pino's child() (bindings serialised for each one) was about
 * 2 % of a single check's CPU in profiles. Once made it is the same child pino would have given.
 */
class LazyRequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get logger(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  /** A child starts at its parent's level unless its options set one. */
  get level(): LogLevel | (string & {}) {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: LogLevel | (string & {})) {
    this.logger.level = level;
  }

  fatal(...args: unknown[]): void {
    const logger = this.logger;
    Reflect.apply(logger.fatal, logger, args);
  }

  error(...args: unknown[]): void {
    const logger = this.logger;
    Reflect.apply(logger.error, logger, args);
  }

  warn(...args: unknown[]): void {
    const logger = this.logger;
    Reflect.apply(logger.warn, logger, args);
  }

  info(...args: unknown[]): void {
    const logger = this.logger;
    Reflect.apply(logger.info, logger, args);
  }

  debug(...args: unknown[]): void {
    const logger = this.logger;
    Reflect.apply(logger.debug, logger, args);
  }

  trace(...args: unknown[]): void {
    const logger = this.logger;
    Reflect.apply(logger.trace, logger, args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: each request's logger, made lazily. */
export const lazyRequestLogger = (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger =>
  new LazyRequestLogger(logger, bindings, options);
