import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chooseScavengeThreads, describeScavengeThreads, SERIAL_SCAVENGE_MAX_CORES } from '../src/gc-threads.js';
import { DEMO_TOKENS, startServer } from './e2e/server-process.js';

describe('chooseScavengeThreads', () => {
  it('keeps scavenges on the collecting thread alone on hosts of up to two cores, and leaves larger hosts to V8', () => {
    expect(SERIAL_SCAVENGE_MAX_CORES).toBe(2);
    for (const cores of [1, 2]) expect(chooseScavengeThreads(cores, [])).toEqual({ isParallel: false, isFromCommandLine: false, cores });
    for (const cores of [3, 4, 64]) expect(chooseScavengeThreads(cores, [])).toEqual({ isParallel: true, isFromCommandLine: false, cores });
  });

  it('leaves the choice to the flag on the command line, in every spelling V8 takes, the last one winning', () => {
    for (const flag of ['--parallel-scavenge', '--parallel_scavenge', '-parallel-scavenge']) {
      expect(chooseScavengeThreads(2, [flag])).toMatchObject({ isParallel: true, isFromCommandLine: true });
    }
    for (const flag of ['--no-parallel-scavenge', '--noparallel_scavenge', '--no_parallel_scavenge', '-no-parallel-scavenge']) {
      expect(chooseScavengeThreads(64, [flag])).toMatchObject({ isParallel: false, isFromCommandLine: true });
    }
    expect(chooseScavengeThreads(2, ['--no-parallel-scavenge', '--max-semi-space-size=16', '--parallel-scavenge'])).toMatchObject({ isParallel: true });
    // Flags that only start alike are not it.
    expect(chooseScavengeThreads(2, ['--parallel-scavenge-tasks=2', '--parallel-marking', '--max-semi-space-size=16'])).toMatchObject({ isParallel: false, isFromCommandLine: false });
  });

  it('says what it chose and why', () => {
    expect(describeScavengeThreads(chooseScavengeThreads(2, []))).toBe('scavenges run without helper threads (2 cores available, at most 2)');
    expect(describeScavengeThreads(chooseScavengeThreads(8, []))).toBe("scavenges use V8's helper threads (8 cores available, more than 2)");
    expect(describeScavengeThreads(chooseScavengeThreads(2, ['--parallel-scavenge']))).toBe("scavenges use V8's helper threads (as the command line says)");
  });
});

/** Helper-thread time of each scavenge in `--trace-gc-nvp` output. */
const helperTimes = (output: string): number[] => [...output.matchAll(/ gc=s .*?background\.scavenge\.parallel=([\d.]+)/g)].map((match) => Number(match[1]));

describe('applyScavengeThreads', () => {
  it('takes effect at run time: at two cores no scavenge uses a helper thread, at four some do', () => {
    const gcThreadsUrl = pathToFileURL(resolve('dist/gc-threads.js')).href;
    const scavengesAt = (cores: number) => {
      const script = `
        const { applyScavengeThreads } = await import(${JSON.stringify(gcThreadsUrl)});
        applyScavengeThreads(${cores}, []);
        const kept = [];
        for (let i = 0; i < 3e6; i++) { kept.push({ i, text: 'x' + i }); if (kept.length > 200000) kept.splice(0, 100000); }`;
      return helperTimes(execFileSync(process.execPath, ['--trace-gc-nvp', '--input-type=module', '-e', script], { encoding: 'utf8' }));
    };
    const serial = scavengesAt(2);
    const parallel = scavengesAt(4);
    expect(serial.length).toBeGreaterThan(5);
    expect(serial.every((ms) => ms === 0)).toBe(true);
    expect(parallel.length).toBeGreaterThan(5);
    expect(parallel.some((ms) => ms > 0)).toBe(true);
  });

  it('is applied by the server process, which logs what it chose: its scavenges after start-up follow it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ulc-gc-threads-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify({ schemaVersion: 1, auth: { enabled: true, tokens: DEMO_TOKENS }, storage: { durability: 'off', dataDir: join(dir, 'data') } }));
    // The host's core count as the server sees it, whatever the machine running the test has.
    const withCores = (cores: number) => [
      '--import',
      `data:text/javascript,import os from 'node:os'; import { syncBuiltinESMExports } from 'node:module'; os.availableParallelism = () => ${cores}; syncBuiltinESMExports();`,
    ];
    const runs = [
      { flags: withCores(2), line: 'scavenges run without helper threads (2 cores available, at most 2)', isParallel: false },
      { flags: withCores(4), line: "scavenges use V8's helper threads (4 cores available, more than 2)", isParallel: true },
      { flags: [...withCores(2), '--parallel-scavenge'], line: "scavenges use V8's helper threads (as the command line says)", isParallel: true },
    ];
    for (const { flags, line, isParallel } of runs) {
      const server = await startServer(path, {}, ['--trace-gc-nvp', ...flags]);
      try {
        const startedAt = server.output.join('').length;
        // Scavenges after start-up: /metrics allocates its text.
        for (let i = 0; i < 300; i++) await (await fetch(`${server.url}/metrics`)).text();
        const output = server.output.join('');
        expect(output.slice(0, startedAt)).toContain(line);
        const scavenges = helperTimes(output.slice(startedAt));
        expect(scavenges.length).toBeGreaterThanOrEqual(3);
        expect(scavenges.some((ms) => ms > 0)).toBe(isParallel);
      } finally {
        await server.stop();
      }
    }
  });
});
