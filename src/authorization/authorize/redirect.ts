import { OAuthError } from '../../errors/oauth-error.ts';

/** Headers on every redirect from the authorization flow: the Location may carry a code. */
const REDIRECT_HEADERS = { 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' } as const;

/**
 * A 303: after a POSTed form the browser must follow with a GET, never re-POST the credentials to
 * the client (SEC-21, OAuth 2.1 §7.5.4). For a GET it behaves like 302.
 */
export function seeOther(location: string, headers?: Headers): Response {
  const h = new Headers(headers);
  h.set('Location', location);
  for (const [name, value] of Object.entries(REDIRECT_HEADERS)) h.set(name, value);
  return new Response(null, { status: 303, headers: h });
}

/**
 * The client's redirect URI with response parameters appended, keeping its own query as registered:
 * the string is extended, not re-serialised, so the URI stays byte-for-byte what was matched.
 */
export function withQuery(redirectUri: string, params: Record<string, string | null>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== null) query.append(name, value);
  const separator = !redirectUri.includes('?') ? '?' : /[?&]$/.test(redirectUri) ? '' : '&';
  return redirectUri + separator + query.toString();
}

export interface AuthorizationResponseTarget {
  redirectUri: string;
  state: string | null;
}

/** A Location header can hold visible ASCII only; the redirect URI rules admit nothing else (HARD-3). */
const VISIBLE_ASCII = /^[\x21-\x7E]+$/;

/**
 * The success redirect, built before anything is recorded: the caller gets a function that adds the
 * code, after it has checked that the redirect URI can be a Location at all. A redirect URI stored
 * before that rule existed is refused here with a 400 page, before consent is remembered or a code
 * issued, instead of failing (500) with a live code in hand (HARD-3).
 */
export function codeRedirect(target: AuthorizationResponseTarget, issuer: string, headers?: Headers): (code: string) => Response {
  if (!VISIBLE_ASCII.test(withQuery(target.redirectUri, { state: target.state, iss: issuer }))) {
    throw new OAuthError('invalid_request', "This application's return address (redirect_uri) is not a valid URI, so nothing was sent to it.", { status: 400 });
  }
  return (code) => codeResponse(target, code, issuer, headers);
}

/** Success (OAuth 2.1 §4.1.2): `code`, `state` when sent, and `iss` (RFC 9207 §2, AS-26). */
export function codeResponse(target: AuthorizationResponseTarget, code: string, issuer: string, headers?: Headers): Response {
  return seeOther(withQuery(target.redirectUri, { code, state: target.state, iss: issuer }), headers);
}

/** Error (OAuth 2.1 §4.1.2.1): `error`, `error_description`, `state` when sent, and `iss` (AS-26). */
export function errorResponse(target: AuthorizationResponseTarget, error: OAuthError, issuer: string, headers?: Headers): Response {
  return seeOther(
    withQuery(target.redirectUri, { error: error.code, error_description: error.description, state: target.state, iss: issuer }),
    headers,
  );
}
