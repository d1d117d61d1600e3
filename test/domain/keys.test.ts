import { describe, expect, it } from 'vitest';
import { scopeKeyOf, scopeOfKey } from '../../src/domain/keys.js';

describe('scope keys', () => {
  it('read back what scopeKeyOf wrote, an id holding a colon included', () => {
    for (const [type, id] of [['global', undefined], ['account', 'ACC-1'], ['symbol', 'BTC:USD']] as const) {
      expect(scopeOfKey(scopeKeyOf(type, id))).toEqual(id === undefined ? { type } : { type, id });
    }
  });

  it('read a key without a colon (a restored entry) as that type, not one a character short', () => {
    expect(scopeOfKey('account')).toEqual({ type: 'account' });
  });
});
