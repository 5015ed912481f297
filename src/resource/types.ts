import type { JWTPayload } from 'jose';

/** What a verified access token says. */
export interface VerifiedAccessToken {
  /** `sub`: the user the token acts for. */
  subject: string;
  clientId: string;
  scopes: string[];
  /** `exp` in seconds since the epoch. */
  expiresAt: number;
  claims: JWTPayload;
}

/**
 * Why a token was refused. Goes to debug logs only: the client always sees the same generic
 * `invalid_token` (no oracle for which check failed).
 */
export type TokenRejection =
  | 'malformed'
  | 'alg_not_allowed'
  | 'wrong_typ'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_claim'
  | 'grant_not_live';

export type VerifyOutcome = { ok: true; token: VerifiedAccessToken } | { ok: false; reason: TokenRejection; detail?: string };

/**
 * Verifies an access token presented to this resource. The local verifier checks our own JWTs;
 * resource-server mode (JWKS of another issuer, introspection) plugs in here.
 */
export interface AccessTokenVerifier {
  verify(token: string): Promise<VerifyOutcome>;
}
