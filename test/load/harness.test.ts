import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../load-tests/report.js';
import { repoRoot } from '../../load-tests/processes.js';
import { runSuite } from '../../load-tests/run.js';
import { chooseScavengeThreads, describeScavengeThreads } from '../../src/gc-threads.js';

/**
 * A CI smoke of the load harness, not a benchmark: a short burst against the real service
 * (dist/server.js, built by `npm test`) and the bare baseline, through the same code as
 * `npm run load`, then the report's shape. No figure is judged here.
 */
describe('load harness (smoke)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ulc-load-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a short burst against the service and the baseline and writes a JSON, Markdown and HTML report', async () => {
    const { files, report } = await runSuite({ scenarios: ['burst'], durations: { burstOrders: 2_000 }, outDir: dir, skipWarmUp: true, log: () => undefined });

    for (const file of Object.values(files)) expect(existsSync(file)).toBe(true);
    const json = JSON.parse(readFileSync(files.json, 'utf8')) as Report;
    expect(json).toEqual(report);
    expect(json.schema).toBe('ulc-load-report/1');
    expect(json.service.firstChecks).toHaveLength(10);
    // The service as shipped: started with the Node flags npm start and the image use.
    const { config } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { config: { nodeFlags: string } };
    expect(json.serviceNodeFlags).toEqual(config.nodeFlags.split(' '));
    // The scavenge choice the service logged, as it makes it from this host's cores and those flags.
    expect(json.service.scavenges).toBe(describeScavengeThreads(chooseScavengeThreads(availableParallelism(), json.serviceNodeFlags)));
    expect(readFileSync(files.markdown, 'utf8')).toContain(json.service.scavenges);
    expect(json.service.decisions['ACCEPT/NONE']).toBeGreaterThan(0);

    const burst = json.results.find((r) => r.name === 'burst');
    expect(burst?.runs.map((r) => r.target)).toEqual(['baseline', 'service']);
    for (const run of burst!.runs) {
      expect(run.requests).toBe(2_000);
      expect(run.non2xx).toBe(0);
      expect(run.latency.p99Ms).toBeGreaterThan(0);
      expect(run.latency.p50Ms).toBeLessThanOrEqual(run.latency.p99Ms);
      expect(run.histogram.length).toBeGreaterThan(0);
    }
    expect(burst?.figures.throughputRatio).toBeGreaterThan(0);
    expect(json.budgets.map((b) => b.figure)).toContain('burst.service.withinOneSecond');

    expect(readFileSync(files.markdown, 'utf8')).toContain('## burst');
    expect(readFileSync(files.html, 'utf8')).toContain('<svg');
  }, 20_000);
});
