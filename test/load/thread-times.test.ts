import { existsSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
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

  it('answers NaN for a process that is not there', () => {
    expect(threadTimes(2 ** 31 - 1)).toEqual({ all: Number.NaN, main: Number.NaN, mainKernel: Number.NaN });
  });
});
