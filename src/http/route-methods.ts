import type { FastifyInstance, RouteOptions } from 'fastify';

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
 */
export class RouteMethods {
  private readonly routes: { pattern: RegExp; method: string }[] = [];

  /** Records every route added to `app` from now on (the HEAD routes Fastify adds for GETs too). */
  static watch(app: FastifyInstance): RouteMethods {
    const table = new RouteMethods();
    app.addHook('onRoute', (route: RouteOptions) => {
      for (const method of Array.isArray(route.method) ? route.method : [route.method]) table.routes.push({ pattern: patternOf(route.url), method });
    });
    return table;
  }

  /** The methods some route answers on `path` (no query string), sorted; empty if none does. */
  allowedOn(path: string): string[] {
    const methods = new Set<string>();
    for (const { pattern, method } of this.routes) if (pattern.test(path)) methods.add(method);
    return [...methods].sort();
  }
}
