import type { Aggregation } from './enums.js';
import { IdentifierSchema } from './orders.js';

/** The parts of an order that aggregation keys are built from. */
export interface KeyParts {
  readonly accountId: string;
  readonly strategyId: string;
  readonly symbol: string;
}

/**
 * The key a limit's state lives under inside one limit (rate windows): unique within one
 * aggregation, not across them. Plain ids allocate nothing; only composite keys concatenate.
 */
export function localKey(per: Aggregation, parts: KeyParts): string {
  switch (per) {
    case 'global':
      return '';
    case 'account':
      return parts.accountId;
    case 'strategy':
      return parts.strategyId;
    case 'symbol':
      return parts.symbol;
    case 'account+symbol':
      return parts.accountId + '|' + parts.symbol;
    case 'strategy+symbol':
      return parts.strategyId + '|' + parts.symbol;
  }
}

/**
 * The global name of a scope: what violations report as `key` and trading states are set
 * on, e.g. `global`, `account:ACC-1`, `account+symbol:ACC-1|AAPL`.
 */
export function scopeKey(per: Aggregation, parts: KeyParts): string {
  return per === 'global' ? 'global' : per + ':' + localKey(per, parts);
}

export function scopeKeyOf(type: Aggregation, id: string | undefined): string {
  return type === 'global' ? 'global' : type + ':' + (id ?? '');
}

/** A scope key as `type` and `id` (none for `global`): what scopeKeyOf was given. */
export function scopeOfKey(key: string): { type: Aggregation; id?: string } {
  if (key === 'global') return { type: 'global' };
  const colon = key.indexOf(':');
  if (colon < 0) return { type: key as Aggregation };
  // Ids may hold a colon; types never do.
  return { type: key.slice(0, colon) as Aggregation, id: key.slice(colon + 1) };
}

/** Whether `id` names a scope of this type: one identifier, or `<id>|<symbol>` for composites. */
export function isScopeId(type: Aggregation, id: string): boolean {
  const parts = id.split('|');
  const isComposite = type === 'account+symbol' || type === 'strategy+symbol';
  return parts.length === (isComposite ? 2 : 1) && parts.every((part) => IdentifierSchema.safeParse(part).success);
}
