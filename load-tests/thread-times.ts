import { readdirSync, readFileSync } from 'node:fs';

/** What /proc's times are counted in: USER_HZ, 100 a second on Linux. */
const MS_PER_TICK = 10;

/** CPU milliseconds a process has used so far, in all and by the kind of thread that used them. */
export interface ThreadTimes {
  all: number;
  main: number;
  mainKernel: number;
  /** Worker threads (node:worker_threads; the service starts one, the snapshot worker). */
  workers: number;
  /** V8's platform threads: parallel and concurrent garbage collection, background compilation. */
  v8Helpers: number;
  /** libuv's thread pool: file writes (the journal's) and other blocking calls. */
  libuvPool: number;
}

/**
 * The names Node 24 gives its threads (/proc/<pid>/task/<tid>/comm), by the field that counts
 * them. A worker started with a `name` option takes that name instead, and is counted in `all`
 * only: the service's snapshot worker has none.
 */
const KINDS = new Map<string, keyof Pick<ThreadTimes, 'workers' | 'v8Helpers' | 'libuvPool'>>([
  ['WorkerThread', 'workers'],
  ['V8Worker', 'v8Helpers'],
  ['libuv-worker', 'libuvPool'],
]);

/**
 * CPU milliseconds a process has used so far: all its threads, its main thread (and that thread
 * in the kernel), and its worker threads, V8's helper threads and libuv's pool, from /proc
 * (Linux; NaN elsewhere). Per thread, because the service's CPU is spread over its main thread,
 * the snapshot worker, V8's helper threads and libuv's pool, and which of them grew is what tells
 * a change apart.
 */
export function threadTimes(pid: number): ThreadTimes {
  const tasks = `/proc/${pid}/task`;
  const times: ThreadTimes = { all: 0, main: 0, mainKernel: 0, workers: 0, v8Helpers: 0, libuvPool: 0 };
  let threads: string[];
  try {
    threads = readdirSync(tasks);
  } catch {
    threads = []; // no such process (or not Linux)
  }
  let read = 0;
  for (const task of threads) {
    let stat: string;
    try {
      stat = readFileSync(`${tasks}/${task}/stat`, 'utf8');
    } catch {
      continue; // a thread that ended meanwhile
    }
    // The command name is in parentheses and may hold either; the fields after it follow.
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    // utime and stime are the 12th and 13th fields after the name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = Number(fields[11]) * MS_PER_TICK;
    const kernel = Number(fields[12]) * MS_PER_TICK;
    read++;
    times.all += user + kernel;
    if (task === String(pid)) {
      times.main = user + kernel;
      times.mainKernel = kernel;
    } else {
      const kind = KINDS.get(name);
      if (kind !== undefined) times[kind] += user + kernel;
    }
  }
  // No thread read: no such process (or not Linux).
  if (read === 0) for (const key of Object.keys(times) as (keyof ThreadTimes)[]) times[key] = Number.NaN;
  return times;
}
