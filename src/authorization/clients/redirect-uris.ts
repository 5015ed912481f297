import { LOOPBACK_HOSTS } from '../../util/loopback.ts';

/**
 * Redirect URI rules (MCP AS-22/AS-23, OAuth 2.1 §2.3.1, RFC 8252 §7.1–7.3): https anywhere, http only on
 * a loopback host, or a private-use scheme of a native app. No fragments, no wildcards. Matching is exact,
 * except that a loopback http URI matches on any port.
 */

export type RedirectUriKind = 'https' | 'loopback' | 'private-use';

/** Classifies a redirect URI, or returns a reason it is not acceptable. */
export function classifyRedirectUri(value: string): { kind: RedirectUriKind } | { error: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { error: `${value} is not an absolute URI` };
  }
  if (value.includes('#')) return { error: 'redirect URIs must not contain a fragment' };
  if (value.includes('*')) return { error: 'redirect URIs must not contain wildcards' };
  if (url.username || url.password) return { error: 'redirect URIs must not contain credentials' };
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'https') return url.hostname ? { kind: 'https' } : { error: 'https redirect URIs need a host' };
  if (scheme === 'http') {
    return LOOPBACK_HOSTS.has(url.hostname) ? { kind: 'loopback' } : { error: 'http redirect URIs are allowed only on localhost, 127.0.0.1 or [::1]' };
  }
  // RFC 8252 §7.1: private-use schemes should be reverse-domain names (cursor://, vscode:// and
  // claude:// are what MCP clients really use, so a dot is not required), never a web or script scheme.
  if (['javascript', 'data', 'file', 'blob', 'vbscript', 'about', 'ws', 'wss', 'ftp'].includes(scheme)) {
    return { error: `the ${scheme}: scheme cannot be a redirect URI` };
  }
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) return { error: `${scheme}: is not a valid URI scheme` };
  return { kind: 'private-use' };
}

/** Does the URI in an authorization request match one that was registered? */
export function redirectUriMatches(requested: string, registered: string): boolean {
  if (requested === registered) return true;
  let a: URL, b: URL;
  try {
    a = new URL(requested);
    b = new URL(registered);
  } catch {
    return false;
  }
  // RFC 8252 §7.3: any port on the same loopback host; everything else still exact.
  if (a.protocol !== 'http:' || b.protocol !== 'http:' || !LOOPBACK_HOSTS.has(a.hostname)) return false;
  if (requested.includes('#')) return false;
  return a.hostname === b.hostname && a.pathname === b.pathname && a.search === b.search && !a.username && !a.password;
}

export function findRegisteredRedirectUri(requested: string, registered: readonly string[]): string | undefined {
  return registered.find((r) => redirectUriMatches(requested, r));
}

/** AS-15: a client whose every redirect goes to this computer deserves a warning on the consent page. */
export function allLoopback(uris: readonly string[]): boolean {
  return uris.length > 0 && uris.every((u) => {
    const c = classifyRedirectUri(u);
    return 'kind' in c && c.kind === 'loopback';
  });
}
