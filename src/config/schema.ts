import { z } from 'zod';
import { ActionSchema } from '../domain/enums.js';
import { LimitDefinitionSchema } from '../domain/limit-definition.js';
import { MAX_SEGMENT_BYTES } from '../store/journal-format.js';

export const CURRENT_SCHEMA_VERSION = 1;

export const RoleSchema = z.enum(['gateway', 'ops', 'admin']);
export type Role = z.infer<typeof RoleSchema>;

const positiveInt = (max: number) => z.number().int().min(1).max(max);

const ServerSchema = z.strictObject({
  host: z.string().min(1).max(255).default('127.0.0.1'),
  port: z.number().int().min(0).max(65_535).default(8080),
  bodyLimitBytes: positiveInt(64 * 1024 * 1024).default(1_048_576),
  /** Budget for a request that sends no `x-deadline-ms`. */
  defaultDeadlineMs: positiveInt(60_000).default(50),
  maxBatchSize: positiveInt(100_000).default(1_000),
  /** Open orders with no execution for this long are released. */
  openOrderTtlMs: positiveInt(7 * 86_400_000).default(86_400_000),
  /**
   * A cancelled, rejected or expired order is remembered this long, so that a fill the venue
   * made before it saw the cancel still moves the position; later it is an unknown_order.
   */
  lateFillWindowMs: positiveInt(7 * 86_400_000).default(300_000),
  /** Reference prices older than this count as missing (price-dependent limits fail closed). */
  maxReferenceAgeMs: positiveInt(86_400_000).default(60_000),
  /** How often expired orders, empty windows and old history are swept. */
  sweepIntervalMs: positiveInt(600_000).default(1_000),
  /** One log line per request; off in production, where only errors and REJECTs are logged. */
  accessLog: z.boolean().default(false),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Extra log paths to redact (pino paths), for fields this firm treats as sensitive. */
  redactPaths: z.array(z.string().min(1).max(200)).max(100).default([]),
  /**
   * On SIGTERM, how long in-flight requests get to finish; then the connections still open are
   * closed, so the last snapshot and the trace flush still run and the process exits.
   */
  shutdownTimeoutMs: positiveInt(300_000).default(10_000),
  /** A request whose headers and body have not all arrived after this long is answered 408. */
  requestTimeoutMs: positiveInt(600_000).default(30_000),
  /**
   * The first answer decided in a turn of the event loop is written at once and the others
   * together at its end: a waiting client is woken twice a turn at most rather than once an
   * answer (coalesced-writes.ts).
   */
  coalesceWrites: z.boolean().default(true),
});

const TokenSchema = z.strictObject({
  name: z.string().min(1).max(64),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex SHA-256 of the token'),
  roles: z.array(RoleSchema).min(1),
});

const AuthSchema = z.strictObject({
  enabled: z.boolean().default(true),
  tokens: z.array(TokenSchema).max(1_000).default([]),
});

const WindowSchema = z.strictObject({ max: positiveInt(10_000_000), timeWindowMs: positiveInt(3_600_000) });

const RateLimitSchema = z.strictObject({
  enabled: z.boolean().default(true),
  perStrategy: WindowSchema.default({ max: 100_000, timeWindowMs: 1_000 }),
  perToken: WindowSchema.default({ max: 1_000, timeWindowMs: 1_000 }),
  /** Distinct rate-limit keys kept (LRU). */
  cacheSize: positiveInt(1_000_000).default(10_000),
});

const SeverityActionsSchema = z.strictObject({
  WARNING: ActionSchema.default('ALERT'),
  SOFT_BREACH: ActionSchema.default('ALERT'),
  HARD_BREACH: ActionSchema.default('BLOCK'),
  CRITICAL: ActionSchema.default('HALT'),
});

const HistorySchema = z.strictObject({
  capacity: positiveInt(10_000_000).default(100_000),
  retentionMs: positiveInt(30 * 86_400_000).default(86_400_000),
});

const CapacitySchema = z.strictObject({
  maxOpenOrders: positiveInt(100_000_000).default(1_000_000),
  maxPositions: positiveInt(100_000_000).default(2_000_000),
  maxSymbols: positiveInt(10_000_000).default(100_000),
  maxWindowKeys: positiveInt(10_000_000).default(100_000),
  maxWindowEntries: positiveInt(10_000_000).default(100_000),
  maxTradingStates: positiveInt(1_000_000).default(10_000),
  maxActiveViolations: positiveInt(10_000_000).default(100_000),
  maxSubscribers: positiveInt(10_000).default(64),
  /** Limits in the book: the API refuses more (a change recompiles the whole book, ~9 µs a limit here). */
  maxLimits: positiveInt(100_000).default(100_000),
});

const StorageSchema = z.strictObject({
  dataDir: z.string().min(1).max(1_000).default('./data'),
  /**
   * fsync: a change is answered only once on disk (group commit). async: written to the OS
   * every `asyncFlushMs` and fsync'ed every second. off: nothing survives a restart.
   */
  durability: z.enum(['fsync', 'async', 'off']).default('async'),
  snapshotIntervalMs: positiveInt(86_400_000).default(60_000),
  asyncFlushMs: positiveInt(1_000).default(5),
  /**
   * This much journal since the last snapshot triggers one, after which the segments it covers
   * are deleted. At most 1 GiB, the most a segment holds (the journal goes on in a new segment
   * before a write would take one past it, snapshots or not): recovery reads a segment whole,
   * and Node reads no file over 2 GiB at once.
   */
  maxSegmentBytes: positiveInt(MAX_SEGMENT_BYTES).default(64 * 1024 * 1024),
  /**
   * ...once the journal since the last snapshot is also this many times that snapshot's size
   * (0: maxSegmentBytes alone). A snapshot costs the state's size, so with a state larger than
   * a segment (a million positions is ~160 MB) a fixed segment size would have the snapshot
   * worker serialise more than the journal takes in, at a few seconds of CPU each; at 1 the
   * snapshots written are at most the journal written, and a recovery replays at most a
   * snapshot's size of journal. Never past 1 GiB a segment (see maxSegmentBytes). Snapshots on
   * the timer are not held back.
   */
  snapshotJournalRatio: z.number().min(0).max(100).default(1),
  /**
   * worker: a replica of the engine on a worker thread, fed the journal's writes, captures and
   * writes snapshots, so the service's event loop never stops for one (costs a second copy of
   * the state in memory). main: the service captures and serialises them itself.
   */
  snapshotsIn: z.enum(['worker', 'main']).default('worker'),
  /**
   * After the journal fails (disk full, I/O error), how long its circuit breaker stays open
   * before it tries to recover: a snapshot of the state and a new segment. Until one succeeds,
   * checks and state changes are refused; a failed attempt waits this long again.
   */
  recoveryIntervalMs: z.number().int().min(100).max(600_000).default(5_000),
});

export const AppConfigSchema = z.strictObject({
  schemaVersion: z.literal(CURRENT_SCHEMA_VERSION),
  server: ServerSchema.default(ServerSchema.parse({})),
  auth: AuthSchema.default(AuthSchema.parse({})),
  rateLimit: RateLimitSchema.default(RateLimitSchema.parse({})),
  severityActions: SeverityActionsSchema.default(SeverityActionsSchema.parse({})),
  history: HistorySchema.default(HistorySchema.parse({})),
  capacity: CapacitySchema.default(CapacitySchema.parse({})),
  storage: StorageSchema.default(StorageSchema.parse({})),
  limits: z.array(LimitDefinitionSchema).max(100_000).default([]),
}).check((ctx) => {
  const { limits, capacity } = ctx.value;
  if (limits.length > capacity.maxLimits) {
    ctx.issues.push({ code: 'custom', input: limits, path: ['limits'], message: `${limits.length} limits exceed capacity.maxLimits ${capacity.maxLimits}` });
  }
});
export type AppConfig = z.infer<typeof AppConfigSchema>;
export type AppConfigInput = z.input<typeof AppConfigSchema>;
