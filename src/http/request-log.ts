import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { AppContext } from '../context.ts';
import { secondsSince } from '../metrics/metrics.ts';

/** What handlers learn about a request that its log line should carry. */
export interface RequestNotes {
  /** The client the request is for or from: authenticated at the token endpoint, named elsewhere. */
  clientId?: string;
  /** The OAuth error code the request was answered with. */
  error?: string;
}

const NOTES = 'requestNotes';

/** This request's notes, for a handler to fill in (a fresh object outside the request log, e.g. in a bare test app). */
export function requestNotes(c: Context): RequestNotes {
  const notes = (c.var as Record<string, RequestNotes | undefined>)[NOTES];
  if (notes) return notes;
  const fresh: RequestNotes = {};
  c.set(NOTES as never, fresh as never);
  return fresh;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/**
 * The pattern of the route that answered (`/authorize`, `/mcp`, `/.well-known/oauth-protected-resource/*`):
 * handlers take one argument, middleware two. `unmatched` when no route did (a 404).
 */
function routeOf(c: Context): string {
  const handlers = matchedRoutes(c).filter((r) => r.handler.length < 2);
  return handlers.at(-1)?.path ?? 'unmatched';
}

/**
 * One log line per request (design.md, Operations): method, path (never the query, where codes and
 * states travel), status, duration, and the client when a handler named it; with metrics on, the
 * request counter and duration histogram by route pattern.
 */
export function requestLog(ctx: Pick<AppContext, 'logger' | 'metrics'>): MiddlewareHandler {
  return async (c, next) => {
    const start = performance.now();
    const notes = requestNotes(c);
    await next();
    const seconds = secondsSince(start);
    const status = c.res.status;
    // A load balancer's health probes every few seconds would drown the other lines: logged at debug while healthy.
    const level = status === 200 && (c.req.path === '/healthz' || c.req.path === '/readyz') ? 'debug' : 'info';
    ctx.logger[level]('request', {
      method: c.req.method,
      path: c.req.path.slice(0, 200),
      status,
      duration_ms: Math.round(seconds * 10_000) / 10,
      ...(notes.clientId !== undefined ? { client_id: notes.clientId.slice(0, 200) } : {}),
      ...(notes.error !== undefined ? { error: notes.error } : {}),
    });
    if (ctx.metrics) {
      const route = routeOf(c);
      ctx.metrics.requests.inc({ route, method: METHODS.has(c.req.method) ? c.req.method : 'OTHER', status: String(status) });
      ctx.metrics.requestSeconds.observe({ route }, seconds);
    }
  };
}
