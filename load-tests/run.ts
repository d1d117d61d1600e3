import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { startBaseline, startService, repoRoot } from './processes.js';
import type { Target, ServiceTarget } from './processes.js';
import { hotSpots } from './profile.js';
import { budgets, writeReport } from './report.js';
import type { Report } from './report.js';
import { RUNNERS, SHORT, retire, warmUp } from './scenarios.js';
import type { Context, Durations, ScenarioName, ScenarioResult } from './scenarios.js';
import { OrderFlow, World } from './world.js';
import type { Durability } from './world.js';

export interface SuiteOptions {
  scenarios: readonly ScenarioName[];
  durations?: Partial<Durations>;
  /** Folder for the report; a new timestamped folder under load-tests/results/ by default. */
  outDir?: string;
  /** Profile the service with --cpu-prof and summarise its hot spots in the report. */
  profile?: boolean;
  /** Another build of the service to measure (a folder like dist/). */
  serviceDist?: string;
  /** Journal durability of the service; the config default (async) when not given. */
  durability?: Durability;
  /** Node flags of the service processes; those npm start uses (package.json config.nodeFlags) when not given. */
  serviceNodeFlags?: readonly string[];
  /** Skip the un-measured warm-up load (only for the CI smoke). */
  skipWarmUp?: boolean;
  log?: (line: string) => void;
}

/**
 * Starts the service (generated book, market data, positions) and the bare baseline, runs the
 * scenarios in order, stops both, and writes report.json, report.md and report.html.
 */
export async function runSuite(options: SuiteOptions): Promise<{ dir: string; report: Report; files: { json: string; markdown: string; html: string } }> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const startedAt = new Date().toISOString();
  const dir = options.outDir ?? join(repoRoot, 'load-tests', 'results', `${startedAt.replace(/[:.]/g, '-')}-${options.scenarios.join('+')}`);
  mkdirSync(dir, { recursive: true });
  const durations: Durations = { ...SHORT, ...options.durations };
  const world = new World();
  const cpuProfileDir = options.profile === true ? join(dir, 'cpu-profile') : undefined;
  const machine = { node: process.version, platform: process.platform, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', loadAverage: loadavg() };
  // soak and durability measure services of their own; the shared one needs warming only for the others.
  const needsShared = options.scenarios.some((s) => s !== 'soak' && s !== 'durability');
  let service: ServiceTarget | undefined;
  let baseline: Target | undefined;
  const results: ScenarioResult[] = [];
  try {
    baseline = await startBaseline(cpuProfileDir === undefined ? {} : { cpuProfileDir: join(cpuProfileDir, 'baseline') });
    const durability = options.durability;
    service = await startService({
      world,
      ...(cpuProfileDir === undefined ? {} : { cpuProfileDir }),
      ...(durability === undefined ? {} : { durability }),
      ...(options.serviceDist === undefined ? {} : { dist: options.serviceDist }),
      ...(options.serviceNodeFlags === undefined ? {} : { nodeFlags: options.serviceNodeFlags }),
    });
    log(`service ready in ${Math.round(service.startMs)} ms at ${service.url}; first checks ${service.firstChecks.map((c) => c.ms.toFixed(1)).join(' ')} ms; baseline at ${baseline.url}`);
    const tag = Math.random().toString(36).slice(2, 8);
    const ctx: Context = {
      world,
      service,
      baseline,
      durations,
      flows: { service: new OrderFlow(world, `${tag}-`), baseline: new OrderFlow(world, `${tag}-b-`) },
      retiredUpTo: 0,
      durability,
      serviceNodeFlags: options.serviceNodeFlags,
      log,
    };
    if (needsShared && options.skipWarmUp !== true) await warmUp(ctx);
    for (const name of options.scenarios) {
      log(`${name}:`);
      results.push(await RUNNERS[name](ctx));
    }
    await retire(ctx);
    const metrics = await service.metrics();
    const report: Report = {
      schema: 'ulc-load-report/1',
      startedAt,
      finishedAt: new Date().toISOString(),
      scenarios: [...options.scenarios],
      machine,
      durations,
      durability: options.durability ?? 'async (config default)',
      serviceDist: options.serviceDist ?? 'dist',
      serviceNodeFlags: [...service.nodeFlags],
      service: { startMs: service.startMs, scavenges: service.scavenges, firstChecks: service.firstChecks, decisions: metrics.decisions(), rateLimited: metrics.value('ulc_rate_limited_total') },
      baseline: { startMs: baseline.startMs },
      results,
      budgets: budgets(results),
    };
    await service.stop();
    service = undefined;
    if (cpuProfileDir !== undefined && existsSync(cpuProfileDir)) {
      const file = readdirSync(cpuProfileDir).filter((f) => f.endsWith('.cpuprofile')).sort()[0];
      if (file !== undefined) {
        const path = join(cpuProfileDir, file);
        // The durability scenario's runs are of other service processes, not in this profile.
        const serviceRuns = results.filter((r) => r.name !== 'durability').flatMap((r) => r.runs).filter((r) => r.target === 'service');
        report.profile = {
          file: relative(dir, path),
          sections: [
            { title: 'whole process', top: hotSpots(path, 15) },
            ...serviceRuns.map((r) => ({ title: r.title, top: hotSpots(path, 15, r.window) })),
          ],
        };
      }
    }
    const files = writeReport(dir, report);
    return { dir, report, files };
  } finally {
    await service?.stop();
    await baseline?.stop();
  }
}
