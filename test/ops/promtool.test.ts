import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { exercisedApp, repoPath } from './service.js';

/**
 * Prometheus's own checker on ops/prometheus.yml and on the service's /metrics exposition.
 * promtool is Debian's `prometheus` package; .ci/run installs it, and under CI (CI=true) these
 * run and fail without it. On a developer's machine without promtool they skip, saying why, so
 * that `npm ci && npm test` still passes there.
 */
const hasPromtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const isRequired = process.env.CI === 'true';
const SKIP_REASON = 'SKIPPED: promtool is not on the PATH (install it: apt-get install -y prometheus)';
if (!hasPromtool) console.warn(`test/ops/promtool.test.ts ${SKIP_REASON}`);

/**
 * prom-client's own default metrics that promtool's lint flags ("non-counter metrics should not
 * have _total suffix"): upstream names, not ours. Everything else must be lint-clean.
 */
const PROM_CLIENT_LINT_EXCEPTIONS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe.runIf(hasPromtool || isRequired)(hasPromtool || isRequired ? 'promtool' : `promtool — ${SKIP_REASON}`, () => {
  let app: App;
  beforeAll(async () => {
    app = await exercisedApp();
  });
  afterAll(async () => {
    await app.server.close();
  });

  it('accepts ops/prometheus.yml (the compose hostname `ulc` is not resolved, only the syntax checked)', () => {
    const { status, output } = promtool(['check', 'config', repoPath('ops/prometheus.yml')]);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it('accepts the /metrics exposition: it parses, and every ulc_ metric is lint-clean', async () => {
    const response = await app.server.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('ulc_checks_total{decision="ACCEPT"');
    const { status, output } = promtool(['check', 'metrics'], response.body);
    // 0: clean; 3: parsed, with lint problems; anything else (1: "error while linting") is a parse failure.
    expect([0, 3], output).toContain(status);
    expect(output).not.toContain('error while linting');
    const problems = output.split('\n').filter((line) => line.trim() !== '');
    const ours = problems.filter((line) => !PROM_CLIENT_LINT_EXCEPTIONS.some((name) => line.startsWith(`${name} `)));
    expect(ours).toEqual([]);
  });
});
