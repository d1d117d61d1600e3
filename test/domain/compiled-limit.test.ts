import { describe, expect, it } from 'vitest';
import { touchLimits } from '../../src/domain/compiled-limit.js';
import type { CompiledLimit } from '../../src/domain/compiled-limit.js';
import { makeEngine } from '../support/engine-fixtures.js';

const rate = { id: 'rate', kind: 'order_rate', per: 'account', windowMs: 1_000, thresholds: { warn: 5, hard: 10 } };
const qty = { id: 'qty', kind: 'order_quantity', enabled: false, thresholds: { hard: 100.5 } };

function compiled(...definitions: unknown[]): CompiledLimit[] {
  const book = makeEngine(definitions).engine.book;
  return definitions.map((d) => book.byId.get((d as { id: string }).id)!);
}

describe('compiled limit: what touchLimits reads ahead', () => {
  // touchLimits reads a field in each 64-byte line of the object by its place in the object
  // literal (V8 keeps a literal's fields in order, 8 bytes each after a 24-byte header): a field
  // added or moved leaves a line unread, so this fails and says to redo them.
  it('keeps the fields it reads at the places its comment gives', () => {
    const keys = Object.keys(compiled(rate)[0]!);
    expect(keys).toHaveLength(25);
    const offsetOf = (key: string): number => 24 + 8 * keys.indexOf(key);
    const read = [0, offsetOf('ordinal'), offsetOf('isEnabled'), offsetOf('hard'), offsetOf('cleanBound'), offsetOf('windowMs')];
    expect(read).toEqual([0, 24, 64, 128, 176, 216]);
    const end = 24 + 8 * keys.length;
    expect(end).toBe(224);
    // An object starts anywhere 8-byte aligned: every 64-byte line it spans must hold a field read.
    for (let start = 0; start < 64; start += 8) {
      for (let line = 0; line < start + end; line += 64) {
        expect(read.some((offset) => start + offset >= line && start + offset < line + 64)).toBe(true);
      }
    }
  });

  it('reads every limit it is given, and only those', () => {
    const [r, q] = compiled(rate, qty);
    const own = (limit: CompiledLimit): number => limit.ordinal + (limit.isEnabled ? 1 : 0) + limit.hard + limit.cleanBound + limit.windowMs;
    expect(touchLimits([r!, q!], 2)).toBe(own(r!) + own(q!));
    expect(touchLimits([r!, q!], 1)).toBe(own(r!));
    expect(touchLimits([], 0)).toBe(0);
  });
});
