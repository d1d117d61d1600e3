import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chooseScavengeThreads, SERIAL_SCAVENGE_MAX_CORES } from '../src/gc-threads.js';
import { DEMO_TOKENS, startServer } from './e2e/server-process.js';

describe('chooseScavengeThreads', () => {
  it('keeps scavenges on the collecting thread alone on hosts of up to two cores, and leaves larger hosts to V8', () => {
    expect(SERIAL_SCAVENGE_MAX_CORES).toBe(2);
    for (const cores of [1, 2]) expect(chooseScavengeThreads(cores, [])).toMatchObject({ isParallel: false, isGiven: false });
    for (const cores of [3, 4, 64]) expect(chooseScavengeThreads(cores, [])).toMatchObject({ isParallel: true, isGiven: false });
  });

  it('leaves the choice to a flag on the command line, in any spelling V8 takes, the last one winning', () => {
    expect(chooseScavengeThreads(2, ['--parallel-scavenge'])).toMatchObject({ isParallel: true, isGiven: true });
    expect(chooseScavengeThreads(2, ['--parallel_scavenge'])).toMatchObject({ isParallel: true, isGiven: true });
    expect(chooseScavengeThreads(64, ['--no-parallel-scavenge'])).toMatchObject({ isParallel: false, isGiven: true });
    expect(chooseScavengeThreads(64, ['--noparallel_scavenge'])).toMatchObject({ isParallel: false, isGiven: true });
    expect(chooseScavengeThreads(2, ['--no-parallel-scavenge', '--max-semi-space-size=16', '--parallel-scavenge'])).toMatchObject({ isParallel: true });
    expect(chooseScavengeThreads(2, ['--max-semi-space-size=16', '--parallel-scavenge-tasks=2'])).toMatchObject({ isParallel: false, isGiven: false });
  });
});

/** Helper-thread time of every scavenge a process ran (`--trace-gc-nvp`) after applying the choice for `cores`. */
function helperTimesAt(cores: number): number[] {
  const module = pathToFileURL(resolve('dist/gc-threads.js')).href;
  const script = `
    const { applyScavengeThreads } = await import(${JSON.stringify(module)});
    applyScavengeThreads(${cores}, []);
    const kept = [];
    for (let i = 0; i < 3e6; i++) { kept.push({ i, text: 'x' + i }); if (kept.length > 200000) kept.splice(0, 100000); }`;
  const out = execFileSync(process.execPath, ['--trace-gc-nvp', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return [...out.matchAll(/gc=s .*?background\.scavenge\.parallel=([\d.]+)/g)].map((m) => Number(m[1]));
}

describe('applyScavengeThreads', () => {
  it('takes effect at run time: at two cores no scavenge uses a helper thread, at four they do', () => {
    const serial = helperTimesAt(2);
    const parallel = helperTimesAt(4);
    expect(serial.length).toBeGreaterThan(5);
    expect(serial.every((ms) => ms === 0)).toBe(true);
    expect(parallel.length).toBeGreaterThan(5);
    expect(parallel.some((ms) => ms > 0)).toBe(true);
  }, 30_000);

  it('is applied by the server process, which logs what it chose and why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-gc-threads-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify({ schemaVersion: 1, auth: { enabled: true, tokens: DEMO_TOKENS }, storage: { durability: 'off', dataDir: join(dir, 'data') } }));
    const expected = availableParallelism() <= 2 ? /without V8's helper threads: \d cores, at most 2/ : /with V8's helper threads: \d+ cores: V8's default/;
    for (const [flags, line] of [[[], expected], [['--parallel-scavenge'], /with V8's helper threads: --parallel-scavenge on the command line/]] as const) {
      const server = await startServer(path, {}, flags);
      try {
        expect(server.output.join('')).toMatch(line);
      } finally {
        await server.stop();
      }
    }
  }, 30_000);
});
