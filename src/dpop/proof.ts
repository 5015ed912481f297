import { createHash } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { createEmbeddedKeyCache, type EmbeddedKey } from './proof-keys.ts';

/**
 * DPoP proofs (RFC 9449 §4.3): the one check used by the token endpoint and by every resource server.
 * A proof is a JWT signed by the client's key, with that public key in its header, naming the request
 * it was made for (`htm`, `htu`), when (`iat`), once (`jti`), and at a resource server the access token
 * it goes with (`ath`). What it proves: whoever sent the request holds the key whose thumbprint
 * (`jkt`, RFC 7638) the token is bound to.
 */

/**
 * Asymmetric algorithms only (RFC 9449 §4.3 item 6): what `dpop_signing_alg_values_supported` lists.
 * `Ed25519` is the fully-specified name (RFC 9864) that current clients (oauth4webapi) sign with; `EdDSA` the older one.
 */
export const DPOP_ALGORITHMS = Object.freeze(['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256'] as const);

/** RFC 9449 §4.2: the proof's `typ`. */
export const DPOP_PROOF_TYP = 'dpop+jwt';

/** How old a proof may be (by its `iat`), and how far ahead of our clock; a nonce makes the age moot. */
export const PROOF_MAX_AGE_S = 300;
export const PROOF_MAX_FUTURE_S = 60;

/** Longer proofs are refused unread (a proof is a few hundred bytes; an RSA key makes it about 1 KiB). */
const MAX_PROOF_LENGTH = 8 * 1024;
const MAX_JTI_LENGTH = 256;
/** A compact JWS, and nothing else: two `DPoP` headers joined by a comma are not one proof (§4.3 item 1). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Members only a private (or symmetric) JWK has: a proof carrying them exposes its key and is refused (§4.3 item 7). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;

/** Server-issued nonces (RFC 9449 §8, §9), as the verifier needs them. */
export interface DpopNonceCheck {
  /** True while `nonce` is one this server issued and has not retired. */
  isValid(nonce: string): boolean;
}

/**
 * Single use of `jti` (§11.1), across every instance that shares it: true the first time `key` is
 * seen, false while an earlier use is remembered. Entries may be forgotten after `expiresAt` (ms):
 * by then the proof is too old to be accepted anyway.
 */
export type DpopReplayCheck = (key: string, expiresAt: number) => Promise<boolean>;

export interface DpopProofRequest {
  /** The `DPoP` header value (null or undefined when the request carries none). */
  proof: string | null | undefined;
  /** The request's method, compared with `htm`. */
  method: string;
  /** The URL the request was made to (its query and fragment are ignored), compared with `htu`. */
  url: string;
  /** At a resource server: the access token the proof goes with, whose hash `ath` must be. */
  accessToken?: string;
  /** The algorithms accepted; default `DPOP_ALGORITHMS`. */
  algorithms?: readonly string[];
  /** Milliseconds since the epoch. */
  now: number;
  /** When set, the proof must carry a current server nonce (`use_dpop_nonce` otherwise). */
  nonces?: DpopNonceCheck;
  replay: DpopReplayCheck;
}

export type DpopProofResult =
  | { ok: true; jkt: string; claims: JWTPayload }
  /**
   * `invalid_dpop_proof`: no usable proof. `use_dpop_nonce`: a good proof without a current nonce; the
   * caller answers with a fresh one in `DPoP-Nonce`. `detail` is for logs only.
   */
  | { ok: false; error: 'invalid_dpop_proof' | 'use_dpop_nonce'; detail: string };

const invalid = (detail: string): DpopProofResult => ({ ok: false, error: 'invalid_dpop_proof', detail });

/** Client keys, imported once each (./proof-keys.ts): one cache for the process, as keys are the same everywhere. */
const embeddedKey = createEmbeddedKeyCache();

/** RFC 9449 §4.3: every check, in an order where the cheap ones come first and `jti` is spent last. */
export async function verifyDpopProof(request: DpopProofRequest): Promise<DpopProofResult> {
  const { proof } = request;
  if (proof === null || proof === undefined || proof === '') return invalid('no DPoP header');
  if (proof.length > MAX_PROOF_LENGTH) return invalid(`proof of ${proof.length} characters`);
  if (!COMPACT_JWS.test(proof)) return invalid('not one compact JWS');
  const algorithms = [...(request.algorithms ?? DPOP_ALGORITHMS)];

  let jwk: JWK;
  let alg: string;
  try {
    const header = decodeProtectedHeader(proof);
    if (header.typ !== DPOP_PROOF_TYP) return invalid(`typ ${String(header.typ)}`);
    if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) return invalid(`alg ${String(header.alg)}`);
    if (typeof header.jwk !== 'object' || header.jwk === null) return invalid('no jwk in the header');
    jwk = header.jwk;
    alg = header.alg;
  } catch {
    return invalid('unreadable header');
  }
  if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) return invalid('jwk is not a public key');
  // Verified with the header's own key, which must be an asymmetric public key for `alg`.
  const embedded: EmbeddedKey | null = await embeddedKey(jwk, alg);
  if (embedded === null) return invalid('jwk is not a public key for its alg');

  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(proof, embedded.key, { typ: DPOP_PROOF_TYP, algorithms, currentDate: new Date(request.now) }));
  } catch (error) {
    return invalid(error instanceof errors.JOSEError ? error.code : 'signature check failed');
  }

  const { jti, htm, htu, iat } = claims;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) return invalid('jti missing or too long');
  if (htm !== request.method) return invalid(`htm ${String(htm)} for a ${request.method} request`);
  if (typeof htu !== 'string' || !sameTarget(htu, request.url)) return invalid('htu is not this URL');
  if (typeof iat !== 'number') return invalid('iat missing');
  const nowS = request.now / 1000;
  if (iat < nowS - PROOF_MAX_AGE_S || iat > nowS + PROOF_MAX_FUTURE_S) return invalid('iat outside the accepted window');

  if (request.accessToken !== undefined) {
    if (typeof claims.ath !== 'string' || claims.ath !== accessTokenHash(request.accessToken)) return invalid('ath does not match the access token');
  }
  if (request.nonces && (typeof claims.nonce !== 'string' || !request.nonces.isValid(claims.nonce))) {
    return { ok: false, error: 'use_dpop_nonce', detail: claims.nonce === undefined ? 'no nonce' : 'stale or unknown nonce' };
  }

  const { jkt } = embedded;
  // Spent last, so a proof refused for another reason does not use up its jti.
  const fresh = await request.replay(replayKey(jkt, jti), (Math.floor(iat) + PROOF_MAX_AGE_S + PROOF_MAX_FUTURE_S) * 1000);
  if (!fresh) return invalid('jti already used');
  return { ok: true, jkt, claims };
}

/** `ath` (§4.2): base64url SHA-256 of the access token's ASCII. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/** A JWK SHA-256 thumbprint is 32 bytes in base64url: the shape `dpop_jkt` and `cnf.jkt` must have. */
export const JKT_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The replay key: a hash, so a client's jti is stored in no form it chose. Keyed by key, then jti. */
function replayKey(jkt: string, jti: string): string {
  return 'dpop:' + createHash('sha256').update(`${jkt}\n${jti}`).digest('base64url');
}

/**
 * §4.3 item 9: `htu` names this URL, ignoring query and fragment, after RFC 3986 §6.2.2/6.2.3
 * normalisation (which the WHATWG URL parser does: case of scheme and host, default port, dot segments).
 */
function sameTarget(htu: string, url: string): boolean {
  const a = URL.parse(htu);
  const b = URL.parse(url);
  if (!a || !b) return false;
  return a.origin === b.origin && a.pathname === b.pathname;
}

/** A replay check for one process (library resource servers without shared storage): remembers `jti`s until they expire. */
export function inMemoryReplayCheck(clock: { now(): number }, maxEntries = 100_000): DpopReplayCheck {
  const seen = new Map<string, number>();
  return async (key, expiresAt) => {
    const now = clock.now();
    const until = seen.get(key);
    if (until !== undefined && until > now) return false;
    if (seen.size >= maxEntries) {
      for (const [k, t] of seen) if (t <= now) seen.delete(k);
      // Still full of live entries: refuse rather than forget one, which would let its proof be
      // replayed. Entries live six minutes at most, so this only bites above maxEntries proofs in that time.
      if (seen.size >= maxEntries) return false;
    }
    seen.set(key, expiresAt);
    return true;
  };
}
