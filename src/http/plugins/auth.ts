import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import type { Role } from '../../config/schema.js';
import { jsonSchemaOf } from '../json-schema.js';
import { ProblemError } from '../problems.js';
import type { ResponseHeaders } from '../schema-docs.js';

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

/** A token outside the config that is valid only while `isActive` (the HTTP warm-up's). */
export interface TransientPass {
  readonly digest: Buffer;
  readonly principal: Principal;
  readonly isActive: boolean;
}

/** What a connection last authenticated with: a keep-alive gateway sends the same header on every request. */
interface Remembered {
  readonly header: string;
  readonly principal: Principal;
}

/**
 * Bearer tokens checked against SHA-256 digests from config. The digest of the presented
 * token is compared with every known digest in constant time, so timing says nothing about
 * how much of a token matched or which one.
 *
 * Hashing costs more than the rest of the auth step, so each connection remembers the header
 * it last authenticated with and skips the hash when the next request presents the same one;
 * that comparison is constant-time too. Tokens are fixed for the life of the process.
 */
export const authPlugin = fp(
  (app: FastifyInstance, options: { enabled: boolean; tokens: readonly TokenConfig[]; transient?: TransientPass }) => {
    const known: KnownToken[] = options.tokens.map((t) => ({
      digest: Buffer.from(t.sha256, 'hex'),
      principal: { name: t.name, roles: new Set(t.roles) },
    }));
    const transient = options.transient;
    const byConnection = new WeakMap<object, Remembered>();
    app.decorateRequest('principal', undefined);
    app.addHook('onRequest', (request: FastifyRequest, reply, done) => {
      const needed = request.routeOptions.config.role;
      if (needed === undefined) return done();
      const header = request.headers.authorization;
      if (!options.enabled) {
        // Without auth every caller is anonymous; only the warm-up still needs to be told apart.
        if (transient?.isActive === true) request.principal = authenticate(header, [], transient);
        return done();
      }
      const socket = request.raw.socket as object | undefined;
      const remembered = socket === undefined ? undefined : byConnection.get(socket);
      let principal: Principal | undefined;
      if (remembered !== undefined && header !== undefined && sameText(remembered.header, header)) {
        principal = remembered.principal;
      } else {
        principal = authenticate(header, known, transient);
        if (principal !== undefined && header !== undefined && socket !== undefined && principal !== transient?.principal) {
          byConnection.set(socket, { header, principal });
        }
      }
      if (principal === undefined) {
        reply.header('www-authenticate', challenge(header));
        return done(new ProblemError('unauthorized', 'send authorization: Bearer <token>'));
      }
      if (!grants(principal.roles, needed)) return done(new ProblemError('forbidden', `this route needs the ${needed} role`));
      request.principal = principal;
      done();
    });
  },
  { name: 'auth' },
);

/** What every 401 carries (see challenge), for openapi.yaml: a client learns from it how to authenticate. */
export const UNAUTHORIZED_HEADERS: ResponseHeaders = {
  'WWW-Authenticate': {
    description: 'The Bearer challenge: `Bearer`, or `Bearer error="invalid_token"` when the bearer token sent is not one the service knows',
    required: true,
    schema: jsonSchemaOf(z.string()),
  },
};

/**
 * The WWW-Authenticate challenge a 401 must carry (RFC 9110 §15.5.2): the Bearer scheme, with
 * `error="invalid_token"` when a bearer token was sent and is not one we know (RFC 6750 §3.1;
 * without credentials, or with another scheme, no error code).
 */
function challenge(header: string | undefined): string {
  const hasBearerToken = header !== undefined && header.length > 7 && header.slice(0, 7).toLowerCase() === 'bearer ' && header.slice(7).trim().length > 0;
  return hasBearerToken ? 'Bearer error="invalid_token"' : 'Bearer';
}

function authenticate(header: string | undefined, known: readonly KnownToken[], transient: TransientPass | undefined): Principal | undefined {
  // The auth scheme is case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` are fine.
  if (header === undefined || header.length < 7 || header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = header.slice(7).trim();
  if (token.length === 0 || token.length > 512) return undefined;
  const digest = createHash('sha256').update(token).digest();
  let found: Principal | undefined;
  for (const candidate of known) {
    if (timingSafeEqual(candidate.digest, digest)) found = candidate.principal;
  }
  if (transient?.isActive === true && timingSafeEqual(transient.digest, digest)) found = transient.principal;
  return found;
}

/** String equality whose time depends only on the lengths, not on where the texts differ. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
