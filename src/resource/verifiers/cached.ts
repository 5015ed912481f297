import { systemClock, type Clock } from '../../util/clock.ts';
import { VerifiedTokenCache, type TokenCacheOptions } from '../token-cache.ts';
import type { TokenVerifier, VerifiedToken } from '../types.ts';

export interface VerifiedTokenCacheOptions extends TokenCacheOptions {
  clock?: Clock;
}

/**
 * A verifier that remembers what `verifier` accepted, until the token's `exp` or `maxAgeMs` (default
 * five minutes), whichever comes first, so a warm request costs a hash and a map lookup instead of a
 * signature check or a round trip. Rejections are not remembered. Keyed by the token's SHA-256.
 *
 * The price: a token revoked at the authorization server stays accepted here for up to `maxAgeMs`
 * (for JWTs, that is the case anyway until `exp`, unless you introspect).
 */
export function withVerifiedTokenCache(verifier: TokenVerifier, options: VerifiedTokenCacheOptions = {}): TokenVerifier {
  const cache = new VerifiedTokenCache<VerifiedToken>(options.clock ?? systemClock, options);
  const cached: TokenVerifier = {
    async verify(token) {
      const hit = cache.get(token);
      if (hit) return { ok: true, token: hit };
      const result = await verifier.verify(token);
      if (result.ok) cache.set(token, result.token, result.token.expiresAt * 1000);
      return result;
    },
  };
  return verifier.permissions ? { ...cached, permissions: verifier.permissions } : cached;
}
