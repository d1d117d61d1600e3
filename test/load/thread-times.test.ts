import { pbkdf2 } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { promisify } from 'node:util';
import { isMainThread, Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { threadTimes } from '../../load-tests/thread-times.js';

// On Linux, and on the process's main thread (vitest's default pool forks a process per file).
describe.runIf(existsSync('/proc/self/task') && isMainThread)('threadTimes', () => {
  it("counts the main thread's CPU within the process's, and grows with what the main thread spends", () => {
    const before = threadTimes(process.pid);
    expect(before.main).toBeGreaterThan(0);
    expect(before.all).toBeGreaterThanOrEqual(before.main);
    expect(before.main).toBeGreaterThanOrEqual(before.mainKernel);
    // 150 ms of the process's CPU, nearly all of it this thread's (not wall time: the host may be busy).
    const start = process.cpuUsage();
    let spin = 0;
    while (process.cpuUsage(start).user < 150_000) spin += Math.sqrt(spin + 1);
    const after = threadTimes(process.pid);
    expect(spin).toBeGreaterThan(0);
    // /proc counts in 10 ms ticks, and V8's helper threads may have had a little of the 150 ms.
    expect(after.main - before.main).toBeGreaterThanOrEqual(100);
    expect(after.all - before.all).toBeGreaterThanOrEqual(after.main - before.main);
  });

  it("counts the main thread's time in the kernel as its kernel time", () => {
    const before = threadTimes(process.pid);
    // Reads of /dev/zero: the kernel fills the buffer, so nearly all of this is system time.
    const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
    const zero = openSync('/dev/zero', 'r');
    try {
      const start = process.cpuUsage();
      while (process.cpuUsage(start).system < 150_000) readSync(zero, buffer, 0, buffer.length, null);
    } finally {
      closeSync(zero);
    }
    const after = threadTimes(process.pid);
    const kernel = after.mainKernel - before.mainKernel;
    expect(kernel).toBeGreaterThanOrEqual(100);
    expect(kernel).toBeGreaterThanOrEqual((after.main - before.main) / 2);
  });

  it("counts a worker thread's CPU as the workers', not the main thread's", async () => {
    const before = threadTimes(process.pid);
    // The worker spins 150 ms of its own CPU, says so, then stays (its thread, and its time in
    // /proc, go when it ends) until terminated after the reading.
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const cpu = () => { const { user, system } = process.threadCpuUsage(); return user + system; };
       let spin = 0; const t0 = cpu(); while (cpu() - t0 < 150000) spin += Math.sqrt(spin + 1);
       parentPort.postMessage(spin);
       parentPort.on('message', () => undefined);`,
      { eval: true },
    );
    try {
      await new Promise<unknown>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      const after = threadTimes(process.pid);
      expect(after.workers - before.workers).toBeGreaterThanOrEqual(100);
      expect(after.main - before.main).toBeLessThan(100);
      expect(after.all - before.all).toBeGreaterThanOrEqual(after.workers - before.workers);
    } finally {
      await worker.terminate();
    }
  });

  it("counts libuv's pool, where pbkdf2 runs, as the pool's", async () => {
    const before = threadTimes(process.pid);
    const cpu = process.cpuUsage();
    // Enough rounds for well over 150 ms of the pool's CPU (about 0.45 s here).
    await promisify(pbkdf2)('password', 'salt', 3_000_000, 32, 'sha256');
    const spent = process.cpuUsage(cpu);
    const after = threadTimes(process.pid);
    expect((spent.user + spent.system) / 1_000).toBeGreaterThanOrEqual(150);
    expect(after.libuvPool - before.libuvPool).toBeGreaterThanOrEqual(100);
    expect(after.main - before.main).toBeLessThan(100);
  });

  it('answers NaN for a process that is not there', () => {
    const nothing = Number.NaN;
    expect(threadTimes(2 ** 31 - 1)).toEqual({ all: nothing, main: nothing, mainKernel: nothing, workers: nothing, v8Helpers: nothing, libuvPool: nothing });
  });
});
