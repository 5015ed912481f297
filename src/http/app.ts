import { Hono } from 'hono';
import { mountAccount } from '../account/account.ts';
import { mountAdmin } from '../admin/routes.ts';
import { mountAuthorization } from '../authorization/endpoints/authorize.ts';
import { mountIntrospection } from '../authorization/endpoints/introspect.ts';
import { mountJwks } from '../authorization/endpoints/jwks.ts';
import { mountDiscovery } from '../authorization/endpoints/metadata.ts';
import { mountRegistration } from '../authorization/endpoints/register.ts';
import { mountRevocation } from '../authorization/endpoints/revoke.ts';
import { mountToken } from '../authorization/endpoints/token.ts';
import { mountUserinfo } from '../authorization/endpoints/userinfo.ts';
import { isOAuthError } from '../errors/oauth-error.ts';
import { stytchAuthorizationPage } from '../config/stytch-authorization-page.ts';
import { mountStytchAuthorizationPage } from '../connected-apps/authorization-page.ts';
import { mountStytchMetadataMirror } from '../connected-apps/metadata-mirror.ts';
import { renderErrorJson } from '../errors/render.ts';
import { mountMetrics } from '../metrics/endpoint.ts';
import { mountMcpEndpoint } from '../mcp/endpoint.ts';
import { createMcpResourceGuard, isResourceOnly } from '../resource/external.ts';
import { mountProtectedResourceMetadata } from '../resource/metadata.ts';
import type { AppContext } from '../context.ts';
import type { McpBackend } from '../mcp/backend.ts';
import { resolveClientAddress } from './client-address.ts';
import { corsFor } from './cors.ts';
import { mountHealth } from './health.ts';
import { requestLog, requestNotes } from './request-log.ts';
import { mountLanding } from './landing.ts';

/** Paths that browser-based MCP clients fetch cross-origin. /authorize and the pages are not among them. */
const CORS_PATHS = ['/.well-known/*', '/jwks', '/token', '/register', '/revoke', '/userinfo'];

/**
 * The whole server as one web-standard app: `app.fetch(request) → response` on Node or Workers.
 * `mcp` serves the MCP endpoint; it is its creator's to close (src/portcullis.ts).
 */
export function createApp(ctx: AppContext, mcp: McpBackend): Hono {
  const app = new Hono();

  app.use('*', requestLog(ctx));
  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
  });
  // Without trusted proxies there is nothing to resolve (`clientAddress` reads the socket): no layer per request.
  if (ctx.config.trustedProxies.length > 0) app.use('*', resolveClientAddress(ctx.config.trustedProxies));
  for (const path of CORS_PATHS) app.use(path, corsFor());

  // One guard for the PRM and the endpoint: it names the authorization server and holds the token cache.
  const guard = createMcpResourceGuard(ctx);
  mountHealth(app, ctx);
  mountMetrics(app, ctx);
  mountLanding(app, ctx);
  mountProtectedResourceMetadata(app, guard);
  // Resource-only mode: another server is the authorization server, so none of ours is reachable
  // (its metadata 404s, and clients go where the PRM's authorization_servers sends them).
  if (!isResourceOnly(ctx.config)) {
    mountDiscovery(app, ctx);
    mountJwks(app, ctx);
    mountRegistration(app, ctx);
    mountAuthorization(app, ctx);
    mountToken(app, ctx);
    mountRevocation(app, ctx);
    mountIntrospection(app, ctx);
    mountUserinfo(app, ctx);
    mountAccount(app, ctx);
    mountAdmin(app, ctx);
  }
  // Resource-only mode with Stytch: the Authorization URL page Stytch sends clients to, and its metadata here.
  const stytchPage = stytchAuthorizationPage(ctx.config);
  if (stytchPage) {
    mountStytchAuthorizationPage(app, ctx, stytchPage);
    mountStytchMetadataMirror(app, ctx, stytchPage);
    // Stytch checks the Trusted Auth Tokens of local sign-in against these keys.
    if (stytchPage.signIn.kind === 'local' || stytchPage.signIn.kind === 'oidc') mountJwks(app, ctx);
  }
  mountMcpEndpoint(app, ctx, { guard, backend: mcp });

  app.notFound((c) => c.json({ error: 'not_found', error_description: 'No such endpoint.' }, 404));
  app.onError((error, c) => {
    const notes = requestNotes(c);
    notes.error = isOAuthError(error) ? error.code : 'server_error';
    const context = { method: c.req.method, path: c.req.path, ...(notes.clientId !== undefined ? { client_id: notes.clientId } : {}) };
    return renderErrorJson(error, ctx.logger, context, c.req.raw);
  });
  return app;
}
