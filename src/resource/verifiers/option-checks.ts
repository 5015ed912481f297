import { LOOPBACK_HOSTS } from '../../util/loopback.ts';
/** Checks of verifier options, run at construction so a misconfiguration fails at start, not on the first request. */

export function nonEmptyList(value: string | readonly string[], name: string): readonly string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (list.length === 0 || list.some((v) => typeof v !== 'string' || v.length === 0)) throw new TypeError(`${name} must be a non-empty string or list of strings`);
  return list;
}

export function httpUrl(value: unknown, name: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new TypeError(`${name} must be an http(s) URL (got ${JSON.stringify(value)})`);
  return url.href;
}

/**
 * A URL taken from an authorization server's metadata (its `jwks_uri`, `introspection_endpoint`).
 * Keys or verdicts fetched over plain http could be swapped by anyone on the path, so it must be
 * https — unless the issuer itself is http on a loopback host (development and tests).
 */
export function discoveredUrl(value: unknown, name: string, issuer: string): string {
  const href = httpUrl(value, name);
  const issuerUrl = new URL(issuer);
  const insecureAllowed = issuerUrl.protocol === 'http:' && LOOPBACK_HOSTS.has(issuerUrl.hostname);
  if (new URL(href).protocol !== 'https:' && !insecureAllowed) throw new TypeError(`${name} must be https (got ${href})`);
  return href;
}
