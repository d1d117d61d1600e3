import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const PYTHON_ERA = `
schema_version: 0
server: { port: 9099, default_deadline_ms: 20 }
severity_action_map: { INFO: LOG_ONLY, WARNING: ALERT, HARD_BREACH: BLOCK_TRADE, CRITICAL: HALT_TRADING }
limit_type_configs:
  ORDER_RATE: { window_seconds: 1 }
limits:
  - { limit_id: pos-1, limit_type: POSITION_SIZE, threshold_value: 5000, warning_threshold: 4000, scope_filter: { account_id: ACC-1 } }
  - { limit_id: rate-1, limit_type: ORDER_RATE, threshold_value: 100 }
`;

describe('--print-config', () => {
  it('prints a Python-era config migrated to the current schema, and exits 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-print-'));
    const path = join(dir, 'legacy.yaml');
    writeFileSync(path, PYTHON_ERA);
    const output = execFileSync(process.execPath, ['dist/server.js', '--config', path, '--print-config'], { encoding: 'utf8', env: { ...process.env, PORT: '' } });
    const printed = parse(output) as Record<string, unknown>;
    expect(printed).toMatchObject({
      schemaVersion: 1,
      server: { port: 9099, defaultDeadlineMs: 20 },
      severityActions: { WARNING: 'ALERT', HARD_BREACH: 'BLOCK', CRITICAL: 'HALT' },
      limits: [
        { id: 'pos-1', kind: 'position', thresholds: { warn: 4000, hard: 5000 }, scope: { accounts: ['ACC-1'] } },
        { id: 'rate-1', kind: 'order_rate', windowMs: 1000, thresholds: { hard: 100 } },
      ],
    });
  });

  it.each([
    ['a duplicate limit id', 'limits:\n  - { id: a, kind: position, thresholds: { hard: 1 } }\n  - { id: a, kind: position, thresholds: { hard: 2 } }\n', 'limits[1].id'],
    ['a redaction path pino refuses', 'server: { redactPaths: [order.price, "a..b"] }\n', 'server.redactPaths[1]'],
    ['a rate threshold over capacity.maxWindowEntries - 1', 'capacity: { maxWindowEntries: 10 }\nlimits:\n  - { id: r, kind: order_rate, windowMs: 1000, thresholds: { hard: 20 } }\n', 'limits[0].thresholds'],
  ])('refuses %s with exit code 1 and one line naming the field, printing or starting', (_what, body, field) => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-print-'));
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, `schemaVersion: 1\nstorage: { durability: 'off' }\n${body}`);
    for (const args of [['--print-config'], []]) {
      const run = spawnSync(process.execPath, ['dist/server.js', '--config', path, ...args], { encoding: 'utf8', env: { ...process.env, PORT: '0' }, timeout: 15_000 });
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`${path}: ${field}: `);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
