import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile } from '../../src/config/load.js';

const DEFAULT = 'config/default.yaml';
const dir = mkdtempSync(join(tmpdir(), 'ulc-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function file(text: string, extension = 'yaml'): string {
  const path = join(dir, `config-${files++}.${extension}`);
  writeFileSync(path, text);
  return path;
}

/** The ConfigError a load throws (fails the test when it loads). */
function errorOf(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('the embedded default (config/default.yaml)', () => {
  const config = loadConfigFile(DEFAULT);

  it('loads as schemaVersion 1 with its example book and demo tokens', () => {
    expect(config.schemaVersion).toBe(1);
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8080, bodyLimitBytes: 1_048_576, defaultDeadlineMs: 50, maxBatchSize: 1000 });
    expect(config.auth.tokens.map((t) => t.name)).toEqual(['demo-gateway', 'demo-ops', 'demo-admin']);
    expect(config.limits.map((l) => l.id)).toContain('max-order-qty');
    expect(config.limits.find((l) => l.id === 'var-99')).toMatchObject({ kind: 'value', actions: { HARD_BREACH: 'REDUCE_ONLY' } });
    expect(config.severityActions).toEqual({ WARNING: 'ALERT', SOFT_BREACH: 'ALERT', HARD_BREACH: 'BLOCK', CRITICAL: 'HALT' });
  });

  it('fills defaults for what the file leaves out', () => {
    expect(config.storage.snapshotJournalRatio).toBe(1);
    expect(config.storage.maxSegmentBytes).toBe(64 * 1024 * 1024);
    expect(config.server.sweepIntervalMs).toBe(1_000);
    expect(config.rateLimit.enabled).toBe(true);
    expect(config.capacity.maxSubscribers).toBe(64);
  });

  it('bounds shutdown and slow requests by default (10 s drain, 30 s to receive a request)', () => {
    expect(config.server.shutdownTimeoutMs).toBe(10_000);
    expect(config.server.requestTimeoutMs).toBe(30_000);
  });

  it('remembers closed orders for late fills for 5 minutes by default, apart from the day-long open-order TTL', () => {
    expect(config.server.lateFillWindowMs).toBe(300_000);
    expect(config.server.openOrderTtlMs).toBe(86_400_000);
  });

  it('is frozen all the way down', () => {
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(Object.isFrozen(config.limits)).toBe(true);
    expect(Object.isFrozen(config.limits[0]?.thresholds)).toBe(true);
    expect(Object.isFrozen(config.auth.tokens[0]?.roles)).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.limits as unknown[]).push({});
    }).toThrow(TypeError);
  });
});

describe('HOST and PORT', () => {
  it('override the file', () => {
    const config = loadConfigFile(DEFAULT, { HOST: '0.0.0.0', PORT: '9090' });
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.server.port).toBe(9090);
    expect(config.server.maxBatchSize).toBe(1000);
  });

  it('treat an empty PORT or HOST as unset, not as port 0', () => {
    const config = loadConfigFile(file('schemaVersion: 1\nserver: { port: 9099 }\n'), { PORT: '', HOST: '' });
    expect(config.server.port).toBe(9099);
    expect(config.server.host).toBe('127.0.0.1');
  });

  it('apply to a file without a server section', () => {
    const config = loadConfigFile(file('schemaVersion: 1\n'), { PORT: '0' });
    expect(config.server.port).toBe(0);
    expect(config.server.host).toBe('127.0.0.1');
  });

  it('a PORT that is not an integer is an error naming PORT', () => {
    expect(errorOf(() => loadConfigFile(DEFAULT, { PORT: 'http' })).message).toContain('PORT');
  });

  it('refuses a journal segment of more than 1 GiB, which recovery could not read whole, naming the field', () => {
    const withSegment = (bytes: number) => file(`schemaVersion: 1\nstorage: { maxSegmentBytes: ${bytes} }\n`);
    expect(loadConfigFile(withSegment(1024 ** 3)).storage.maxSegmentBytes).toBe(1024 ** 3);
    expect(errorOf(() => loadConfigFile(withSegment(1024 ** 3 + 1))).message).toContain('storage.maxSegmentBytes');
  });

  it('refuses a snapshot journal ratio below 0 or above 100, naming the field', () => {
    const withRatio = (ratio: number) => file(`schemaVersion: 1\nstorage: { snapshotJournalRatio: ${ratio} }\n`);
    expect(loadConfigFile(withRatio(0)).storage.snapshotJournalRatio).toBe(0);
    expect(loadConfigFile(withRatio(100)).storage.snapshotJournalRatio).toBe(100);
    for (const ratio of [-1, 101]) expect(errorOf(() => loadConfigFile(withRatio(ratio))).message).toContain('storage.snapshotJournalRatio');
  });

  it('a PORT out of range is an error naming server.port', () => {
    expect(errorOf(() => loadConfigFile(DEFAULT, { PORT: '70000' })).message).toContain('server.port');
  });
});

describe('bad files', () => {
  it('thresholds out of order name the field path', () => {
    const path = file(`schemaVersion: 1
limits:
  - { id: ok, kind: order_quantity, thresholds: { hard: 10 } }
  - { id: bad, kind: order_quantity, thresholds: { warn: 50, hard: 10 } }
`);
    expect(errorOf(() => loadConfigFile(path)).message).toMatch(/limits\.1\.thresholds\.hard/);
  });

  it('names the first limit too (limits.0.thresholds.hard)', () => {
    const path = file('schemaVersion: 1\nlimits:\n  - { id: a, kind: position, thresholds: { soft: 5, hard: 1 } }\n');
    expect(errorOf(() => loadConfigFile(path)).message).toContain('limits.0.thresholds.hard');
  });

  it('a seed book over capacity.maxLimits is refused, naming limits', () => {
    const path = file('schemaVersion: 1\ncapacity: { maxLimits: 1 }\nlimits:\n  - { id: a, kind: position, thresholds: { hard: 1 } }\n  - { id: b, kind: position, thresholds: { hard: 1 } }\n');
    expect(errorOf(() => loadConfigFile(path)).message).toMatch(/limits.*2 limits exceed capacity\.maxLimits 1/s);
  });

  it('a duplicate limit id is refused, naming limits[1].id', () => {
    const path = file('schemaVersion: 1\nlimits:\n  - { id: a, kind: position, thresholds: { hard: 1 } }\n  - { id: a, kind: order_quantity, thresholds: { hard: 1 } }\n');
    expect(errorOf(() => loadConfigFile(path)).message).toBe(`${path}: limits[1].id: duplicate limit id a`);
  });

  it('a windowed threshold the windows cannot hold (capacity.maxWindowEntries - 1) is refused, naming limits[0].thresholds', () => {
    const path = file('schemaVersion: 1\ncapacity: { maxWindowEntries: 100 }\nlimits:\n  - { id: r, kind: order_rate, windowMs: 1000, thresholds: { hard: 99 } }\n');
    expect(errorOf(() => loadConfigFile(path)).message).toBe(`${path}: limits[0].thresholds: 99 must stay below maxWindowEntries (100) - 1`);
    const fits = file('schemaVersion: 1\ncapacity: { maxWindowEntries: 100 }\nlimits:\n  - { id: r, kind: order_rate, windowMs: 1000, thresholds: { hard: 98 } }\n');
    expect(loadConfigFile(fits).limits).toHaveLength(1);
  });

  it('a redaction path pino cannot use is refused, naming server.redactPaths[1]', () => {
    const error = errorOf(() => loadConfigFile(file('schemaVersion: 1\nserver: { redactPaths: [order.price, "a..b"] }\n')));
    expect(error.message).toMatch(/server\.redactPaths\[1\]: "a\.\.b" is not a pino redaction path/);
    expect(loadConfigFile(file('schemaVersion: 1\nserver: { redactPaths: [order.price, "req.headers[\\"x-desk\\"]", "*.accountId"] }\n')).server.redactPaths).toHaveLength(3);
  });

  it('a wrong type names its path', () => {
    const error = errorOf(() => loadConfigFile(file('schemaVersion: 1\nserver: { port: "8080" }\n')));
    expect(error.message).toContain('server.port');
    expect(error.message).toContain(dir);
  });

  it('an unbounded shutdown or request timeout (0) is refused, naming the field', () => {
    expect(errorOf(() => loadConfigFile(file('schemaVersion: 1\nserver: { shutdownTimeoutMs: 0 }\n'))).message).toContain('server.shutdownTimeoutMs');
    expect(errorOf(() => loadConfigFile(file('schemaVersion: 1\nserver: { requestTimeoutMs: 0 }\n'))).message).toContain('server.requestTimeoutMs');
  });

  it('an unknown key is refused, naming it', () => {
    expect(errorOf(() => loadConfigFile(file('schemaVersion: 1\nserver: { prot: 8080 }\n'))).message).toContain('prot');
  });

  it('a bad token digest names auth.tokens.0.sha256', () => {
    const path = file('schemaVersion: 1\nauth: { tokens: [{ name: t, sha256: not-hex, roles: [ops] }] }\n');
    expect(errorOf(() => loadConfigFile(path)).message).toContain('auth.tokens.0.sha256');
  });

  it('text that is not YAML or JSON', () => {
    expect(errorOf(() => loadConfigFile(file('schemaVersion: 1\nlimits: [ { id: a\n'))).message).toMatch(/not valid YAML/);
  });

  it('a document that is not a mapping', () => {
    expect(errorOf(() => loadConfigFile(file('- 1\n- 2\n'))).message).toMatch(/mapping/);
  });

  it('a file that does not exist', () => {
    expect(errorOf(() => loadConfigFile(join(dir, 'missing.yaml'))).message).toMatch(/cannot read/);
  });

  it('an unknown schemaVersion (7) is an error', () => {
    expect(errorOf(() => loadConfigFile(file('schemaVersion: 7\nlimits: []\n'))).message).toMatch(/schemaVersion 7 is not supported/);
  });

  it('a schemaVersion written as a string is an error that shows it is a string', () => {
    expect(errorOf(() => loadConfigFile(file('schemaVersion: "1"\n'))).message).toContain('schemaVersion "1"');
  });
});

describe('JSON', () => {
  it('loads the same shape as YAML', () => {
    const path = file(JSON.stringify({ schemaVersion: 1, limits: [{ id: 'q', kind: 'order_quantity', thresholds: { hard: 5 } }] }), 'json');
    expect(loadConfigFile(path).limits).toEqual([{ id: 'q', kind: 'order_quantity', thresholds: { hard: 5 } }]);
  });
});

describe('schemaVersion 0 (the Python-era config)', () => {
  /** What the old module's config.py wrote: snake_case, old action names, per-type defaults, no version key. */
  const PYTHON_ERA = `# limit checker config, exported from config.py
server:
  host: 0.0.0.0
  port: 8000
  max_batch_size: 500
  default_deadline_ms: 20
severity_action_map:
  INFO: LOG_ONLY
  WARNING: LOG_ONLY
  SOFT_BREACH: ALERT
  HARD_BREACH: BLOCK_TRADE
  CRITICAL: HALT_TRADING
violation_history:
  max_size: 5000
  retention_hours: 12
limit_type_configs:
  RATE_LIMIT:
    aggregation: strategy
    window_seconds: 1.5
  POSITION_SIZE:
    aggregation: account+symbol
    severity_action_map:
      HARD_BREACH: REDUCE_POSITION
      CRITICAL: HALT_TRADING
  DUPLICATE_ORDER:
    window_seconds: 2
limits:
  - limit_id: acc1-aapl-position
    name: ACC-1 position in AAPL
    limit_type: POSITION_SIZE
    threshold_value: 5000
    warning_threshold: 4000
    critical_threshold: 10000
    scope_filter:
      account_id: ACC-1
      symbol: [AAPL, MSFT]
  - limit_id: strategy-rate
    limit_type: RATE_LIMIT
    threshold_value: 100
  - limit_id: dupes
    limit_type: duplicate_order
    threshold_value: 1
    window_seconds: 0.5
  - limit_id: fat-finger
    limit_type: order_size
    threshold_value: 10000
    severity_action_map:
      hard_breach: block_trade
    enabled: false
  - limit_id: collar
    limit_type: PRICE_COLLAR
    threshold_value: 500
    missing_reference: allow
    scope_filter:
      strategy_id: [momo-1, momo-2]
`;

  const EXPECTED_LIMITS = [
    {
      id: 'acc1-aapl-position',
      name: 'ACC-1 position in AAPL',
      kind: 'position',
      scope: { accounts: ['ACC-1'], symbols: ['AAPL', 'MSFT'] },
      per: 'account+symbol',
      thresholds: { warn: 4000, hard: 5000, critical: 10000 },
      actions: { HARD_BREACH: 'REDUCE_ONLY', CRITICAL: 'HALT' },
    },
    { id: 'strategy-rate', kind: 'order_rate', per: 'strategy', thresholds: { hard: 100 }, windowMs: 1500 },
    { id: 'dupes', kind: 'duplicate_order', thresholds: { hard: 1 }, windowMs: 500 },
    { id: 'fat-finger', kind: 'order_quantity', thresholds: { hard: 10000 }, actions: { HARD_BREACH: 'BLOCK' }, enabled: false },
    { id: 'collar', kind: 'price_deviation', scope: { strategies: ['momo-1', 'momo-2'] }, thresholds: { hard: 500 }, missingReference: 'allow' },
  ];

  it('migrates to the expected version-1 config', () => {
    const config = loadConfigFile(file(PYTHON_ERA));
    expect(config.schemaVersion).toBe(1);
    expect(config.limits).toEqual(EXPECTED_LIMITS);
    expect(config.severityActions).toEqual({ WARNING: 'LOG', SOFT_BREACH: 'ALERT', HARD_BREACH: 'BLOCK', CRITICAL: 'HALT' });
    expect(config.server).toMatchObject({ host: '0.0.0.0', port: 8000, maxBatchSize: 500, defaultDeadlineMs: 20 });
    expect(config.history).toEqual({ capacity: 5000, retentionMs: 12 * 3_600_000 });
    expect(Object.isFrozen(config.limits[0])).toBe(true);
  });

  it('reads the version from schema_version: 0 or schemaVersion: 0 alike', () => {
    for (const header of ['schema_version: 0\n', 'schemaVersion: 0\n']) {
      expect(loadConfigFile(file(header + PYTHON_ERA)).limits, header).toEqual(EXPECTED_LIMITS);
    }
  });

  it('lets HOST and PORT override a migrated file', () => {
    expect(loadConfigFile(file(PYTHON_ERA), { PORT: '7000' }).server.port).toBe(7000);
  });

  it('an unknown old action is an error naming where it is', () => {
    const error = errorOf(() => loadConfigFile(file('severity_action_map:\n  WARNING: EXPLODE\n')));
    expect(error.message).toContain('severity_action_map.WARNING');
    expect(error.message).toContain('EXPLODE');
  });

  it('an unknown old key is refused', () => {
    expect(errorOf(() => loadConfigFile(file('limits:\n  - { limit_id: a, limit_type: ORDER_SIZE, threshold_value: 1, callback: x }\n'))).message).toContain('callback');
  });

  it('a migrated limit that breaks a version-1 rule names its version-1 path', () => {
    const path = file('limits:\n  - { limit_id: a, limit_type: ORDER_SIZE, threshold_value: 10, warning_threshold: 20 }\n');
    expect(errorOf(() => loadConfigFile(path)).message).toContain('limits.0.thresholds.hard');
  });

  it('an unknown severity name (HARD_BRECH) is an error naming it, not a HALT dropped for the default BLOCK', () => {
    const top = errorOf(() => loadConfigFile(file('schema_version: 0\nseverity_action_map:\n  HARD_BRECH: HALT_TRADING\n')));
    expect(top.message).toContain('severity_action_map.HARD_BRECH');
    expect(top.message).toMatch(/unknown severity HARD_BRECH/);
    const inLimit = file('limits:\n  - { limit_id: a, limit_type: ORDER_SIZE, threshold_value: 1, severity_action_map: { CRTICAL: HALT_TRADING } }\n');
    expect(errorOf(() => loadConfigFile(inLimit)).message).toContain('limits.0.severity_action_map.CRTICAL');
    const inType = file('limit_type_configs:\n  ORDER_SIZE: { severity_action_map: { SOFT_BRAECH: BLOCK } }\n');
    expect(errorOf(() => loadConfigFile(inType)).message).toContain('limit_type_configs.ORDER_SIZE.severity_action_map.SOFT_BRAECH');
  });

  it('a severity written twice (HARD_BREACH and hard_breach) is an error, not whichever came last', () => {
    const path = file('severity_action_map:\n  HARD_BREACH: HALT_TRADING\n  hard_breach: LOG_ONLY\n');
    expect(errorOf(() => loadConfigFile(path)).message).toMatch(/severity_action_map\.hard_breach: .*HARD_BREACH/);
  });

  it('INFO is accepted and has no version-1 counterpart (no band raises it)', () => {
    expect(loadConfigFile(file('severity_action_map:\n  INFO: HALT_TRADING\n')).severityActions).toEqual({ WARNING: 'ALERT', SOFT_BREACH: 'ALERT', HARD_BREACH: 'BLOCK', CRITICAL: 'HALT' });
  });

  it('an unknown limit type in limit_type_configs (POSITON_SIZE) is an error naming it, not ignored', () => {
    const path = file(`limit_type_configs:
  POSITON_SIZE: { severity_action_map: { HARD_BREACH: HALT_TRADING } }
limits:
  - { limit_id: p, limit_type: POSITION_SIZE, threshold_value: 10 }
`);
    const error = errorOf(() => loadConfigFile(path));
    expect(error.message).toContain('limit_type_configs.POSITON_SIZE');
    expect(error.message).toMatch(/unknown limit type POSITON_SIZE/);
  });

  it('two limit_type_configs for one kind (POSITION_SIZE and POSITION) are an error, not whichever came last', () => {
    const path = file('limit_type_configs:\n  POSITION_SIZE: { aggregation: account+symbol }\n  POSITION: { aggregation: symbol }\n');
    expect(errorOf(() => loadConfigFile(path)).message).toMatch(/limit_type_configs\.POSITION: .*POSITION_SIZE/);
  });

  it('window_seconds on a limit type without a window is an error naming it, as windowMs is in version 1', () => {
    const limit = file('limits:\n  - { limit_id: p, limit_type: POSITION_SIZE, threshold_value: 10, window_seconds: 5 }\n');
    expect(errorOf(() => loadConfigFile(limit)).message).toMatch(/limits\.0\.window_seconds: window_seconds applies only to/);
    const type = file('limit_type_configs:\n  POSITION_SIZE: { window_seconds: 5 }\n');
    expect(errorOf(() => loadConfigFile(type)).message).toMatch(/limit_type_configs\.POSITION_SIZE\.window_seconds: window_seconds applies only to/);
    const rate = file('limits:\n  - { limit_id: r, limit_type: RATE_LIMIT, threshold_value: 10, window_seconds: 5 }\n');
    expect(loadConfigFile(rate).limits[0]).toMatchObject({ kind: 'order_rate', windowMs: 5000 });
  });

  it("a limit's own severity_action_map overrides its type's severity by severity, and the type's others still apply", () => {
    const path = file(`limit_type_configs:
  POSITION_SIZE: { severity_action_map: { HARD_BREACH: REDUCE_POSITION, CRITICAL: HALT_TRADING } }
limits:
  - { limit_id: p, limit_type: POSITION_SIZE, threshold_value: 10, severity_action_map: { HARD_BREACH: BLOCK_TRADE } }
`);
    expect(loadConfigFile(path).limits[0]?.actions).toEqual({ HARD_BREACH: 'BLOCK', CRITICAL: 'HALT' });
  });
});
