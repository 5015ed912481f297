import type { Hono } from 'hono';
import type { ResolvedConfig } from '../config/resolve.ts';
import type { AppContext } from '../http/context.ts';
import { resourceScopes } from './scopes.ts';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** RFC 9728 §3.1: the well-known segment goes between the origin and the resource's path. */
export function protectedResourceMetadataPath(config: Pick<ResolvedConfig, 'mcpPath'>): string {
  return WELL_KNOWN + config.mcpPath;
}

/** The absolute PRM URL, as it appears in `WWW-Authenticate: Bearer resource_metadata="…"`. */
export function protectedResourceMetadataUrl(config: Pick<ResolvedConfig, 'issuer' | 'mcpPath'>): string {
  return config.issuer + protectedResourceMetadataPath(config);
}

/** RFC 9728 §2 Protected Resource Metadata for the MCP endpoint. */
export function protectedResourceMetadata(config: ResolvedConfig): Record<string, unknown> {
  return {
    // RS-26: byte-identical to the URL clients use for the MCP endpoint, and to the tokens' `aud`.
    resource: config.resource,
    authorization_servers: [config.issuer],
    // RS-16: offline_access is the authorization server's business, not a permission of this resource.
    scopes_supported: resourceScopes(config.scopes.map((s) => s.name)),
    bearer_methods_supported: ['header'],
    resource_name: config.serverName,
  };
}

/**
 * Serves the PRM at the path-inserted location (what `resource_metadata` points to) and at the root
 * (clients that probe it, RS-03b), each with or without a trailing slash. CORS for `/.well-known/*`
 * is applied in http/app.ts.
 */
export function mountProtectedResourceMetadata(app: Hono, ctx: AppContext): void {
  const document = protectedResourceMetadata(ctx.config);
  const serve = () => Response.json(document, { headers: { 'Cache-Control': 'public, max-age=3600' } });
  const pathInserted = protectedResourceMetadataPath(ctx.config);
  for (const path of [pathInserted, `${pathInserted}/`, WELL_KNOWN, `${WELL_KNOWN}/`]) app.get(path, serve);
}
