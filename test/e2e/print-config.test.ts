import { execFileSync } from 'node:child_process';
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
});
