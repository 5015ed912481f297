import { decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import type { AppContext } from '../../context.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { seconds } from '../../util/clock.ts';
import { hashSecret } from '../../util/crypto.ts';
import { ClientKeysUnavailable, clientKeySet } from './client-keys.ts';

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Clock tolerance for `exp`, `nbf` and `iat`, as the MCP conformance authorization server allows (CC-06). */
export const ASSERTION_CLOCK_SKEW_S = 30;
/**
 * An assertion may be valid for at most this long from now (CC-06 rec: cap the lifetime). Replay
 * protection keeps each `jti` until the assertion expires, so a short lifetime also bounds that store.
 * The official SDK signs for 300 s.
 */
export const MAX_ASSERTION_LIFETIME_S = 300;
const MAX_JTI_LENGTH = 256;

/** Why an assertion was refused: for the log only; the client hears "authentication failed". */
export class AssertionRejected extends Error {}

/**
 * The client an assertion claims to come from (RFC 7523 §3 item 2: `sub` is the client_id), read
 * WITHOUT verification, only to find the client and its keys. Null when it is not a JWT.
 */
export function unverifiedAssertionSubject(assertion: string): string | null {
  try {
    const sub = decodeJwt(assertion).sub;
    return typeof sub === 'string' && sub !== '' ? sub : null;
  } catch {
    return null;
  }
}

/**
 * Verifies a `private_key_jwt` client assertion (RFC 7523 §3, SEC-29, CC-06):
 *
 * - signed by one of the client's registered keys with an asymmetric algorithm we advertise;
 * - `iss` = `sub` = the client_id;
 * - `aud` = our issuer (with or without a trailing slash, as the conformance suite accepts) or our
 *   token endpoint URL (classic RFC 7523 §3 item 3);
 * - `exp` present, not past, and at most five minutes ahead; `nbf`/`iat` not in the future;
 * - `jti` present and never seen before until the assertion expires (RFC 7523 §3 item 7).
 *
 * Throws `AssertionRejected` with a log-only reason.
 */
export async function verifyClientAssertion(ctx: AppContext, client: ClientRecord, assertion: string): Promise<void> {
  const now = ctx.clock.now();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, clientKeySet(ctx, client), {
      algorithms: [...ctx.capabilities.clientAssertionSigningAlgorithms],
      issuer: client.clientId,
      subject: client.clientId,
      audience: acceptedAudiences(ctx),
      requiredClaims: ['exp', 'jti'],
      clockTolerance: ASSERTION_CLOCK_SKEW_S,
      currentDate: new Date(now),
    }));
  } catch (error) {
    throw new AssertionRejected(rejectionReason(error));
  }
  const exp = payload.exp as number;
  // jose checks `iat` only against a maximum age; one from the future means a wrong clock or a forgery.
  if (payload.iat !== undefined && payload.iat > seconds(now) + ASSERTION_CLOCK_SKEW_S) throw new AssertionRejected('iat is in the future');
  if (exp > seconds(now) + MAX_ASSERTION_LIFETIME_S + ASSERTION_CLOCK_SKEW_S) {
    throw new AssertionRejected(`assertion expires more than ${MAX_ASSERTION_LIFETIME_S} s ahead`);
  }
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw new AssertionRejected('jti must be a non-empty string');
  const fresh = await ctx.storage.usedAssertions.markUsed(replayKey('client-assertion', client.clientId, jti), (exp + ASSERTION_CLOCK_SKEW_S) * 1000, now);
  if (!fresh) throw new AssertionRejected('assertion replayed (jti already used)');
}

/** The `aud` values an assertion for this server may carry. */
export function acceptedAudiences(ctx: AppContext): string[] {
  return [ctx.config.issuer, `${ctx.config.issuer}/`, ctx.capabilities.endpoints.token];
}

/** The replay-store key of a single-use JWT: who issued it and its `jti`, hashed to a fixed length. */
export function replayKey(kind: string, issuer: string, jti: string): string {
  return hashSecret(JSON.stringify([kind, issuer, jti]));
}

function rejectionReason(error: unknown): string {
  if (error instanceof ClientKeysUnavailable) return error.message;
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} ${error.reason}: ${error.message}`;
  if (error instanceof errors.JOSEError) return `${error.code}: ${error.message}`;
  throw error;
}
