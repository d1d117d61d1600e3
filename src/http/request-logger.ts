import type { FastifyBaseLogger, LogLevel } from 'fastify';
import { levels } from 'pino';
import type { Bindings, ChildLoggerOptions, Level } from 'pino';

/**
 * A request's logger, made only when the request first writes a line its level lets through:
 * production logs errors and REJECTs, not every request (nor the debug line of every 4xx), and
 * pino's child() (bindings serialised for each one) was about 2 % of a single check's CPU in
 * profiles. Once made it is the same child pino would have given.
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
    this.write('fatal', args);
  }

  error(...args: unknown[]): void {
    this.write('error', args);
  }

  warn(...args: unknown[]): void {
    this.write('warn', args);
  }

  info(...args: unknown[]): void {
    this.write('info', args);
  }

  debug(...args: unknown[]): void {
    this.write('debug', args);
  }

  trace(...args: unknown[]): void {
    this.write('trace', args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }

  private write(level: Level, args: unknown[]): void {
    // A line below the level is dropped without making the child for it. A level pino's table
    // does not know (only `silent` here) is left to pino: the child is made and decides.
    const threshold = this.level === 'silent' ? Number.POSITIVE_INFINITY : levels.values[this.level];
    if (this.made === undefined && threshold !== undefined && levels.values[level]! < threshold) return;
    const logger = this.logger;
    Reflect.apply(logger[level], logger, args);
  }
}

/** Fastify's `childLoggerFactory`: each request's logger, made lazily. */
export const lazyRequestLogger = (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger =>
  new LazyRequestLogger(logger, bindings, options);
