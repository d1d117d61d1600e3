import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';

/**
 * On a host of this many cores or fewer, V8's young-generation collections (scavenges) run on
 * the thread that needs them alone. A parallel scavenge shares its work with V8's helper threads
 * and the collecting thread waits for the last of them; where every core is taken already (the
 * event loop, the snapshot worker, a load generator or a sidecar), a helper waits for a core and
 * the event loop waits with it. On the two-core host of the README's figures, through the batch
 * scenario, the main thread's scavenges took the same at the median either way (about 6 ms) and
 * less in the tail alone (90th percentile 8.3–9.4 ms against 9.9–15.8), and the helpers' CPU went
 * back to the requests. A full collection's parallel phases were tried alike and are not turned
 * off: alone, the thread took longer over them.
 */
export const SERIAL_SCAVENGE_MAX_CORES = 2;

/** The V8 flag that turns parallel scavenges off, for every isolate of the process. */
export const SERIAL_SCAVENGE_FLAG = '--no-parallel-scavenge';

/** Any spelling V8 takes for the flag, set or cleared: `--parallel-scavenge`, `--no-parallel_scavenge`, `--noparallel-scavenge`. */
const PARALLEL_SCAVENGE = /^--(?:no-?)?parallel[-_]scavenge(?:=|$)/;

export interface ScavengeThreads {
  /** Whether scavenges may use V8's helper threads. */
  readonly isParallel: boolean;
  /** Whether a flag on the command line decided it (then V8 has it already). */
  readonly isGiven: boolean;
  /** Why, as the start-up log says it. */
  readonly reason: string;
}

/**
 * What the process should do, given the cores it may run on and its Node flags: a flag on the
 * command line decides (NODE_OPTIONS cannot carry this one), else the core count does.
 */
export function chooseScavengeThreads(cores: number, execArgv: readonly string[]): ScavengeThreads {
  const given = execArgv.findLast((flag) => PARALLEL_SCAVENGE.test(flag));
  if (given !== undefined) return { isParallel: !/^--no-?/.test(given), isGiven: true, reason: `${given} on the command line` };
  if (cores <= SERIAL_SCAVENGE_MAX_CORES) return { isParallel: false, isGiven: false, reason: `${cores} cores, at most ${SERIAL_SCAVENGE_MAX_CORES}: ${SERIAL_SCAVENGE_FLAG}` };
  return { isParallel: true, isGiven: false, reason: `${cores} cores: V8's default` };
}

/**
 * Sets the choice for this process, before anything runs that could allocate much: V8 reads the
 * flag at every scavenge, so it holds from the next one on, in the snapshot worker too.
 */
export function applyScavengeThreads(cores: number = availableParallelism(), execArgv: readonly string[] = process.execArgv): ScavengeThreads {
  const choice = chooseScavengeThreads(cores, execArgv);
  if (!choice.isParallel && !choice.isGiven) setFlagsFromString(SERIAL_SCAVENGE_FLAG);
  return choice;
}
