import { parseScope } from '../scopes.ts';
import type { TokenClaims, VerifyResult } from '../types.ts';

/**
 * The principal's fields from a token's claims (RFC 9068 §2.2, RFC 7662 §2.2): `sub`, `client_id`
 * (or `azp`, which Keycloak and Auth0 use for the same thing), `scope` (or `scp`, as a space-separated
 * string or an array, as Okta and Entra ID write it) and `exp`, which must be present: a token that
 * never expires is not one this resource accepts.
 */
export function verifiedTokenFromClaims(claims: TokenClaims): VerifyResult {
  const { sub, exp } = claims;
  const clientId = typeof claims['client_id'] === 'string' ? claims['client_id'] : claims['azp'];
  if (typeof sub !== 'string' || sub === '') return { ok: false, reason: 'missing_claim', detail: 'sub must be a non-empty string' };
  if (typeof clientId !== 'string' || clientId === '') return { ok: false, reason: 'missing_claim', detail: 'client_id must be a non-empty string' };
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return { ok: false, reason: 'missing_claim', detail: 'exp must be a number' };
  return { ok: true, token: { subject: sub, clientId, scopes: scopesOf(claims), expiresAt: exp, claims } };
}

function scopesOf(claims: TokenClaims): string[] {
  const value = claims['scope'] ?? claims['scp'];
  if (Array.isArray(value)) return [...new Set(value.filter((s): s is string => typeof s === 'string' && s.length > 0))];
  return parseScope(value);
}
