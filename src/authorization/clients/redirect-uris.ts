import { LOOPBACK_HOSTS } from '../../util/loopback.ts';

/**
 * Redirect URI rules (MCP AS-22/AS-23, OAuth 2.1 §2.3.1, RFC 8252 §7.1–7.3): https anywhere, http only on
 * a loopback host, or a private-use scheme of a native app. No fragments, no wildcards. Matching is exact,
 * except that a loopback http URI matches on any port.
 */

export type RedirectUriKind = 'https' | 'loopback' | 'private-use';

/**
 * Schemes a browser hands to a website, to another browser or to script, never to the native app a
 * private-use scheme stands for (HARD-5): `web+x://claude.ai/cb` would open a web page of whoever
 * registered the handler, and `googlechrome://evil.example` another browser at any site.
 */
const REFUSED_SCHEMES = new Set([
  'javascript', 'data', 'vbscript', 'file', 'blob', 'about', 'filesystem', 'view-source', 'ws', 'wss', 'ftp',
  'intent', 'android-app', 'chrome', 'googlechrome', 'googlechromes', 'firefox', 'opera', 'brave', 'edge', 'microsoft-edge',
  'safari', 'x-safari-https', 'x-safari-http', 'vivaldi', 'duckduckgo', 'yandexbrowser', 'ucbrowser', 'samsunginternet',
]);
/** Families of such schemes: handler schemes (`web+`, `ext+`) and browsers' own (`microsoft-edge-https`, `chrome-extension`…). */
const REFUSED_SCHEME_PREFIXES = ['web+', 'ext+', 'x-safari-', 'microsoft-edge', 'googlechrome', 'chrome-', 'firefox-', 'moz-', 'opera-', 'brave-', 'edge-'];

export const isRefusedScheme = (scheme: string): boolean =>
  REFUSED_SCHEMES.has(scheme) || REFUSED_SCHEME_PREFIXES.some((prefix) => scheme.startsWith(prefix));

/** Visible ASCII only: a Location header cannot carry anything else, and URL parsing silently drops CR, LF and TAB. */
const VISIBLE_ASCII = /^[\x21-\x7E]+$/;

/**
 * The one validator of redirect URIs, used at registration (DCR, client ID metadata documents,
 * `portcullis clients add`) and again at every authorization request (AS-22). Classifies a redirect
 * URI, or returns a reason it is not acceptable.
 *
 * Only canonical URIs pass (HARD-3): exactly what the URL parser would write back (an empty path of
 * an http(s) URI aside), so the string stored, matched and redirected to is the one that was checked.
 */
export function classifyRedirectUri(value: string): { kind: RedirectUriKind } | { error: string } {
  if (!VISIBLE_ASCII.test(value)) return { error: 'redirect URIs may contain only visible ASCII characters (percent-encode anything else)' };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { error: `${value} is not an absolute URI` };
  }
  if (value.includes('#')) return { error: 'redirect URIs must not contain a fragment' };
  if (value.includes('*')) return { error: 'redirect URIs must not contain wildcards' };
  if (url.username || url.password) return { error: 'redirect URIs must not contain credentials' };
  if (!isCanonical(value, url)) return { error: `${value} is not in canonical form; write it as ${url.href}` };
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'https') return url.hostname ? { kind: 'https' } : { error: 'https redirect URIs need a host' };
  if (scheme === 'http') {
    return LOOPBACK_HOSTS.has(url.hostname) ? { kind: 'loopback' } : { error: 'http redirect URIs are allowed only on localhost, 127.0.0.1 or [::1]' };
  }
  // RFC 8252 §7.1: private-use schemes should be reverse-domain names (cursor://, vscode:// and
  // claude:// are what MCP clients really use, so a dot is not required), never a web, browser or script scheme.
  if (isRefusedScheme(scheme)) return { error: `the ${scheme}: scheme cannot be a redirect URI (it opens a web page, a browser or a script, not an app)` };
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) return { error: `${scheme}: is not a valid URI scheme` };
  return { kind: 'private-use' };
}

/** The URL parser writes it back unchanged, except for adding the `/` of an empty http(s) path. */
function isCanonical(value: string, url: URL): boolean {
  if (url.href === value) return true;
  const special = url.protocol === 'https:' || url.protocol === 'http:';
  return special && url.pathname === '/' && url.href === value.replace(/^(https?:\/\/[^/?#]+)/, '$1/');
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
