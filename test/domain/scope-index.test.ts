import { describe, expect, it } from 'vitest';
import type { CompiledLimit } from '../../src/domain/compiled-limit.js';
import { ScopeIndex } from '../../src/domain/scope-index.js';
import { order } from '../support/engine-fixtures.js';

/** The fields the index reads, on a limit scoped to `accounts` (or unscoped without them). */
const limit = (ordinal: number, accounts?: string[]): CompiledLimit =>
  ({ ordinal, kind: 'order_quantity', isEnabled: true, accounts: accounts === undefined ? undefined : new Set(accounts) }) as unknown as CompiledLimit;

describe('scope index changed one limit at a time', () => {
  it('keeps no list for a key its last limit left: an index of re-scoped limits does not grow with every key they ever named', () => {
    const index = new ScopeIndex();
    for (let i = 0; i < 100; i++) {
      const scoped = limit(i, [`ACC-${i}`, `ACC-${i + 1}`]);
      index.add(scoped);
      index.remove(scoped);
    }
    expect(index).toEqual(new ScopeIndex());
  });

  it('finds an order\'s limits as an index built from the whole book would, in the same order', () => {
    const [a, b, c] = [limit(0, ['ACC-1']), limit(1), limit(2, ['ACC-1'])];
    const index = new ScopeIndex();
    index.add(c);
    index.add(b);
    index.add(a);
    const fromBook = ScopeIndex.of([a, b, c]);
    const found = (ix: ScopeIndex): number[] => {
      const out: CompiledLimit[] = [];
      return out.slice(0, ix.collectApplicable(order({ accountId: 'ACC-1' }), out)).map((l) => l.ordinal);
    };
    expect(found(index)).toEqual(found(fromBook));
    expect(found(index)).toEqual([1, 0, 2]);
  });
});
