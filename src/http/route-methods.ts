import type { RecordedRoute } from './openapi.js';

/** A route's URL pattern as a test on a request path: `:param` is one segment, `*` the rest. */
function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

/**
 * Which methods each path answers, so that a wrong method on a real resource is a 405 that
 * says what is allowed (RFC 9110 §15.5.6), not a 404 that says the resource is not there.
 * Reads the routes recorded for the OpenAPI document (HEAD included), as they are added.
 */
export class RouteMethods {
  private compiled: { pattern: RegExp; method: string }[] = [];

  constructor(private readonly routes: readonly RecordedRoute[]) {}

  /** The methods some route answers on `path` (no query string), sorted; empty if none does. */
  allowedOn(path: string): string[] {
    if (this.compiled.length !== this.routes.length) {
      this.compiled = this.routes.map((r) => ({ pattern: patternOf(r.url), method: r.method.toUpperCase() }));
    }
    const methods = new Set<string>();
    for (const { pattern, method } of this.compiled) if (pattern.test(path)) methods.add(method);
    return [...methods].sort();
  }
}
