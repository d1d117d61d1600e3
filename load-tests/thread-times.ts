import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** What /proc's times are counted in: USER_HZ, 100 a second on Linux. */
const MS_PER_TICK = 10;

/**
 * CPU milliseconds a process has used so far: all its threads, its main thread, and the main
 * thread in the kernel, from /proc (Linux; NaN elsewhere). Per thread, because the service's
 * CPU is spread over its main thread, the snapshot worker, V8's helper threads and libuv's pool,
 * and which of them grew is what tells a change apart.
 */
export function threadTimes(pid: number): { all: number; main: number; mainKernel: number } {
  const tasks = `/proc/${pid}/task`;
  if (!existsSync(tasks)) return { all: Number.NaN, main: Number.NaN, mainKernel: Number.NaN };
  const times = { all: 0, main: 0, mainKernel: 0 };
  for (const task of readdirSync(tasks)) {
    let stat: string;
    try {
      stat = readFileSync(`${tasks}/${task}/stat`, 'utf8');
    } catch {
      continue; // a thread that ended meanwhile
    }
    // The fields after the command name (which may hold spaces and parentheses): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = Number(fields[11]) * MS_PER_TICK;
    const kernel = Number(fields[12]) * MS_PER_TICK;
    times.all += user + kernel;
    if (task === String(pid)) {
      times.main = user + kernel;
      times.mainKernel = kernel;
    }
  }
  return times;
}
