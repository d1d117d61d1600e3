import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { App } from '../../src/app.js';
import { DecisionSchema, LimitKindSchema, ReasonCodeSchema, SEVERITIES } from '../../src/domain/enums.js';
import type { ExportedMetric } from './service.js';
import { exercisedApp, exportedSeries, repoPath } from './service.js';

/** The Grafana dashboard must only chart series the service really exports, with labels it really sets. */

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; datasource?: { uid?: string } }[] };
}

const DASHBOARD_FILE = 'ops/grafana/dashboards/unified-limit-checker.json';
const dashboard = JSON.parse(readFileSync(repoPath(DASHBOARD_FILE), 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
const queries: { where: string; expr: string }[] = [
  ...panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr ?? '' }))),
  ...dashboard.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => ({ where: `variable $${variable.name}`, expr: labelValuesSelector(variable.query) })),
];

/** `label_values(metric, label)` → `metric` (with `by (label)` so the label is checked too). */
function labelValuesSelector(query: unknown): string {
  const text = typeof query === 'string' ? query : String((query as { query?: unknown }).query);
  const match = /^label_values\(\s*([^,]+),\s*(\w+)\s*\)$/.exec(text.trim());
  if (match === null) throw new Error(`unexpected variable query ${text}`);
  return `max by (${match[2]}) (${match[1]})`;
}

const PROMQL_WORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless',
  'sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group', 'inf', 'nan',
]);

export interface ParsedQuery {
  metrics: string[];
  /** Labels in `by (...)`, `without (...)`, `on (...)`, `ignoring (...)` and selectors. */
  labels: string[];
  /** Exact-match selectors: `label="value"`. */
  equalities: { label: string; value: string }[];
}

/** A small PromQL reader: enough for the metric names, grouping labels and matchers of our own queries. */
export function parsePromql(expr: string): ParsedQuery {
  const labels: string[] = [];
  const equalities: { label: string; value: string }[] = [];
  let rest = expr.replace(/\$\{?\w+\}?/g, 'VAR');
  rest = rest.replace(/\{([^}]*)\}/g, (_all, body: string) => {
    for (const matcher of body.matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
      labels.push(matcher[1]!);
      if (matcher[2] === '=') equalities.push({ label: matcher[1]!, value: matcher[3]! });
    }
    return ' ';
  });
  rest = rest.replace(/\[[^\]]*\]/g, ' ');
  rest = rest.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_all, _word, list: string) => {
    labels.push(...list.split(',').map((label) => label.trim()).filter((label) => label !== ''));
    return ' ';
  });
  rest = rest.replace(/"[^"]*"/g, ' ');
  const metrics = [...rest.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)]
    .map((match) => match[1]!)
    .filter((word) => !PROMQL_WORDS.has(word.toLowerCase()) && word !== 'VAR');
  return { metrics: [...new Set(metrics)], labels: [...new Set(labels)], equalities };
}

/** Label values that are closed enums in the code (the dashboard may filter on them). */
const KNOWN_VALUES: Record<string, (value: string) => boolean> = {
  decision: (value) => (DecisionSchema.options as readonly string[]).includes(value),
  reason: (value) => value === 'NONE' || (ReasonCodeSchema.options as readonly string[]).includes(value),
  kind: (value) => (LimitKindSchema.options as readonly string[]).includes(value) || ['minor', 'major', 'incremental', 'weakcb'].includes(value),
  severity: (value) => (SEVERITIES as readonly string[]).includes(value),
  state: (value) => ['REDUCE_ONLY', 'HALTED'].includes(value),
  status_class: (value) => /^[1-5]xx$/.test(value),
  outcome: (value) => ['applied', 'unknown_order'].includes(value),
};

describe('PromQL reader (test helper)', () => {
  it('finds metrics, grouping labels and matchers, not functions or keywords', () => {
    const parsed = parsePromql(
      'histogram_quantile(0.99, sum by (le, route) (rate(x_bucket{status_class="5xx",instance=~"$instance"}[$__rate_interval]))) / on (job) y or vector(0)',
    );
    expect(parsed.metrics).toEqual(['x_bucket', 'y']);
    expect(parsed.labels.sort()).toEqual(['instance', 'job', 'le', 'route', 'status_class']);
    expect(parsed.equalities).toEqual([{ label: 'status_class', value: '5xx' }]);
  });
});

describe(`Grafana dashboard ${DASHBOARD_FILE}`, () => {
  let app: App;
  let exported: Map<string, ExportedMetric>;
  /** Labels Prometheus adds to every scraped series: job, instance, and ops/prometheus.yml's static labels. */
  let targetLabels: Set<string>;

  beforeAll(async () => {
    app = await exercisedApp();
    exported = await exportedSeries(app);
    const prometheus = parseYaml(readFileSync(repoPath('ops/prometheus.yml'), 'utf8')) as {
      scrape_configs: { static_configs: { labels?: Record<string, string> }[] }[];
    };
    targetLabels = new Set(['job', 'instance']);
    for (const job of prometheus.scrape_configs) for (const group of job.static_configs) for (const label of Object.keys(group.labels ?? {})) targetLabels.add(label);
  });
  afterAll(async () => {
    await app.server.close();
  });

  it('is a dashboard with a stable uid, unique panel ids and a query in every chart', () => {
    expect(dashboard.uid).toBe('ulc-overview');
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect(panel.targets?.length ?? 0, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.expr ?? '', panel.title).not.toBe('');
    }
  });

  it('reads the provisioned Prometheus data source', () => {
    const provisioned = parseYaml(readFileSync(repoPath('ops/grafana/provisioning/datasources/datasources.yml'), 'utf8')) as {
      datasources: { uid: string; type: string }[];
    };
    const prometheus = provisioned.datasources.find((source) => source.type === 'prometheus');
    expect(prometheus?.uid).toBe('prometheus');
    const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
    expect(variable).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const refs = [
      ...panels.filter((p) => p.type !== 'row').map((p) => p.datasource?.uid),
      ...panels.flatMap((p) => (p.targets ?? []).map((t) => t.datasource?.uid)),
    ];
    for (const uid of refs) expect(['${datasource}', 'prometheus']).toContain(uid);
  });

  it('charts throughput by decision, check and HTTP latency, violations, active violations, event-loop lag, trading states and the journal breaker', () => {
    const all = queries.map((query) => query.expr).join('\n');
    for (const needle of [
      /sum by \(decision\) \(rate\(ulc_checks_total/,
      /histogram_quantile\(0\.99, sum by \(le\) \(rate\(ulc_check_duration_seconds_bucket/,
      /histogram_quantile\(0\.99, sum by \(le, route\) \(rate\(ulc_http_request_duration_seconds_bucket/,
      /sum by \(kind, severity\) \(rate\(ulc_violations_total/,
      /ulc_active_violations/,
      /nodejs_eventloop_lag_p99_seconds/,
      /sum by \(state\) \(ulc_trading_states/,
      /max by \(dependency\) \(ulc_dependency_breaker_state/,
    ]) {
      expect(all).toMatch(needle);
    }
  });

  it('queries only series the service exports', () => {
    const unknown: string[] = [];
    for (const { where, expr } of queries) {
      const { metrics } = parsePromql(expr);
      expect(metrics.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const name of metrics) if (!exported.has(name)) unknown.push(`${where}: ${name}`);
    }
    expect(unknown, `exported: ${[...exported.keys()].join(', ')}`).toEqual([]);
  });

  it('groups and filters only by labels those series carry, with values the code can produce', () => {
    const problems: string[] = [];
    for (const { where, expr } of queries) {
      const { metrics, labels, equalities } = parsePromql(expr);
      const carried = new Set([...targetLabels, ...metrics.flatMap((name) => [...(exported.get(name)?.labels ?? [])])]);
      for (const label of labels) if (!carried.has(label)) problems.push(`${where}: label ${label} is not on ${metrics.join(', ')}`);
      for (const { label, value } of equalities) {
        const known = KNOWN_VALUES[label];
        if (known === undefined) problems.push(`${where}: no known values for label ${label} (extend KNOWN_VALUES)`);
        else if (!known(value)) problems.push(`${where}: ${label}="${value}" is never produced`);
      }
    }
    expect(problems).toEqual([]);
  });
});
