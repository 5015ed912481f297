/**
 * Where an access token may come from: the `Authorization` header, and nowhere else. Tokens in the
 * query string or a form body are ignored (OAuth 2.1 §5.1, MCP RS-21): they leak into logs,
 * history and Referer headers.
 */

/** An access token as a resource server takes it: with the scheme it came under (RFC 6750 `Bearer`, RFC 9449 §7.1 `DPoP`). */
export type AccessTokenCredential =
  /** No access token: no header, or another scheme such as `Basic`. */
  | { kind: 'none' }
  /** `Bearer` or `DPoP` was named but what follows is not a token68. */
  | { kind: 'malformed'; scheme: AccessTokenScheme }
  | { kind: 'token'; scheme: AccessTokenScheme; token: string };

export type AccessTokenScheme = 'Bearer' | 'DPoP';

/** RFC 6750 §2.1 b64token / RFC 7235 token68. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

export function extractAccessToken(request: Pick<Request, 'headers'>): AccessTokenCredential {
  const header = request.headers.get('Authorization');
  if (header === null) return { kind: 'none' };
  const value = header.trim();
  const space = value.indexOf(' ');
  const named = (space === -1 ? value : value.slice(0, space)).toLowerCase();
  // RFC 7235 §2.1: the auth-scheme is case-insensitive, so `bearer`, `BEARER` and `dpop` count too.
  const scheme: AccessTokenScheme | undefined = named === 'bearer' ? 'Bearer' : named === 'dpop' ? 'DPoP' : undefined;
  if (scheme === undefined) return { kind: 'none' };
  const token = space === -1 ? '' : value.slice(space + 1).trimStart();
  return TOKEN68.test(token) ? { kind: 'token', scheme, token } : { kind: 'malformed', scheme };
}

/** The scheme an access token was presented under, if any. */
export function presentedScheme(request: Pick<Request, 'headers'>): AccessTokenScheme | undefined {
  const credential = extractAccessToken(request);
  return credential.kind === 'none' ? undefined : credential.scheme;
}
