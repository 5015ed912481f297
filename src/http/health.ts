import type { Hono } from 'hono';
import type { AppContext } from '../context.ts';

type Readiness = 'ok' | 'unavailable' | 'read_only';

const DETAIL: Record<Readiness, string> = {
  ok: 'Ready.',
  unavailable: 'The database does not answer (PORTCULLIS_DATABASE).',
  read_only: 'The database takes no writes (PORTCULLIS_DATABASE): sign-ins and token requests would fail.',
};

/**
 * `/healthz`: the process answers. `/readyz`: and its database answers and takes writes (a write is
 * tried and rolled back), so a load balancer stops sending sign-ins to an instance on a read-only
 * database. The public answer says which; the database's own reason goes to the log, once per change.
 */
export function mountHealth(app: Hono, ctx: AppContext): void {
  let last: Readiness = 'ok';
  app.get('/healthz', (c) => c.json({ status: 'ok' }, 200, { 'Cache-Control': 'no-store' }));
  app.get('/readyz', async (c) => {
    const answers = await ctx.storage.ping();
    const problem = answers ? await ctx.storage.writeProblem() : null;
    const now: Readiness = !answers ? 'unavailable' : problem !== null ? 'read_only' : 'ok';
    if (now !== last) {
      if (now === 'ok') ctx.logger.info('ready again: the database answers and takes writes');
      else ctx.logger.warn(`not ready: ${DETAIL[now]}`, problem === null ? {} : { reason: problem });
      last = now;
    }
    return c.json(now === 'ok' ? { status: 'ok' } : { status: now, detail: DETAIL[now] }, now === 'ok' ? 200 : 503, { 'Cache-Control': 'no-store' });
  });
}
