import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { TrustedIdentityProvider } from '../config/enterprise.ts';
import type { AppContext } from '../context.ts';
import { RemoteKeySet } from '../resource/verifiers/remote-key-set.ts';
import { isPublicAsymmetricKey } from './clients/client-keys.ts';

/** An enterprise identity provider whose ID-JAGs we accept, with the keys it signs them with. */
export interface TrustedIssuer {
  issuer: string;
  keys: JWTVerifyGetKey;
}

/**
 * The trusted enterprise IdP with exactly this issuer (the `trustedIdentityProviders` setting), or
 * null (EMA-04: only a trusted issuer's keys can vouch for an ID-JAG). A `jwksUri` is fetched with
 * the app's fetch (the operator chose it, so it may be an internal host), cached for ten minutes, and
 * refetched at most every 30 s when an ID-JAG names an unknown `kid` (safe key rotation, EMA-04).
 */
export function trustedIssuer(ctx: Pick<AppContext, 'trustedIssuers'>, issuer: string): TrustedIssuer | null {
  return ctx.trustedIssuers.get(issuer) ?? null;
}

/** The trusted enterprise IdPs by issuer, built once per app at assembly: the JWKS caches must outlive a request. */
export function createTrustedIssuers(ctx: TrustedIssuerContext): ReadonlyMap<string, TrustedIssuer> {
  return new Map(ctx.config.trustedIdentityProviders.map((idp) => [idp.issuer, { issuer: idp.issuer, keys: keySetOf(ctx, idp) }]));
}

type TrustedIssuerContext = Pick<AppContext, 'config' | 'fetch' | 'clock'>;

function keySetOf(ctx: TrustedIssuerContext, idp: TrustedIdentityProvider): JWTVerifyGetKey {
  if (idp.jwks) return createLocalJWKSet({ keys: idp.jwks.keys.filter(isPublicAsymmetricKey) } as JSONWebKeySet);
  // resolveConfig guarantees one of the two.
  return new RemoteKeySet(idp.jwksUri!, { fetch: ctx.fetch, clock: ctx.clock }).getKey;
}
