import type { Hono } from 'hono';
import type { JWK } from 'jose';
import type { AppContext } from '../../context.ts';

/**
 * The members a public signing key may carry (RFC 7517 §4, RFC 7518 §6.2.1 EC, §6.3.1 RSA). Anything
 * else, private parameters (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`) above all, is dropped here,
 * whatever storage holds: a key record written wrongly can never leak through this endpoint.
 */
const PUBLIC_MEMBERS = ['kty', 'kid', 'alg', 'use', 'key_ops', 'crv', 'x', 'y', 'n', 'e'] as const;

/**
 * Short caching: right after `keys rotate` the server signs with a key verifiers may not have yet.
 * Good verifiers refetch on an unknown `kid`; a one-minute cap bounds the wait for those that do not.
 */
const JWKS_CACHE = 'public, max-age=60';

export function publicJwk(key: JWK): JWK {
  const out: Record<string, unknown> = {};
  for (const member of PUBLIC_MEMBERS) if (key[member] !== undefined) out[member] = key[member];
  return out as JWK;
}

/** `GET /jwks` (the metadata's `jwks_uri`): every published public key, including retired ones still in their overlap (SEC-54). */
export function mountJwks(app: Hono, ctx: AppContext): void {
  app.get('/jwks', (c) => c.json({ keys: ctx.keys.jwks().keys.map(publicJwk) }, 200, { 'Cache-Control': JWKS_CACHE }));
}
