import type { Hono } from 'hono';
import type { AppContext } from '../context.ts';

/** `/healthz`: the process answers. `/readyz`: and its storage does too. */
export function mountHealth(app: Hono, ctx: AppContext): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }, 200, { 'Cache-Control': 'no-store' }));
  app.get('/readyz', async (c) => {
    const ok = await ctx.storage.ping();
    return c.json({ status: ok ? 'ok' : 'unavailable' }, ok ? 200 : 503, { 'Cache-Control': 'no-store' });
  });
}
