import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { AppContext } from '../context.ts';
import type { Metrics } from './metrics.ts';

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * `GET /metrics`: Prometheus text. With a token configured, only `Authorization: Bearer <token>`
 * reads it (compared in constant time); 401 otherwise, saying nothing about the metrics.
 */
export function metricsHandler(metrics: Metrics, token: string | undefined): (c: Context) => Promise<Response> {
  const expected = token === undefined ? undefined : sha256(token);
  return async (c) => {
    if (expected) {
      const presented = /^Bearer ([^\s]+)$/i.exec(c.req.header('Authorization') ?? '')?.[1];
      if (presented === undefined || !timingSafeEqual(sha256(presented), expected)) {
        return c.json({ error: 'invalid_token', error_description: 'Send the metrics token as a bearer token.' }, 401, {
          'WWW-Authenticate': 'Bearer realm="metrics"',
          'Cache-Control': 'no-store',
        });
      }
    }
    return c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
  };
}

/** On the main app, unless metrics are off or served on their own listener (`metrics.port`). */
export function mountMetrics(app: Hono, ctx: AppContext): void {
  if (!ctx.metrics || ctx.config.metrics.port !== undefined) return;
  app.get('/metrics', metricsHandler(ctx.metrics, ctx.config.metrics.token));
}

/** The app of the separate metrics listener: `/metrics` and nothing else. */
export function createMetricsApp(ctx: AppContext): Hono | null {
  if (!ctx.metrics) return null;
  const app = new Hono();
  app.get('/metrics', metricsHandler(ctx.metrics, ctx.config.metrics.token));
  app.notFound((c) => c.json({ error: 'not_found', error_description: 'Only /metrics is served here.' }, 404));
  return app;
}
