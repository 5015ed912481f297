import type { Hono } from 'hono';
import { branding, htmlResponse } from '../authorization/authorize/pages.ts';
import type { AppContext } from '../context.ts';
import { isResourceOnly } from '../resource/external.ts';
import { protectedResourceMetadataUrlFor } from '../resource/metadata.ts';
import { connectSnippets, renderLandingPage } from '../ui/index.ts';

/**
 * `/`: a page for a person in a browser (the server's name, its MCP URL, how to connect the common
 * clients, whether it is up), JSON for a program. Browsers ask for text/html; anything else (curl's
 * `*\/*`, `application/json`, no Accept at all) gets JSON, so scripts keep getting JSON.
 */
export function mountLanding(app: Hono, ctx: AppContext): void {
  app.get('/', async (c) => {
    const ready = await ctx.storage.ping();
    if (wantsHtml(c.req.header('Accept'))) {
      const page = renderLandingPage({
        branding: branding(ctx.config),
        mcpUrl: ctx.config.resource,
        ready,
        connect: connectSnippets(ctx.config.resource, ctx.config.serverName),
        https: new URL(ctx.config.resource).protocol === 'https:',
        ...(isResourceOnly(ctx.config) ? {} : { accountUrl: '/account' }),
      });
      return htmlResponse(ctx, page, 200, new Headers({ Vary: 'Accept' }));
    }
    return c.json(
      {
        name: ctx.config.serverName,
        mcp_endpoint: ctx.config.resource,
        protected_resource_metadata: protectedResourceMetadataUrlFor(ctx.config.resource),
        ...(isResourceOnly(ctx.config) ? {} : { issuer: ctx.config.issuer }),
        status: ready ? 'ok' : 'unavailable',
      },
      200,
      { 'Cache-Control': 'no-store', Vary: 'Accept' },
    );
  });
}

/** True when the client ranks text/html above JSON: a browser's navigation. */
export function wantsHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const quality = (type: string): number => {
    let best = 0;
    for (const part of accept.split(',')) {
      const [range = '', ...params] = part.trim().toLowerCase().split(';');
      if (range !== type) continue;
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      best = Math.max(best, q ? Number(q.slice(2)) || 0 : 1);
    }
    return best;
  };
  return quality('text/html') > 0 && quality('text/html') >= quality('application/json');
}
