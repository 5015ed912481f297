import { errors } from 'jose';
import { VerifierUnavailableError, type TokenRejection, type VerifyResult } from '../types.ts';

type Rejected = Extract<VerifyResult, { ok: false }>;

const BY_CLAIM: Readonly<Record<string, TokenRejection>> = {
  typ: 'wrong_typ',
  iss: 'wrong_issuer',
  aud: 'wrong_audience',
  nbf: 'not_yet_valid',
};

/**
 * Turns what `jose.jwtVerify` threw into a private rejection reason. Anything that is not a JOSE
 * error (a bug, an unreachable key set) is not the client's fault and is rethrown.
 */
export function rejectionFromJoseError(error: unknown): Rejected {
  if (error instanceof VerifierUnavailableError) throw error;
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof errors.JWTExpired) return { ok: false, reason: 'expired', detail };
  if (error instanceof errors.JOSEAlgNotAllowed) return { ok: false, reason: 'alg_not_allowed', detail };
  if (error instanceof errors.JWKSNoMatchingKey) return { ok: false, reason: 'unknown_key', detail };
  if (error instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: 'bad_signature', detail };
  if (error instanceof errors.JWTClaimValidationFailed) {
    return { ok: false, reason: error.reason === 'missing' ? 'missing_claim' : (BY_CLAIM[error.claim] ?? 'missing_claim'), detail };
  }
  // JOSENotSupported covers `alg: none` and HMAC against a key set (RFC 8725 §3.1).
  if (error instanceof errors.JOSENotSupported) return { ok: false, reason: 'alg_not_allowed', detail };
  if (error instanceof errors.JOSEError) return { ok: false, reason: 'malformed', detail };
  throw error;
}
