import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';

/**
 * On a host of this many cores or fewer, V8's young-generation collections (scavenges) run on
 * the thread that needs them alone. A parallel scavenge shares its work with V8's helper threads
 * and the collecting thread waits for the last of them: where every core is taken already (the
 * event loop, the snapshot worker, a load generator or a sidecar), a helper waits for a core and
 * the event loop waits with it. What it measured is in the README (Operating it).
 */
export const SERIAL_SCAVENGE_MAX_CORES = 2;

/** The V8 flag that turns parallel scavenges off, for every isolate of the process. */
const SERIAL_SCAVENGE_FLAG = '--no-parallel-scavenge';

/**
 * Every spelling V8 takes for the flag, set or cleared: one dash or two, `no`, `no-` or `no_`,
 * dashes or underscores (`--parallel-scavenge`, `-no_parallel_scavenge`, `--noparallel-scavenge`).
 * A value (`=false`) is no spelling: Node refuses it and exits.
 */
const PARALLEL_SCAVENGE_SPELLINGS = /^--?(?:no[-_]?)?parallel[-_]scavenge$/;
const CLEARED = /^--?no/;

export interface ScavengeThreads {
  /** Whether scavenges may use V8's helper threads. */
  readonly isParallel: boolean;
  /** Whether a flag on the command line decided it (V8 has it then already), else the core count did. */
  readonly isFromCommandLine: boolean;
  readonly cores: number;
}

/**
 * What the process should do, given the cores it may run on (os.availableParallelism: the CPU
 * affinity, capped by a cgroup's CPU quota) and its Node flags: the last spelling of the flag on
 * the command line decides (NODE_OPTIONS cannot carry it), else the core count does.
 */
export function chooseScavengeThreads(cores: number, execArgv: readonly string[]): ScavengeThreads {
  const given = execArgv.findLast((flag) => PARALLEL_SCAVENGE_SPELLINGS.test(flag));
  if (given !== undefined) return { isParallel: !CLEARED.test(given), isFromCommandLine: true, cores };
  return { isParallel: cores > SERIAL_SCAVENGE_MAX_CORES, isFromCommandLine: false, cores };
}

/**
 * Sets the choice for this process, before anything runs that could allocate much: V8 reads the
 * flag at every scavenge, so it holds from the next one on, in the snapshot worker too.
 */
export function applyScavengeThreads(cores: number = availableParallelism(), execArgv: readonly string[] = process.execArgv): ScavengeThreads {
  const choice = chooseScavengeThreads(cores, execArgv);
  if (!choice.isParallel && !choice.isFromCommandLine) setFlagsFromString(SERIAL_SCAVENGE_FLAG);
  return choice;
}

/** The start-up log's line for the choice. */
export function describeScavengeThreads({ isParallel, isFromCommandLine, cores }: ScavengeThreads): string {
  const threads = isParallel ? "scavenges use V8's helper threads" : 'scavenges run without helper threads';
  const why = isFromCommandLine ? 'as the command line says' : `${cores} cores available, ${isParallel ? 'more than' : 'at most'} ${SERIAL_SCAVENGE_MAX_CORES}`;
  return `${threads} (${why})`;
}
