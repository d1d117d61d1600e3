import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './cannon.js';
import type { HotSpot } from './profile.js';
import type { Durations, MemorySample, ScenarioResult } from './scenarios.js';

export interface Budget {
  name: string;
  /** The figure it is judged on, e.g. `baseline.single.throughputRatio`. */
  figure: string;
  value: number | boolean | undefined;
  limit: string;
  isMet: boolean | undefined;
}

export interface Report {
  schema: 'ulc-load-report/1';
  startedAt: string;
  finishedAt: string;
  scenarios: string[];
  machine: { node: string; platform: string; cpus: number; cpuModel: string; loadAverage: number[] };
  durations: Durations;
  /** The service's journal durability. */
  durability: string;
  /** The build of the service that was measured. */
  serviceDist: string;
  /** The service processes' Node flags. */
  serviceNodeFlags: string[];
  service: {
    startMs: number;
    /** Its start-up log's line on its scavenges' threads. */
    scavenges: string;
    firstChecks: { ms: number; status: number; decision: string; reasons: string[] }[];
    decisions: Record<string, number>;
    rateLimited: number;
  };
  baseline: { startMs: number };
  results: ScenarioResult[];
  budgets: Budget[];
  profile?: { file: string; sections: { title: string; top: HotSpot[] }[] };
}

type Figures = Record<string, number | string | boolean | undefined>;

/** Every figure of every scenario as `scenario.figure`. */
export function flatFigures(results: readonly ScenarioResult[]): Figures {
  const out: Figures = {};
  for (const result of results) for (const [key, value] of Object.entries(result.figures)) out[`${result.name}.${key}`] = value;
  return out;
}

/** DESIGN §6 budgets, judged on whichever scenarios this run measured. */
export function budgets(results: readonly ScenarioResult[]): Budget[] {
  const f = flatFigures(results);
  const atLeast = (name: string, figures: string[], min: number): Budget => {
    const figure = figures.find((k) => typeof f[k] === 'number') ?? figures[0]!;
    const value = f[figure] as number | undefined;
    return { name, figure, value, limit: `≥ ${min}`, isMet: value === undefined ? undefined : value >= min };
  };
  const atMost = (name: string, figure: string, max: number, absolute = false): Budget => {
    const value = f[figure] as number | undefined;
    return { name, figure, value, limit: `≤ ${max}`, isMet: value === undefined ? undefined : (absolute ? Math.abs(value) : value) <= max };
  };
  const burst = f['burst.service.withinOneSecond'] as boolean | undefined;
  return [
    atLeast('single-check throughput vs bare route', ['baseline.single.throughputRatio'], 0.85),
    atLeast('batch-100 throughput vs bare batch echo', ['batch.batch-100.throughputRatio', 'baseline.batch-100.throughputRatio'], 0.75),
    atMost('p99 at the fixed offered rate (ms)', 'sustained.service.p99Ms', 2),
    atMost('RSS growth over the soak', 'soak.rss.growth', 0.15, true),
    atMost('event-loop stall during a 10,000-order batch (ms)', 'batch.batch-10000.eventLoopMaxStallMs', 10),
    { name: '10,000 checks within 1 s', figure: 'burst.service.withinOneSecond', value: burst, limit: 'true', isMet: burst },
  ].filter((b) => b.value !== undefined);
}

const mark = (isMet: boolean | undefined) => (isMet === undefined ? '–' : isMet ? 'met' : '**missed**');

function runRow(r: RunResult): string {
  const l = r.latency;
  const rejects = Object.entries(r.decisions ?? {})
    .filter(([k]) => k.startsWith('REJECT'))
    .map(([k, v]) => `${k.slice(7)} ${v}`)
    .join(', ');
  return `| ${r.title} | ${r.connections}${r.offeredRate === undefined ? '' : ` @ ${r.offeredRate}/s`} | ${r.requests} | ${r.requestsPerSecond} | ${r.ordersPerSecond} | ${l.p50Ms} | ${l.p90Ms} | ${l.p99Ms} | ${l.maxMs} | ${r.cpuMicrosPerRequest} | ${r.non2xx} | ${r.rateLimited} | ${r.errors} | ${rejects} |`;
}

export function markdown(report: Report): string {
  const lines: string[] = [
    `# Load test report — ${report.startedAt}`,
    '',
    `Scenarios: ${report.scenarios.join(', ')}. Node ${report.machine.node}, ${report.machine.cpus} × ${report.machine.cpuModel}, load average at start ${report.machine.loadAverage.map((n) => n.toFixed(2)).join(' ')}.`,
    `Service: generated book (~1,000 limits, 100 accounts, 50 symbols), production defaults (metrics and rate limits on, no access log, tracing off), journal durability ${report.durability}, build \`${report.serviceDist}\`, Node flags \`${report.serviceNodeFlags.join(' ') || '(none)'}\`; ${report.service.scavenges}.`,
    'Every service figure sits next to the bare Fastify baseline (same body, same JSON Schema validation, echoed) measured in the same run.',
    '',
    '## Budgets (DESIGN §6)',
    '',
    '| budget | figure | value | limit | |',
    '|---|---|---|---|---|',
    ...report.budgets.map((b) => `| ${b.name} | \`${b.figure}\` | ${String(b.value)} | ${b.limit} | ${mark(b.isMet)} |`),
    '',
    '## Service start',
    '',
    `Ready after ${Math.round(report.service.startMs)} ms (baseline listening after ${Math.round(report.baseline.startMs)} ms).`,
    `First checks after /readyz (ms): ${report.service.firstChecks.map((c) => `${c.ms.toFixed(2)}${c.decision === 'ACCEPT' ? '' : ` ${c.status} ${c.decision} ${c.reasons.join('+')}`}`).join(', ')}.`,
    `Decisions over the run: ${Object.entries(report.service.decisions).map(([k, v]) => `${k} ${v}`).join(', ')}; 429s: ${report.service.rateLimited}.`,
    '',
  ];
  for (const result of report.results) {
    lines.push(`## ${result.name}`, '', ...result.notes.map((n) => `- ${n}`), '');
    if (result.table !== undefined) {
      lines.push(`| ${result.table.columns.join(' | ')} |`, `|${result.table.columns.map(() => '---').join('|')}|`, ...result.table.rows.map((row) => `| ${row.map(String).join(' | ')} |`), '');
    }
    lines.push('| figure | value |', '|---|---|', ...Object.entries(result.figures).map(([k, v]) => `| ${k} | ${String(v)} |`), '');
    if (result.runs.length > 0) {
      lines.push(
        '| run | connections | requests | req/s | orders/s | p50 ms | p90 ms | p99 ms | max ms | target CPU µs/req | non-2xx | 429 | errors | risk rejects |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
        ...result.runs.map(runRow),
        '',
      );
    }
  }
  if (report.profile !== undefined) {
    lines.push('## CPU profile of the service', '', `\`${report.profile.file}\` (node --cpu-prof), top functions by self time, idle excluded:`, '');
    for (const section of report.profile.sections) {
      lines.push(`### ${section.title}`, '', '| self % | self ms | function | where |', '|---|---|---|---|');
      lines.push(...section.top.map((t) => `| ${t.selfPct} | ${t.self} | ${t.name} | ${t.where} |`), '');
    }
  }
  return lines.join('\n');
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Latency distributions as percentile curves (x: percentile on a log "nines" axis, y: ms, log). */
function latencyChart(title: string, runs: readonly RunResult[]): string {
  const width = 720;
  const height = 300;
  const pad = 50;
  const maxNines = 4; // up to p99.99
  const allMs = runs.flatMap((r) => r.histogram.map(([ms]) => ms));
  if (allMs.length === 0) return '';
  const lo = Math.log10(Math.max(0.01, Math.min(...allMs)));
  const hi = Math.log10(Math.max(...allMs) * 1.1);
  const x = (p: number) => pad + (Math.min(maxNines, -Math.log10(Math.max(1e-4, 1 - p))) / maxNines) * (width - 2 * pad);
  const y = (ms: number) => height - pad - ((Math.log10(Math.max(ms, 0.01)) - lo) / Math.max(hi - lo, 1e-9)) * (height - 2 * pad);
  const paths = runs.map((run, i) => {
    const total = run.histogram.reduce((sum, [, c]) => sum + c, 0);
    let seen = 0;
    const points = run.histogram.map(([ms, count]) => {
      seen += count;
      return `${x(seen / total - count / total / 2).toFixed(1)},${y(ms).toFixed(1)}`;
    });
    return `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${points.join(' ')}"/>` +
      `<text x="${width - pad - 200}" y="${pad + 14 * i}" fill="${COLORS[i % COLORS.length]}" font-size="12">${escape(run.title)} (p99 ${run.latency.p99Ms} ms)</text>`;
  });
  const xTicks = [0, 0.5, 0.9, 0.99, 0.999, 0.9999].map((p) => `<text x="${x(p).toFixed(1)}" y="${height - pad + 16}" font-size="11" text-anchor="middle">p${(p * 100).toString().slice(0, 6)}</text>`);
  const yTicks: string[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of [1, 2, 5]) {
      const ms = m * 10 ** e;
      if (Math.log10(ms) < lo || Math.log10(ms) > hi) continue;
      yTicks.push(`<line x1="${pad}" x2="${width - pad}" y1="${y(ms).toFixed(1)}" y2="${y(ms).toFixed(1)}" stroke="#eee"/><text x="${pad - 4}" y="${(y(ms) + 4).toFixed(1)}" font-size="11" text-anchor="end">${ms} ms</text>`);
    }
  }
  return `<h3>${escape(title)}</h3><svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${yTicks.join('')}<rect x="${pad}" y="${pad / 2}" width="${width - 2 * pad}" height="${height - 1.5 * pad}" fill="none" stroke="#999"/>${xTicks.join('')}${paths.join('')}</svg>`;
}

function memoryChart(samples: readonly MemorySample[]): string {
  const width = 720;
  const height = 300;
  const pad = 50;
  const maxS = Math.max(1, ...samples.map((s) => s.seconds));
  const maxMB = Math.max(1, ...samples.map((s) => s.rssBytes / 1_048_576)) * 1.1;
  const x = (s: number) => pad + (s / maxS) * (width - 2 * pad);
  const y = (mb: number) => height - pad - (mb / maxMB) * (height - 2 * pad);
  const line = (pick: (s: MemorySample) => number, color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" points="${samples.map((s) => `${x(s.seconds).toFixed(1)},${y(pick(s) / 1_048_576).toFixed(1)}`).join(' ')}"/>`;
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${pad - 4}" y="${y(f * maxMB) + 4}" font-size="11" text-anchor="end">${Math.round(f * maxMB)} MB</text>`);
  const xTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${x(f * maxS)}" y="${height - pad + 16}" font-size="11" text-anchor="middle">${Math.round(f * maxS)} s</text>`);
  return `<h3>Soak: memory</h3><svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg"><rect x="${pad}" y="${pad / 2}" width="${width - 2 * pad}" height="${height - 1.5 * pad}" fill="none" stroke="#999"/>${yTicks.join('')}${xTicks.join('')}${line((s) => s.rssBytes, COLORS[0]!)}${line((s) => s.heapUsedBytes, COLORS[1]!)}<text x="${pad + 10}" y="${pad}" fill="${COLORS[0]}" font-size="12">RSS</text><text x="${pad + 50}" y="${pad}" fill="${COLORS[1]}" font-size="12">heap used</text></svg>`;
}

export function html(report: Report, markdownText: string): string {
  const charts = report.results.map((result) => {
    const parts =
      result.charts === undefined
        ? [latencyChart(`${result.name}: latency by percentile`, result.runs)]
        : result.charts.map((chart) => latencyChart(chart.title, result.runs.filter((r) => chart.runTitles.includes(r.title))));
    if (result.memory !== undefined) parts.push(memoryChart(result.memory));
    return parts.join('');
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>Load test ${escape(report.startedAt)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}</style></head>
<body><h1>Load test report — ${escape(report.startedAt)}</h1>${charts.join('')}<h2>Figures</h2><pre>${escape(markdownText)}</pre></body></html>`;
}

/** Writes report.json, report.md and report.html into `dir`; returns their paths. */
export function writeReport(dir: string, report: Report): { json: string; markdown: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const paths = { json: join(dir, 'report.json'), markdown: join(dir, 'report.md'), html: join(dir, 'report.html') };
  const md = markdown(report);
  writeFileSync(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(paths.markdown, `${md}\n`);
  writeFileSync(paths.html, html(report, md));
  return paths;
}
