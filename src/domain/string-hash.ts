const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

/** FNV-1a's starting value, moved by `seed`. */
export const fnvOffset = (seed: number): number => (FNV_OFFSET ^ seed) >>> 0;

/** FNV-1a of a string's code units, continued from `h`. */
export function fnvText(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

/**
 * Drawn once per thread, so that no one can choose order ids (which gateways do) that all land
 * in one shard of an account's orders, or on one slot of its table: with a hash known to
 * everyone, a few thousand such ids would make one table's lookups walk them all. Nothing
 * depends on the values: a ShardedMap past one shard lists its entries in another order from
 * one thread to the next (a snapshot of more than 65,536 accounts, say), and nothing that reads
 * them back depends on their order. duplicate_order's signatures are hashed from it too.
 */
export const HASH_SEED = crypto.getRandomValues(new Uint32Array(1))[0]!;
const OFFSET = fnvOffset(HASH_SEED);

/**
 * The text hashed last, and its hash: a check asks whether its account holds the order's id,
 * then puts the order under it, each time through a ShardedMap's shard choice and then the
 * shard's own table, with the same string.
 */
let lastText = '';
/** The empty string's: the offset itself. */
let lastHash = OFFSET & 0x3fffffff;

/** FNV-1a from a random offset over a string's code units, as a small integer (kept unboxed wherever it is stored). */
export function stringHash(text: string): number {
  if (text === lastText) return lastHash;
  lastText = text;
  lastHash = fnvText(OFFSET, text) & 0x3fffffff;
  return lastHash;
}
