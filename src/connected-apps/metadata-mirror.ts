import type { Hono } from 'hono';
import type { StytchAuthorizationPage } from '../config/stytch-authorization-page.ts';
import type { AppContext } from '../context.ts';
import { asObject, fetchJson } from '../resource/verifiers/fetch-json.ts';
import { VerifierUnavailableError } from '../resource/types.ts';

/** How long the copy is served before Stytch is asked again. */
const MIRROR_TTL_MS = 5 * 60_000;

/**
 * Back-compat for MCP clients of the 2025-03-26 revision, which look for the authorization server's
 * metadata at the MCP server's own origin (no Protected Resource Metadata then): serves the Stytch
 * project's RFC 8414 document here, as Stytch's example MCP servers do. A copy, fetched and kept for
 * five minutes, so that it always says what Stytch says (its `authorization_endpoint` is the
 * Authorization URL set in the dashboard, i.e. this server's page). Stytch unreachable: 503.
 */
export function mountStytchMetadataMirror(app: Hono, ctx: AppContext, settings: StytchAuthorizationPage): void {
  const source = `${settings.issuer}/.well-known/oauth-authorization-server`;
  let cached: { document: Record<string, unknown>; until: number } | null = null;
  app.get('/.well-known/oauth-authorization-server', async (c) => {
    const now = ctx.clock.now();
    if (!cached || cached.until <= now) {
      try {
        const { status, body } = await fetchJson(ctx.fetch, source);
        const document = asObject(body);
        if (status !== 200 || !document || document['issuer'] !== settings.issuer) throw new VerifierUnavailableError(`${source} answered ${status}`);
        cached = { document, until: now + MIRROR_TTL_MS };
      } catch (error) {
        if (!(error instanceof VerifierUnavailableError)) throw error;
        ctx.logger.warn('stytch metadata unavailable', { detail: error.message });
        if (!cached) return c.json({ error: 'temporarily_unavailable', error_description: 'The authorization server metadata could not be fetched. Try again later.' }, 503);
      }
    }
    return c.json(cached!.document, 200, { 'Cache-Control': 'max-age=300' });
  });
}
