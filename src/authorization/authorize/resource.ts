import { OAuthError } from '../../errors/oauth-error.ts';
import { quoteForDescription, type RequestParams } from './params.ts';

/**
 * RFC 8707 / RS-20 canonical form for comparison: scheme and host lower-cased (URL parsing does it, and
 * drops a default port), one trailing slash ignored. Returns null for anything that is not an absolute
 * URI without a fragment (RFC 8707 §2).
 */
export function canonicalResource(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (value.includes('#')) return null;
  const text = url.href;
  return url.pathname !== '/' && text.endsWith('/') && !url.search ? text.slice(0, -1) : text;
}

/** Whether two resource indicators name the same resource, compared in canonical form (RS-20). */
export function sameResource(a: string, b: string): boolean {
  const canonical = canonicalResource(a);
  return canonical !== null && canonical === canonicalResource(b);
}

/**
 * Phase 2: the protected resource the token will be for (its `aud`). Absent → this server's MCP
 * endpoint (SDK clients omit it when they did not read the PRM). Present → it must name that endpoint
 * or one of `otherResources` (the `resources` setting), else `invalid_target`. RFC 8707 §2 lets
 * `resource` repeat; a token here has one audience, so every value must name the same resource.
 * Returns the resource as configured, whatever spelling the client used.
 */
export function checkResource(params: RequestParams, ourResource: string, otherResources: readonly string[] = []): string {
  const allowed = [ourResource, ...otherResources];
  let chosen: string | undefined;
  for (const value of params.all('resource')) {
    const match = allowed.find((r) => sameResource(r, value));
    if (match === undefined) {
      throw new OAuthError('invalid_target', `The resource ${quoteForDescription(value, 120)} is not served by this authorization server; use ${ourResource}.`, {
        redirectable: true,
      });
    }
    if (chosen !== undefined && chosen !== match) {
      throw new OAuthError('invalid_target', 'Ask for one resource per authorization request: a token here is for a single resource.', { redirectable: true });
    }
    chosen = match;
  }
  return chosen ?? ourResource;
}
