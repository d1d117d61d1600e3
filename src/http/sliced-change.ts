import { CapacityError } from '../domain/exposure-ledger.js';
import { journalFailedSince } from './durable-reply.js';
import type { StoreGate } from './durable-reply.js';
import { nextTurn } from './next-turn.js';
import { ProblemError } from './problems.js';
import type { FieldProblem } from './problems.js';

export const journalFailed = (): ProblemError =>
  new ProblemError('unavailable', 'the journal failed while the change was being applied: state changes are refused until it recovers');

/** Where a slice of a change ended: the next item's index, and the last journal record by then. */
export interface SliceEnd {
  next: number;
  seq: number;
}

/** A change made in slices: where each applied slice ended, and why it stopped early if it did. */
export interface SlicedChange {
  slices: readonly SliceEnd[];
  total: number;
  /** The error a slice threw, or the journal failing between slices; the slice it stopped at changed nothing. */
  stoppedBy?: Error;
}

/**
 * Applies `items` a slice of `size` at a time, with the event loop free between slices (DESIGN §6).
 * If the journal fails meanwhile the rest is not applied, even if it has recovered by the next
 * slice: with fsync durability recovery puts the engine back to what the disk holds, which the
 * earlier slices may not be part of. `apply` changes nothing when it throws (the engine checks
 * before it changes), so a throw stops the change there, with the earlier slices standing.
 */
export async function changeInSlices<T>(store: StoreGate, items: readonly T[], size: number, apply: (slice: readonly T[]) => void): Promise<SlicedChange> {
  const outages = store.outages;
  const slices: SliceEnd[] = [];
  for (let from = 0; from < items.length; from += size) {
    if (from > 0) await nextTurn();
    if (journalFailedSince(store, outages)) return { slices, total: items.length, stoppedBy: journalFailed() };
    try {
      apply(items.slice(from, from + size));
    } catch (error) {
      return { slices, total: items.length, stoppedBy: error instanceof Error ? error : new Error(String(error)) };
    }
    slices.push({ next: Math.min(items.length, from + size), seq: store.lastSeq });
  }
  return { slices, total: items.length };
}

/** What stands of a change made in slices, once it is as durable as configured. */
export interface Standing {
  /** Its first `items` items stand; the rest were not applied, or were rolled back. */
  items: number;
  /** Why not all of them, if not: the journal failing, or what a slice threw. */
  cause?: Error;
}

/**
 * Resolves once the change is as durable as configured, with how many of its items stand: all
 * it applied, or, if the journal failed, those of the slices whose records reached the disk
 * (recovery rolls the rest back under fsync durability). Rejects as the change made in one go
 * would have been refused if nothing of it stands: 503 for the journal, else what the slice threw.
 */
export async function itemsStanding(store: StoreGate, change: SlicedChange): Promise<Standing> {
  const last = change.slices[change.slices.length - 1];
  const failure = last === undefined ? undefined : await notDurable(store, last.seq);
  let items = last?.next ?? 0;
  if (failure !== undefined) {
    items = 0;
    for (const slice of change.slices) if (slice.seq <= failure.durableThrough) items = slice.next;
  }
  const cause = failure?.problem ?? change.stoppedBy;
  if (items === 0 && cause !== undefined) throw cause;
  return cause === undefined ? { items } : { items, cause };
}

/**
 * Undefined once records through `seq` are as durable as configured; else the 503 sendDurably
 * answers a change made in one go with, and the last record that is on disk all the same.
 */
async function notDurable(store: StoreGate, seq: number): Promise<{ problem: ProblemError; durableThrough: number } | undefined> {
  try {
    await store.settled(seq);
    return undefined;
  } catch (error) {
    const { message, durableThrough } = error as Error & { durableThrough?: unknown };
    const problem = new ProblemError('unavailable', `the change could not be made durable: ${message}`);
    return { problem, durableThrough: typeof durableThrough === 'number' ? durableThrough : -1 };
  }
}

/**
 * The answer to a change that stopped part way, its first `standing.items` items standing:
 * 503 (507 if a table filled up meanwhile), naming the first item not applied, from which the
 * client sends the rest again.
 */
export function partlyApplied(key: string, standing: Standing, total: number): ProblemError {
  return new ProblemError(
    standing.cause instanceof CapacityError ? 'capacity' : 'unavailable',
    `only the first ${standing.items} of ${total} ${key} were applied (${standing.cause?.message ?? 'stopped'}); they stand, the rest do not: send ${key}.${standing.items} on again`,
    notAppliedFrom(key, standing.items),
  );
}

/** The field problem of a change that stopped at item `index`: the first of those not applied. */
export function notAppliedFrom(key: string, index: number): FieldProblem[] {
  return [{ field: `${key}.${index}`, message: 'was not applied, nor was any after it' }];
}
