import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface RunningServer {
  readonly url: string;
  readonly process: ChildProcess;
  readonly output: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the built server (dist/server.js) on a free port, under `nodeFlags`, and waits until it listens. */
export async function startServer(configPath: string, env: Record<string, string> = {}, nodeFlags: readonly string[] = []): Promise<RunningServer> {
  const child = spawn(process.execPath, [...nodeFlags, 'dist/server.js', '--config', configPath], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output.join('')}`)), 15_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output.push(text);
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output.join('')}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    url,
    process: child,
    output,
    stop: (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  };
}

/** One JSON request to a running server. */
export async function call(server: RunningServer, method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(server.url + path, {
    method,
    headers: { authorization: token, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The demo tokens of config/default.yaml and their SHA-256 digests. */
export const GATEWAY = 'Bearer demo-gateway-token';
export const ADMIN = 'Bearer demo-admin-token';
export const DEMO_TOKENS = [
  { name: 'gw', sha256: '08292675cc9f0316008ad02030ef15f84025802c29b888efbc1a978ceffa0cc8', roles: ['gateway'] },
  { name: 'admin', sha256: '91c16f0d6cc1bec3c3603972182a07c66ff4fa71618a975e963d6dbe42b6dd37', roles: ['admin', 'gateway'] },
];

/** A buy of 100 AAPL at 100 for ACC-1 / S-1, with any field overridden. */
export const e2eOrder = (orderId: string, fields: Record<string, unknown> = {}) => ({
  orderId,
  accountId: 'ACC-1',
  strategyId: 'S-1',
  symbol: 'AAPL',
  side: 'BUY',
  quantity: 100,
  price: 100,
  ...fields,
});
