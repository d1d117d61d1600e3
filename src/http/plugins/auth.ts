import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Role } from '../../config/schema.js';
import { ProblemError } from '../problems.js';

export interface TokenConfig {
  readonly name: string;
  readonly sha256: string;
  readonly roles: readonly Role[];
}

export interface Principal {
  readonly name: string;
  readonly roles: ReadonlySet<Role>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The role a route needs; routes without one are public (health, readiness, metrics). */
    role?: Role;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

interface KnownToken {
  readonly digest: Buffer;
  readonly principal: Principal;
}

/** admin ⊇ ops: an admin reads everything ops reads. Gateway is separate on purpose. */
const grants = (roles: ReadonlySet<Role>, needed: Role): boolean =>
  roles.has(needed) || (needed === 'ops' && roles.has('admin'));

/**
 * Bearer tokens checked against SHA-256 digests from config. The digest of the presented
 * token is compared with every known digest in constant time, so timing says nothing about
 * how much of a token matched or which one.
 */
export const authPlugin = fp(
  (app: FastifyInstance, options: { enabled: boolean; tokens: readonly TokenConfig[] }) => {
    const known: KnownToken[] = options.tokens.map((t) => ({
      digest: Buffer.from(t.sha256, 'hex'),
      principal: { name: t.name, roles: new Set(t.roles) },
    }));
    app.decorateRequest('principal', undefined);
    app.addHook('onRequest', (request: FastifyRequest, _reply, done) => {
      const needed = request.routeOptions.config.role;
      if (needed === undefined || !options.enabled) return done();
      const principal = authenticate(request.headers.authorization, known);
      if (principal === undefined) return done(new ProblemError('unauthorized', 'send authorization: Bearer <token>'));
      if (!grants(principal.roles, needed)) return done(new ProblemError('forbidden', `this route needs the ${needed} role`));
      request.principal = principal;
      done();
    });
  },
  { name: 'auth' },
);

function authenticate(header: string | undefined, known: readonly KnownToken[]): Principal | undefined {
  // The auth scheme is case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` are fine.
  if (header === undefined || header.length < 7 || header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = header.slice(7).trim();
  if (token.length === 0 || token.length > 512) return undefined;
  const digest = createHash('sha256').update(token).digest();
  let found: Principal | undefined;
  for (const candidate of known) {
    if (timingSafeEqual(candidate.digest, digest)) found = candidate.principal;
  }
  return found;
}
