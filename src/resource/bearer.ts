/**
 * Where an access token may come from: the `Authorization` header, and nowhere else. Tokens in the
 * query string or a form body are ignored (OAuth 2.1 §5.1, MCP RS-21): they leak into logs,
 * history and Referer headers.
 */
export type BearerCredential =
  /** No bearer credential: no header, or another scheme such as `Basic`. */
  | { kind: 'none' }
  /** `Bearer` was named but what follows is not a token68 (RFC 7235 §2.1). */
  | { kind: 'malformed' }
  | { kind: 'bearer'; token: string };

/** RFC 6750 §2.1 b64token / RFC 7235 token68. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

export function extractBearer(request: Pick<Request, 'headers'>): BearerCredential {
  const header = request.headers.get('Authorization');
  if (header === null) return { kind: 'none' };
  const value = header.trim();
  const space = value.indexOf(' ');
  const scheme = space === -1 ? value : value.slice(0, space);
  // RFC 7235 §2.1: the auth-scheme is case-insensitive, so `bearer` and `BEARER` are Bearer too.
  if (scheme.toLowerCase() !== 'bearer') return { kind: 'none' };
  const token = space === -1 ? '' : value.slice(space + 1).trimStart();
  return TOKEN68.test(token) ? { kind: 'bearer', token } : { kind: 'malformed' };
}
