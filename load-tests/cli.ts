import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { runSuite } from './run.js';
import { SCENARIOS } from './scenarios.js';
import type { Durations, ScenarioName } from './scenarios.js';
import type { Durability } from './world.js';

/**
 * `node dist-load/load-tests/cli.js [scenario ...|all] [--duration S] [--rate N] [--sustained-s S]
 * [--concurrency-s S] [--soak-s S] [--soak-rate N] [--soak-sample-s S] [--durability fsync|async|off]
 * [--service-dist DIR] [--service-node-flags=FLAGS] [--profile] [--out DIR]`
 *
 * `--service-node-flags=--max-semi-space-size=8` (with `=`, as the value starts with a dash)
 * starts the service processes with those Node flags instead of the ones `npm start` uses
 * (package.json `config.nodeFlags`), for an A/B of runtime settings; `--service-node-flags=`
 * (empty) runs them with Node's defaults.
 */
const isScenario = (name: string): name is ScenarioName => (SCENARIOS as readonly string[]).includes(name);

function durability(text: string): Durability {
  if (text === 'fsync' || text === 'async' || text === 'off') return text;
  throw new Error(`--durability must be fsync, async or off, got ${text}`);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      duration: { type: 'string' },
      rate: { type: 'string' },
      'sustained-s': { type: 'string' },
      'concurrency-s': { type: 'string' },
      'soak-s': { type: 'string' },
      'soak-rate': { type: 'string' },
      'soak-sample-s': { type: 'string' },
      out: { type: 'string' },
      profile: { type: 'boolean', default: false },
      durability: { type: 'string' },
      'service-dist': { type: 'string' },
      'service-node-flags': { type: 'string' },
    },
  });
  const names = positionals.length === 0 || positionals.includes('all') ? [...SCENARIOS] : positionals;
  const unknown = names.filter((n) => !isScenario(n));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')} or all`);
  const num = (text: string | undefined, name: string): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!(n > 0 && n <= 86_400)) throw new Error(`--${name} must be a positive number (at most 86400), got ${text}`);
    return n;
  };
  const durations: Partial<Durations> = {};
  const set = (key: keyof Durations, value: number | undefined) => {
    if (value !== undefined) durations[key] = value;
  };
  set('throughputS', num(values.duration, 'duration'));
  set('sustainedRate', values.rate === undefined ? undefined : Number(values.rate));
  set('sustainedS', num(values['sustained-s'], 'sustained-s'));
  set('concurrencyS', num(values['concurrency-s'], 'concurrency-s'));
  set('soakS', num(values['soak-s'], 'soak-s'));
  set('soakRate', values['soak-rate'] === undefined ? undefined : Number(values['soak-rate']));
  set('soakSampleS', num(values['soak-sample-s'], 'soak-sample-s'));
  const { dir, report } = await runSuite({
    scenarios: names.filter(isScenario),
    durations,
    profile: values.profile,
    ...(values.durability === undefined ? {} : { durability: durability(values.durability) }),
    ...(values.out === undefined ? {} : { outDir: values.out }),
    ...(values['service-dist'] === undefined ? {} : { serviceDist: values['service-dist'] }),
    ...(values['service-node-flags'] === undefined ? {} : { serviceNodeFlags: values['service-node-flags'].split(/\s+/).filter((f) => f !== '') }),
  });
  process.stdout.write('\nbudgets:\n');
  for (const b of report.budgets) process.stdout.write(`  ${b.isMet === false ? 'MISSED' : 'met   '} ${b.name}: ${String(b.value)} (${b.limit})\n`);
  process.stdout.write(`\nreport: ${relative(process.cwd(), dir)}/report.{json,md,html}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
