import { hashSecret } from '../util/crypto.ts';
import type { StytchAuthorizationParams } from './stytch-idp.ts';

/**
 * The OAuth parameters of a request to the Authorization URL page, read as Stytch's own
 * `<IdentityProvider/>` reads them: `client_id` and `redirect_uri` required; `response_type` `code`
 * by default (some clients omit it); `scope` split on spaces, `openid email profile` by default;
 * `state`, `nonce`, `code_challenge`, `prompt` passed on; each `resource` in `resources`.
 * `code_challenge_method` is not passed on (Stytch supports S256 only), so anything else is refused
 * here rather than mistaken for S256.
 */
export type ParsedAuthorizationRequest = { ok: true; params: StytchAuthorizationParams } | { ok: false; message: string };

const DEFAULT_SCOPES = ['openid', 'email', 'profile'];

export function parseAuthorizationRequest(query: URLSearchParams): ParsedAuthorizationRequest {
  for (const name of ['client_id', 'redirect_uri']) {
    if (!query.get(name)) return { ok: false, message: `Required parameter is missing: ${name}. Please reach out to the application developer.` };
  }
  const method = query.get('code_challenge_method');
  if (method !== null && method !== 'S256') return { ok: false, message: `code_challenge_method ${method} is not supported; use S256. Please reach out to the application developer.` };
  const scope = query.get('scope')?.split(' ').filter(Boolean) ?? [];
  const optional = (name: string) => {
    const value = query.get(name);
    return value !== null && value !== '' ? { [name]: value } : {};
  };
  const resources = query.getAll('resource').filter(Boolean);
  return {
    ok: true,
    params: {
      client_id: query.get('client_id')!,
      redirect_uri: query.get('redirect_uri')!,
      response_type: query.get('response_type') || 'code',
      scopes: scope.length > 0 ? scope : DEFAULT_SCOPES,
      ...optional('prompt'),
      ...optional('state'),
      ...optional('nonce'),
      ...optional('code_challenge'),
      ...(resources.length > 0 ? { resources } : {}),
    },
  };
}

/** The request's parameters in one canonical order, for the hidden field and the CSRF token's binding. */
export function canonicalQuery(query: URLSearchParams): string {
  const sorted = new URLSearchParams([...query.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return sorted.toString();
}

/** What a form's CSRF token is bound to: the exact request it continues. */
export const requestDigest = (query: string): string => hashSecret(query);
