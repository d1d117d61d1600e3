import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OrderFlow } from './world.js';
import type { Durability, World } from './world.js';

/** Repository paths, whether this runs as TypeScript (vitest) or compiled (dist-load/load-tests). */
const here = fileURLToPath(new URL('.', import.meta.url));
const isCompiled = extname(fileURLToPath(import.meta.url)) === '.js';
export const repoRoot = join(here, isCompiled ? '../..' : '..');
const DIST = join(repoRoot, 'dist');

/**
 * The Node flags `npm start` and the image run the service with (package.json
 * `config.nodeFlags`): the load tests measure the service as shipped unless given others.
 */
export function productionNodeFlags(): string[] {
  const { config } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { config?: { nodeFlags?: unknown } };
  if (typeof config?.nodeFlags !== 'string') throw new Error('package.json has no config.nodeFlags');
  return config.nodeFlags.split(/\s+/).filter((flag) => flag !== '');
}

const START_TIMEOUT_MS = 20_000;

/** A process under test: the service or the bare baseline. */
export interface Target {
  readonly name: 'service' | 'baseline';
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly process: ChildProcess;
  readonly output: string[];
  /** Milliseconds from spawn to ready (listening and, for the service, /readyz 200). */
  readonly startMs: number;
  /** CPU seconds and RSS bytes of the process so far (and, for the service, its decisions). */
  stats(): Promise<{ cpuSeconds: number; rss: number; decisions?: Record<string, number> }>;
  stop(): Promise<void>;
}

export interface ServiceTarget extends Target {
  readonly name: 'service';
  readonly configPath: string;
  /** The Node flags it was started with. */
  readonly nodeFlags: readonly string[];
  /** What its start-up log says of its young collections' threads (see scavengesLogged). */
  readonly scavenges: string;
  /** Latencies (ms) and decisions of the first checks after /readyz turned ready. */
  readonly firstChecks: { ms: number; status: number; decision: string; reasons: string[] }[];
  metrics(): Promise<Metrics>;
}

function spawnAndWait(args: string[], pattern: RegExp, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string; output: string[] }> {
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString('utf8'));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not start within ${START_TIMEOUT_MS} ms:\n${output.join('')}`));
    }, START_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      keep(chunk);
      const match = pattern.exec(chunk.toString('utf8'));
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ child, url: match[1], output });
      }
    });
    child.stderr.on('data', keep);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code}:\n${output.join('')}`));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

function assertBuilt(): void {
  if (!existsSync(join(DIST, 'server.js'))) throw new Error(`${DIST}/server.js is missing: run \`npm run build\` first`);
}

export async function getJson<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

export async function send(to: { url: string; headers: Record<string, string> }, method: string, path: string, body: unknown): Promise<void> {
  const response = await getJson<unknown>(`${to.url}${path}`, {
    method,
    headers: { ...to.headers, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  if (response.status !== 200) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
}

/** Prometheus text → values by series (`name{labels}`), enough for the figures the report needs. */
export class Metrics {
  private readonly series = new Map<string, number>();
  constructor(text: string) {
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      this.series.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
  }
  value(series: string): number {
    return this.series.get(series) ?? 0;
  }
  /** Sum of every series of a metric whose labels contain `labelFilter`. */
  sum(name: string, labelFilter = ''): number {
    let total = 0;
    for (const [series, value] of this.series) {
      if ((series === name || series.startsWith(`${name}{`)) && series.includes(labelFilter)) total += value;
    }
    return total;
  }
  /** ulc_checks_total by `decision/reason`. */
  decisions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [series, value] of this.series) {
      const match = /^ulc_checks_total\{decision="(\w+)",reason="(\w+)"\}$/.exec(series);
      if (match !== null) out[`${match[1]}/${match[2]}`] = value;
    }
    return out;
  }
}

export interface ServiceOptions {
  world: World;
  /** Write a V8 CPU profile (node --cpu-prof) into this folder when the service exits. */
  cpuProfileDir?: string;
  openOrderTtlMs?: number;
  lateFillWindowMs?: number;
  /** Journal durability; the config's default (async) when not given. */
  durability?: Durability;
  /** Another build of the service (a folder like dist/) to measure, e.g. before a change. */
  dist?: string;
  /** Node flags for the service process (those of npm start when not given; [] for Node's defaults): for an A/B of runtime settings. */
  nodeFlags?: readonly string[];
}

/**
 * Writes the generated config to a temp dir and starts `dist/server.js --config` there, waits for
 * /readyz, sends reference prices, times the first checks, then loads start-of-day positions.
 * A market-data feed re-sends the prices every second while it runs (they go stale after 60 s).
 */
export async function startService(options: ServiceOptions): Promise<ServiceTarget> {
  const dist = options.dist ?? DIST;
  if (!existsSync(join(dist, 'server.js'))) throw new Error(`${dist}/server.js is missing: run \`npm run build\` first`);
  const { world } = options;
  const dir = mkdtempSync(join(tmpdir(), 'ulc-load-'));
  const configPath = join(dir, 'config.json');
  const config = world.config({
    ...(options.openOrderTtlMs === undefined ? {} : { openOrderTtlMs: options.openOrderTtlMs }),
    ...(options.lateFillWindowMs === undefined ? {} : { lateFillWindowMs: options.lateFillWindowMs }),
    ...(options.durability === undefined ? {} : { durability: options.durability }),
  });
  writeFileSync(configPath, JSON.stringify({ ...config, storage: { ...config.storage, dataDir: join(dir, 'data') } }));
  const started = performance.now();
  const profile = options.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`];
  const flags = options.nodeFlags ?? productionNodeFlags();
  const { child, url, output } = await spawnAndWait([...flags, ...profile, join(dist, 'server.js'), '--config', configPath], /Server listening at (http:\/\/127\.0\.0\.1:\d+)/, {
    HOST: '127.0.0.1',
    PORT: '0',
  });
  const stopChild = stopper(child);
  try {
    for (let i = 0; i < 200; i++) {
      if ((await getJson<unknown>(`${url}/readyz`)).status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const startMs = performance.now() - started;
    const headers = { authorization: `Bearer ${world.gatewayToken}` };
    const to = { url, headers };
    await send(to, 'PUT', '/v1/market-data', world.marketData());
    const firstChecks = await timeFirstChecks(url, headers, world);
    await send(to, 'PUT', '/v1/positions', world.positions());
    const feed = setInterval(() => {
      send(to, 'PUT', '/v1/market-data', world.marketData()).catch(() => undefined);
    }, 1_000);
    feed.unref();
    const metrics = async () => new Metrics(await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(30_000) })).text());
    return {
      name: 'service',
      url,
      headers,
      process: child,
      output,
      startMs,
      configPath,
      nodeFlags: flags,
      scavenges: scavengesLogged(output),
      firstChecks,
      metrics,
      stats: async () => {
        const m = await metrics();
        return { cpuSeconds: m.value('process_cpu_seconds_total'), rss: m.value('process_resident_memory_bytes'), decisions: m.decisions() };
      },
      stop: async () => {
        clearInterval(feed);
        await stopChild();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopChild();
    throw error;
  }
}

/**
 * The service's start-up line on its scavenges (src/gc-threads.ts), which it logs before it
 * listens: the flags alone do not say, since the service chooses from its host's cores unless a
 * flag on its command line decides. A build from before the choice logs none.
 */
export function scavengesLogged(output: readonly string[]): string {
  for (const line of output.join('').split('\n')) {
    if (!line.includes('"scavengeThreads"')) continue;
    try {
      const { msg } = JSON.parse(line) as { msg?: unknown };
      if (typeof msg === 'string') return msg;
    } catch {
      // Not a whole log line: keep looking.
    }
  }
  return 'not logged (a build from before the choice)';
}

/**
 * The first orders a gateway sends after readiness, one at a time on one keep-alive
 * connection, timed from the client (node:http, its own code warmed by a GET first, so the
 * times are the server's).
 */
async function timeFirstChecks(url: string, headers: Record<string, string>, world: World): Promise<ServiceTarget['firstChecks']> {
  const flow = new OrderFlow(world, 'first-');
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const call = (method: string, path: string, body?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${url}${path}`, { method, agent, headers: body === undefined ? {} : { ...headers, 'content-type': 'application/json' }, timeout: 30_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  try {
    for (let i = 0; i < 3; i++) await call('GET', '/healthz');
    const out: ServiceTarget['firstChecks'] = [];
    for (let i = 0; i < 10; i++) {
      const body = flow.next();
      const t0 = performance.now();
      const response = await call('POST', '/v1/checks', body);
      const ms = performance.now() - t0;
      const result = JSON.parse(response.text) as { decision?: string; reasons?: string[] };
      out.push({ ms, status: response.status, decision: result.decision ?? '', reasons: result.reasons ?? [] });
    }
    return out;
  } finally {
    agent.destroy();
  }
}

/** Starts the bare baseline (load-tests/baseline-server) as its own process. */
export async function startBaseline(options: { cpuProfileDir?: string } = {}): Promise<Target> {
  assertBuilt();
  const script = join(here, `baseline-server${isCompiled ? '.js' : '.ts'}`);
  const started = performance.now();
  const profile = options.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`];
  const { child, url, output } = await spawnAndWait([...profile, script, DIST], /baseline listening at (http:\/\/127\.0\.0\.1:\d+)/, {});
  return {
    name: 'baseline',
    url,
    headers: {},
    process: child,
    output,
    startMs: performance.now() - started,
    stats: async () => (await getJson<{ cpuSeconds: number; rss: number }>(`${url}/stats`)).body,
    stop: stopper(child),
  };
}
