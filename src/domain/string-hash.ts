const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * The text hashed last, and its hash: a check asks whether its account holds the order's id,
 * then puts the order under it, each time through a ShardedMap's shard choice and then the
 * shard's own table, with the same string.
 */
let lastText = '';
/** The empty string's: the offset itself. */
let lastHash = FNV_OFFSET & 0x3fffffff;

/** FNV-1a over a string's code units, as a small integer (kept unboxed wherever it is stored). */
export function stringHash(text: string): number {
  if (text === lastText) return lastHash;
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  lastText = text;
  lastHash = h & 0x3fffffff;
  return lastHash;
}
