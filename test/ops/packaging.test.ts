import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfigFile } from '../../src/config/load.js';
import { repoPath } from './service.js';

/**
 * The Dockerfile and docker-compose.yml cannot be built or started in CI (no Docker engine):
 * these check their structure, and that the compose stack's pieces point at each other.
 */

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions, with comments dropped and `\` continuations joined. */
function dockerInstructions(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return logical
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** Instructions per stage, in order. */
function stages(instructions: Instruction[]): { from: string; name: string | undefined; body: Instruction[] }[] {
  const result: { from: string; name: string | undefined; body: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args.split(/\s+/);
      result.push({ from: image, name: as?.toUpperCase() === 'AS' ? name : undefined, body: [] });
    } else {
      result.at(-1)?.body.push(instruction);
    }
  }
  return result;
}

const dockerfile = dockerInstructions(readFileSync(repoPath('Dockerfile'), 'utf8'));
const [build, runtime, ...more] = stages(dockerfile);
const all = (body: Instruction[], keyword: string) => body.filter((i) => i.keyword === keyword).map((i) => i.args);

describe('Dockerfile', () => {
  it('has a build and a runtime stage, both on node:24-slim', () => {
    expect(more).toEqual([]);
    expect(build?.from).toBe('node:24-slim');
    expect(runtime?.from).toBe('node:24-slim');
    expect(build?.name).toBeDefined();
  });

  it('builds with the full toolchain from the lock file', () => {
    const runs = all(build!.body, 'RUN');
    expect(runs.some((run) => /\bnpm ci\b/.test(run) && !run.includes('--omit'))).toBe(true);
    expect(runs.some((run) => /\bnpm run build\b/.test(run))).toBe(true);
    // --ignore-scripts would leave the `node` devDependency's bin a dangling shim for npm scripts.
    expect(runs.join('\n')).not.toContain('--ignore-scripts');
  });

  it('runs with production dependencies only: no devDependencies installed or copied', () => {
    const body = runtime!.body;
    const runs = all(body, 'RUN');
    const installs = runs.filter((run) => /\bnpm (ci|install|i)\b/.test(run));
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install).toMatch(/--omit=dev\b/);
    const copies = all(body, 'COPY');
    const fromBuild = copies.filter((copy) => copy.includes('--from='));
    expect(fromBuild.length).toBeGreaterThan(0);
    for (const copy of fromBuild) {
      expect(copy).toMatch(new RegExp(`--from=${build!.name!}\\b`));
      expect(copy).not.toMatch(/node_modules/);
      expect(copy).toMatch(/\/app\/dist\s+\.\/dist$/);
    }
    for (const copy of copies) expect(copy.split(/\s+/)).not.toContain('.');
  });

  it('bakes config/ in at /app/config, where dist/server.js looks for the default', () => {
    expect(all(runtime!.body, 'WORKDIR').at(-1)).toBe('/app');
    expect(all(runtime!.body, 'COPY')).toContain('config ./config');
    expect(readFileSync(repoPath('src/server.ts'), 'utf8')).toContain("new URL('../config/default.yaml', import.meta.url)");
  });

  it('runs as a non-root user, listens on 0.0.0.0:8080, checks /healthz with node and starts dist/server.js', () => {
    const body = runtime!.body;
    const users = all(body, 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    const index = (keyword: string) => body.findIndex((i) => i.keyword === keyword);
    expect(index('USER')).toBeLessThan(index('CMD'));
    expect(all(body, 'ENV').join(' ')).toMatch(/\bHOST=0\.0\.0\.0\b/);
    expect(all(body, 'EXPOSE')).toEqual(['8080']);
    const healthchecks = all(body, 'HEALTHCHECK');
    expect(healthchecks).toHaveLength(1);
    expect(healthchecks[0]).toMatch(/CMD \["node", "-e", ".*fetch\(.*\/healthz/);
    expect(healthchecks[0]).not.toMatch(/\b(curl|wget)\b/);
    expect(all(body, 'CMD')).toEqual(['["node", "dist/server.js"]']);
  });

  it('declares the data directory of the default config (/app/data) a volume, made and owned by the service user first', () => {
    const body = runtime!.body;
    const workdir = all(body, 'WORKDIR').at(-1)!;
    const dataDir = loadConfigFile(repoPath('config/default.yaml')).storage.dataDir;
    const target = new URL(dataDir, `file://${workdir}/`).pathname.replace(/\/$/, '');
    expect(target).toBe('/app/data');
    const volumes = all(body, 'VOLUME');
    expect(volumes).toHaveLength(1);
    expect(volumes[0]).toMatch(/^\["\/app\/data"\]$|^\/app\/data$/);
    // Docker copies the image's directory (and its owner) into a new volume: it must exist, owned by node, by then.
    const chown = body.findIndex((i) => i.keyword === 'RUN' && /mkdir -p \/app\/data && chown node:node \/app\/data/.test(i.args));
    expect(chown).toBeGreaterThanOrEqual(0);
    expect(chown).toBeLessThan(body.findIndex((i) => i.keyword === 'VOLUME'));
  });

  it('runs the service with the Node flags npm start and the load tests use (package.json config.nodeFlags)', () => {
    const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { config: { nodeFlags: string }; scripts: { start: string } };
    const flags = pkg.config.nodeFlags;
    expect(flags).toMatch(/--max-semi-space-size=\d+/);
    expect(pkg.scripts.start).toMatch(/\bnode \$npm_package_config_nodeFlags dist\/server\.js$/);
    const env = all(runtime!.body, 'ENV').join(' ');
    const options = /\bNODE_OPTIONS=(?:"([^"]*)"|(\S+))/.exec(env);
    expect(options?.[1] ?? options?.[2]).toBe(flags);
  });

  it('has a .dockerignore keeping node_modules, build output and .git out of the context', () => {
    const ignored = readFileSync(repoPath('.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim());
    for (const entry of ['node_modules', 'dist', '.git', 'data']) expect(ignored).toContain(entry);
    for (const needed of ['src', 'config', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      expect(ignored).not.toContain(needed);
    }
  });
});

interface ComposeService {
  build?: unknown;
  stop_grace_period?: string;
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
}

describe('docker-compose.yml', () => {
  const compose = parseYaml(readFileSync(repoPath('docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };
  const services = compose.services;
  const service = services.ulc!;
  const mounts = (name: string) =>
    (services[name]?.volumes ?? []).map((volume) => {
      const [source = '', target = ''] = volume.split(':');
      return { source, target };
    });

  it('builds the service from the Dockerfile and publishes its port', () => {
    expect(service.build).toBe('.');
    expect(service.environment?.HOST).toBe('0.0.0.0');
    expect(service.ports).toContain(`${service.environment?.PORT}:8080`);
  });

  it('keeps the journal and snapshots in a named volume at the data directory, across `down` and rebuilds', () => {
    const data = mounts('ulc').find((mount) => mount.target === '/app/data');
    expect(data).toBeDefined();
    expect(data!.source).toMatch(/^[a-z][\w.-]*$/);
    expect(Object.keys(compose.volumes ?? {})).toContain(data!.source);
  });

  it('gives the service a stop grace period longer than its shutdown drain (server.shutdownTimeoutMs), with room for the last snapshot', () => {
    const grace = durationMs(service.stop_grace_period ?? '10s');
    const drain = loadConfigFile(repoPath('config/default.yaml')).server.shutdownTimeoutMs;
    expect(grace).toBeGreaterThanOrEqual(drain + 5_000);
  });

  it('sends OTLP/HTTP traces to the Jaeger service', () => {
    const env = service.environment ?? {};
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://jaeger:4318');
    expect(env.OTEL_EXPORTER_OTLP_PROTOCOL).toBe('http/protobuf');
    expect(env.OTEL_SERVICE_NAME).toBe('unified-limit-checker');
    expect(env.OTEL_TRACES_SAMPLER).toBeDefined();
    expect(services.jaeger?.image).toMatch(/^jaegertracing\/jaeger:2\.\d+\.\d+$/);
    expect((services.jaeger as { command?: string[] }).command?.join(' ')).toContain('receivers.otlp.protocols.http.endpoint=0.0.0.0:4318');
  });

  it('has Prometheus scrape the service by its compose name and port', () => {
    expect(mounts('prometheus')).toContainEqual({ source: './ops/prometheus.yml', target: '/etc/prometheus/prometheus.yml' });
    const prometheus = parseYaml(readFileSync(repoPath('ops/prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    const job = prometheus.scrape_configs.find((j) => j.job_name === 'ulc');
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    expect(job?.static_configs.flatMap((group) => group.targets)).toEqual([`ulc:${service.environment?.PORT}`]);
  });

  it('provisions Grafana with the data sources and the dashboard directory', () => {
    const grafana = mounts('grafana');
    expect(grafana).toContainEqual({ source: './ops/grafana/provisioning', target: '/etc/grafana/provisioning' });
    const provider = parseYaml(readFileSync(repoPath('ops/grafana/provisioning/dashboards/dashboards.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    const dashboardsDir = provider.providers[0]?.options.path;
    expect(grafana).toContainEqual({ source: './ops/grafana/dashboards', target: dashboardsDir });
    const sources = parseYaml(readFileSync(repoPath('ops/grafana/provisioning/datasources/datasources.yml'), 'utf8')) as {
      datasources: { type: string; url: string }[];
    };
    expect(sources.datasources.find((s) => s.type === 'prometheus')?.url).toBe('http://prometheus:9090');
    expect(sources.datasources.find((s) => s.type === 'jaeger')?.url).toBe('http://jaeger:16686');
  });

  it('mounts only files that exist, and pins every image', () => {
    for (const name of Object.keys(services)) {
      for (const { source } of mounts(name)) if (source.startsWith('./')) expect(existsSync(repoPath(source.slice(2))), source).toBe(true);
      const image = services[name]?.image;
      if (services[name]?.build === undefined) expect(image, name).toMatch(/:[^:]*\d[^:]*$/);
      expect(image ?? '', name).not.toMatch(/:latest$/);
    }
  });
});

/** A compose duration (`30s`, `1m30s`, `500ms`) in milliseconds. */
function durationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g)];
  expect(parts.map((p) => p[0]).join(''), text).toBe(text);
  return parts.reduce((sum, [, value, unit]) => sum + Number(value) * units[unit!]!, 0);
}
