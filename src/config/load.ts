import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { LimitBook, LimitBookError } from '../domain/limit-book.js';
import { ViolationBook } from '../domain/violation-book.js';
import { ConfigV0Schema, migrateV0 } from './migrations.js';
import { AppConfigSchema, CURRENT_SCHEMA_VERSION } from './schema.js';
import type { AppConfig } from './schema.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Reads, migrates, validates and freezes a config file (YAML or JSON, by content). */
export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = {}): AppConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config ${path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config ${path} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  return parseConfig(document, env, path);
}

/** Validates a config document of any known schema version and applies HOST and PORT. */
export function parseConfig(document: unknown, env: NodeJS.ProcessEnv = {}, source = 'config'): AppConfig {
  const current = migrate(document, source);
  const overridden = applyEnvironment(current, env, source);
  const result = AppConfigSchema.safeParse(overridden);
  if (!result.success) throw new ConfigError(`${source}: ${describe(result.error)}`);
  checkRedactPaths(result.data.server.redactPaths, source);
  checkSeedBook(result.data, source);
  return deepFreeze(result.data);
}

/** Each extra redaction path must be one pino accepts, or the logger (and the start) would fail. */
function checkRedactPaths(paths: readonly string[], source: string): void {
  paths.forEach((path, index) => {
    try {
      pino({ redact: { paths: [path] } }, DISCARD);
    } catch (error) {
      throw new ConfigError(`${source}: server.redactPaths[${index}]: ${JSON.stringify(path)} is not a pino redaction path (${(error as Error).message})`);
    }
  });
}

const DISCARD = new Writable({
  write(_chunk, _encoding, callback) {
    callback();
  },
});

/**
 * The seed book compiles as the engine compiles it at start (duplicate ids, windowed thresholds
 * within capacity.maxWindowEntries): what the engine would refuse, the config refuses, naming the field.
 */
function checkSeedBook(config: AppConfig, source: string): void {
  const violations = new ViolationBook({ historyCapacity: 1, retentionMs: 1, maxActive: 1, maxSubscribers: 1 });
  try {
    LimitBook.compile(config.limits, { version: 1, severityActions: config.severityActions, maxWindowEntries: config.capacity.maxWindowEntries, violations });
  } catch (error) {
    if (!(error instanceof LimitBookError)) throw error;
    throw new ConfigError(`${source}: ${describeBookError(config, error)}`);
  }
}

/** `limits[1].id: duplicate limit id a`: the field first, the engine's message without its own prefix. */
function describeBookError(config: AppConfig, error: LimitBookError): string {
  const [index, ...rest] = error.path;
  if (typeof index !== 'number') return `limits: ${error.message}`;
  const field = `limits[${index}]${rest.map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('')}`;
  let detail = error.message;
  for (const prefix of [`${field}: `, `limit ${config.limits[index]?.id}: ${rest.join('.')}: `]) {
    if (detail.startsWith(prefix)) detail = detail.slice(prefix.length);
  }
  return `${field}: ${detail}`;
}

function migrate(document: unknown, source: string): unknown {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new ConfigError(`${source}: the config must be a mapping with schemaVersion ${CURRENT_SCHEMA_VERSION}`);
  }
  const record = document as Record<string, unknown>;
  const version = record.schemaVersion ?? record.schema_version ?? 0;
  if (version === CURRENT_SCHEMA_VERSION) return document;
  if (version !== 0) throw new ConfigError(`${source}: schemaVersion ${JSON.stringify(version)} is not supported (0 or ${CURRENT_SCHEMA_VERSION}, a number)`);
  const v0 = ConfigV0Schema.safeParse(document);
  if (!v0.success) throw new ConfigError(`${source} (schemaVersion 0): ${describe(v0.error)}`);
  return migrateV0(v0.data);
}

function applyEnvironment(document: unknown, env: NodeJS.ProcessEnv, source: string): unknown {
  // An empty variable (`PORT=` in a shell or compose file) means unset, not port 0.
  const host = env.HOST === '' ? undefined : env.HOST;
  const portText = env.PORT === '' ? undefined : env.PORT;
  if (host === undefined && portText === undefined) return document;
  const record = document as Record<string, unknown>;
  const server = { ...((record.server as Record<string, unknown> | undefined) ?? {}) };
  if (host !== undefined) server.host = host;
  if (portText !== undefined) {
    const port = Number(portText);
    if (!Number.isInteger(port)) throw new ConfigError(`${source}: PORT must be an integer, got ${portText}`);
    server.port = port;
  }
  return { ...record, server };
}

/** The first problem, with the path of the field it is about (`limits.3.thresholds.soft: ...`). */
export function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`)
    .join('; ');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
