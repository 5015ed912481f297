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

/**
 * Phase 2: the protected resource the token will be for (its `aud`). Absent → this server's MCP
 * endpoint (SDK clients omit it when they did not read the PRM). Present → it must name that endpoint,
 * else `invalid_target`. RFC 8707 §2 lets `resource` repeat; every value must name this server.
 */
export function checkResource(params: RequestParams, ourResource: string): string {
  const expected = canonicalResource(ourResource);
  for (const value of params.all('resource')) {
    if (canonicalResource(value) !== expected) {
      throw new OAuthError('invalid_target', `The resource ${quoteForDescription(value, 120)} is not served by this authorization server; use ${ourResource}.`, {
        redirectable: true,
      });
    }
  }
  return ourResource;
}
