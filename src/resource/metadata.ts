import type { Hono } from 'hono';
import type { ResourceServer } from './resource-server.ts';
import { withoutOfflineAccess } from './scopes.ts';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** RFC 9728 §2 Protected Resource Metadata, the fields this project fills in. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: ['header'];
  resource_name?: string;
  resource_documentation?: string;
  /** RFC 9728 §2 / RFC 9449 §7: the DPoP proof algorithms this resource accepts. */
  dpop_signing_alg_values_supported?: string[];
  /** RFC 9728 §2: present (true) when bearer tokens are refused and every token must be DPoP-bound. */
  dpop_bound_access_tokens_required?: true;
}

/**
 * RFC 9728 §3.1: the well-known segment goes between the resource's origin and its path, so
 * `https://host/mcp` has its metadata at `https://host/.well-known/oauth-protected-resource/mcp`.
 */
export function protectedResourceMetadataPathFor(resource: string): string {
  const path = new URL(resource).pathname;
  return WELL_KNOWN + (path === '/' ? '' : path);
}

/** The absolute PRM URL of `resource`, as it appears in `WWW-Authenticate: Bearer resource_metadata="…"`. */
export function protectedResourceMetadataUrlFor(resource: string): string {
  return new URL(resource).origin + protectedResourceMetadataPathFor(resource);
}

/**
 * Where the PRM is served: the path-inserted location `resource_metadata` points to, and the root
 * (clients that probe it, MCP RS-03b), each with and without a trailing slash (RS-20).
 */
export function protectedResourceMetadataPaths(resource: string): string[] {
  const pathInserted = protectedResourceMetadataPathFor(resource);
  return [...new Set([pathInserted, `${pathInserted}/`, WELL_KNOWN, `${WELL_KNOWN}/`])];
}

export function protectedResourceMetadataDocument(options: {
  resource: string;
  authorizationServers: readonly string[];
  scopesSupported?: readonly string[];
  resourceName?: string;
  resourceDocumentation?: string;
  /** What the resource accepts of DPoP (RFC 9449). */
  dpop?: { readonly required: boolean; readonly algorithms: readonly string[] };
}): ProtectedResourceMetadata {
  return {
    // RS-26: byte-identical to the URL clients use for the MCP endpoint, and to the tokens' `aud`.
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    // RS-16: offline_access is the authorization server's business, not a permission of this resource.
    ...(options.scopesSupported ? { scopes_supported: withoutOfflineAccess(options.scopesSupported) } : {}),
    bearer_methods_supported: ['header'],
    ...(options.resourceName !== undefined ? { resource_name: options.resourceName } : {}),
    ...(options.resourceDocumentation !== undefined ? { resource_documentation: options.resourceDocumentation } : {}),
    ...(options.dpop ? { dpop_signing_alg_values_supported: [...options.dpop.algorithms] } : {}),
    ...(options.dpop?.required ? { dpop_bound_access_tokens_required: true as const } : {}),
  };
}

/** The all-in-one server's PRM URL (`config.resource`'s). */
export function protectedResourceMetadataUrl(config: { readonly resource: string }): string {
  return protectedResourceMetadataUrlFor(config.resource);
}

/**
 * Serves the server's PRM through its resource guard's `metadataResponse`, the same handler the
 * framework adapters use, so the app and the library answer identically. (CORS for `/.well-known/*`
 * is also applied in http/app.ts, which reflects the caller's Origin.)
 */
export function mountProtectedResourceMetadata(app: Hono, guard: Pick<ResourceServer, 'metadataPaths' | 'metadataResponse'>): void {
  for (const path of guard.metadataPaths) app.get(path, (c) => guard.metadataResponse(c.req.raw) ?? c.notFound());
}
