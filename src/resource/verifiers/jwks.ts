import { decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { systemClock, type Clock } from '../../util/clock.ts';
import { VerifierUnavailableError, type TokenVerifier, type VerifyResult } from '../types.ts';
import { withVerifiedTokenCache, type VerifiedTokenCacheOptions } from './cached.ts';
import { verifiedTokenFromClaims } from './claims.ts';
import { cachedDiscovery } from './discovery.ts';
import type { FetchLimits } from './fetch-json.ts';
import { rejectionFromJoseError } from './jwt-errors.ts';
import { discoveredUrl, httpUrl, nonEmptyList } from './option-checks.ts';
import { RemoteKeySet } from './remote-key-set.ts';

/** Signature algorithms a resource server can verify with public keys only (RFC 8725 §3.1: never `none`, never a shared secret). */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export interface JwksVerifierOptions extends FetchLimits {
  /** Accepted `iss` values, compared byte for byte. */
  issuer: string | readonly string[];
  /**
   * What `aud` must contain: your MCP server's resource URL, exactly as in its Protected Resource
   * Metadata (RFC 8707, RFC 9068 §4, MCP RS-08/RS-18). Several values: any one of them.
   */
  audience: string | readonly string[];
  /** The JWKS URL. Omitted: each issuer's `jwks_uri`, from its RFC 8414 or OpenID Connect metadata. */
  jwksUrl?: string;
  /** Accepted `alg` values. Default: every asymmetric algorithm jose supports. `none` and HMAC are refused. */
  algorithms?: readonly string[];
  /**
   * Required `typ` header (compared as jose does: case-insensitive, `application/` optional).
   * Default `at+jwt` (RFC 9068 §2.1). Some servers type access tokens `JWT` (Stytch, Auth0): say
   * so, or give a list; `false` skips the check.
   */
  typ?: string | readonly string[] | false;
  /** Leeway for `exp` and `nbf`, in seconds. Default 0. */
  clockToleranceSeconds?: number;
  fetch?: typeof fetch;
  clock?: Clock;
  /** Verified-token cache (default: on, five minutes at most); `false` verifies every time. */
  cache?: VerifiedTokenCacheOptions | false;
  /** How long fetched keys are used before being refetched. Default 10 minutes. */
  jwksCacheMaxAgeMs?: number;
  /** Least time between two fetches triggered by an unknown `kid`. Default 30 s. */
  jwksCooldownMs?: number;
}

/**
 * Verifies JWT access tokens from any authorization server that publishes its keys as a JWKS
 * (RFC 9068 §4): signature by a key of the issuer's JWKS with an allowed algorithm, `typ`, `iss`,
 * `aud` containing this resource, `exp` present and in the future, `nbf` if present, and `sub` and
 * `client_id` present. Keys come only from the configured or discovered JWKS: `jku`, `x5u`, `x5c` and
 * `jwk` headers are never followed or trusted (RFC 8725 §3.10).
 */
export function createJwksVerifier(options: JwksVerifierOptions): TokenVerifier {
  const issuers = nonEmptyList(options.issuer, 'issuer');
  const audience = nonEmptyList(options.audience, 'audience');
  const algorithms = allowedAlgorithms(options.algorithms);
  const typ = options.typ === undefined ? ['at+jwt'] : options.typ === false ? [] : nonEmptyList(options.typ, 'typ');
  const clock = options.clock ?? systemClock;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const limits: FetchLimits = { timeoutMs: options.timeoutMs, maxBytes: options.maxBytes };
  const keySetOptions = { ...limits, fetch: fetchFn, clock, cacheMaxAgeMs: options.jwksCacheMaxAgeMs, cooldownMs: options.jwksCooldownMs };
  if (options.jwksUrl !== undefined) httpUrl(options.jwksUrl, 'jwksUrl');

  const shared = options.jwksUrl === undefined ? undefined : new RemoteKeySet(options.jwksUrl, keySetOptions);
  const byIssuer = new Map<string, RemoteKeySet>();
  const keySetFor = (issuer: string): RemoteKeySet => {
    if (shared) return shared;
    let keySet = byIssuer.get(issuer);
    if (!keySet) {
      const metadata = cachedDiscovery(issuer, { ...limits, fetch: fetchFn, clock });
      keySet = new RemoteKeySet(async () => {
        const { jwks_uri: jwksUri } = await metadata();
        try {
          return discoveredUrl(jwksUri, `jwks_uri in the metadata of ${issuer}`, issuer);
        } catch (cause) {
          throw new VerifierUnavailableError(`the metadata of ${issuer} has no usable jwks_uri`, { cause });
        }
      }, keySetOptions);
      byIssuer.set(issuer, keySet);
    }
    return keySet;
  };

  const verifier: TokenVerifier = {
    async verify(token): Promise<VerifyResult> {
      let unverifiedIssuer: unknown;
      try {
        unverifiedIssuer = decodeJwt(token).iss;
      } catch (error) {
        return rejectionFromJoseError(error);
      }
      // Decide which keys to use before fetching anything: an unknown issuer costs no request.
      if (typeof unverifiedIssuer !== 'string' || !issuers.includes(unverifiedIssuer)) return { ok: false, reason: 'wrong_issuer' };
      const getKey: JWTVerifyGetKey = keySetFor(unverifiedIssuer).getKey;
      let payload: Record<string, unknown>;
      let headerTyp: unknown;
      try {
        const verified = await jwtVerify(token, getKey, {
          algorithms: [...algorithms],
          issuer: [...issuers],
          audience: [...audience],
          requiredClaims: ['exp'],
          clockTolerance: options.clockToleranceSeconds ?? 0,
          currentDate: new Date(clock.now()),
        });
        payload = verified.payload;
        headerTyp = verified.protectedHeader.typ;
      } catch (error) {
        return rejectionFromJoseError(error);
      }
      if (typ.length > 0 && !(typeof headerTyp === 'string' && typ.some((t) => normalizeTyp(t) === normalizeTyp(headerTyp as string)))) {
        return { ok: false, reason: 'wrong_typ', detail: `typ ${JSON.stringify(headerTyp)}` };
      }
      return verifiedTokenFromClaims(payload);
    },
  };
  return options.cache === false ? verifier : withVerifiedTokenCache(verifier, { clock, ...options.cache });
}

/** As jose compares `typ`: case-insensitive, with or without the `application/` prefix (RFC 7515 §4.1.9). */
function normalizeTyp(value: string): string {
  return value.toLowerCase().replace(/^application\//, '');
}

function allowedAlgorithms(requested: readonly string[] | undefined): readonly string[] {
  if (requested === undefined) return ASYMMETRIC_ALGORITHMS;
  if (requested.length === 0) throw new TypeError('algorithms must name at least one algorithm');
  for (const alg of requested) {
    if (!ASYMMETRIC_ALGORITHMS.includes(alg)) {
      throw new TypeError(`algorithms: ${JSON.stringify(alg)} is not allowed; a resource server verifies with public keys only (${ASYMMETRIC_ALGORITHMS.join(', ')})`);
    }
  }
  return requested;
}
