import type { AuthInfo } from '@modelcontextprotocol/server';
import type { JWTPayload } from 'jose';
import type { Principal } from '../resource/guard.ts';
import type { ToolPrincipal } from './tools/registry.ts';

/** Parsed once per resource, not per request: nothing in the SDK or our tools writes to it. */
const resourceUrls = new Map<string, URL>();
function resourceUrl(resource: string): URL {
  let url = resourceUrls.get(resource);
  if (!url) resourceUrls.set(resource, (url = new URL(resource)));
  return url;
}

/**
 * The SDK's AuthInfo for a verified principal. The SDK passes it through untouched to the server
 * factory and to every handler (`ctx.http.authInfo`); `extra` carries what tools need beyond it.
 */
export function authInfoFor(principal: Principal, resource: string, resourceMetadataUrl: string): AuthInfo {
  return {
    token: principal.token,
    clientId: principal.clientId,
    scopes: [...principal.scopes],
    expiresAt: principal.expiresAt,
    resource: resourceUrl(resource),
    resourceMetadataUrl,
    extra: { subject: principal.subject, claims: principal.claims },
  };
}

/** The caller as tools see it, or undefined when the request was not authenticated by the endpoint. */
export function toolPrincipalFrom(authInfo: AuthInfo | undefined): ToolPrincipal | undefined {
  const subject = authInfo?.extra?.['subject'];
  const claims = authInfo?.extra?.['claims'];
  if (!authInfo || typeof subject !== 'string' || typeof claims !== 'object' || claims === null) return undefined;
  return { subject, clientId: authInfo.clientId, scopes: authInfo.scopes, claims: claims as JWTPayload };
}
