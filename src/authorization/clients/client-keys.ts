import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { AppContext } from '../../http/context.ts';
import { safeFetchJson } from '../../http/safe-fetch.ts';
import type { ClientRecord, JwkSet } from '../../storage/types.ts';

/** A fetched `jwks_uri` is used this long before it is fetched again. */
const MAX_AGE_MS = 5 * 60_000;
/**
 * After a fetch, an assertion naming an unknown `kid` triggers another fetch only after this long, so
 * made-up key ids cannot turn us into a request generator against the client's host.
 */
const REFETCH_COOLDOWN_MS = 30_000;
/** JWK Sets are small; 64 KiB holds dozens of RSA keys. */
const MAX_JWKS_BYTES = 64 * 1024;
/** Bounded memory whatever the number of clients: the cache starts over when it grows past this. */
const MAX_CACHED_URLS = 1000;

interface Fetched {
  keySet: ReturnType<typeof createLocalJWKSet>;
  fetchedAt: number;
}

/** One cache per app, so tests and several apps in one process never share fetched keys. */
const caches = new WeakMap<AppContext, Map<string, Fetched>>();

/** Thrown when the client's keys cannot be had; the message is safe for a log detail. */
export class ClientKeysUnavailable extends Error {}

/**
 * The verification keys of a `private_key_jwt` client (RFC 7591 §2 `jwks` / `jwks_uri`, SEC-29) for
 * `jose.jwtVerify`. Only public asymmetric keys are kept: a private or symmetric key in a client's
 * set is ignored, so HMAC with a published "secret" can never verify (RFC 8725 §3.1).
 *
 * `jwks_uri` is fetched with the SSRF guard (`safeFetchJson`, no redirects), cached for five
 * minutes, and fetched again when an assertion names a key id we do not have (the client rotated its
 * keys), at most once per 30 s.
 */
export function clientKeySet(ctx: AppContext, client: ClientRecord): JWTVerifyGetKey {
  if (client.jwks) {
    const local = createLocalJWKSet(publicKeysOnly(client.jwks));
    return (header, token) => local(header, token);
  }
  const url = client.jwksUri;
  if (!url) throw new ClientKeysUnavailable('the client registered no keys');
  return async (header, token) => {
    const cache = cacheOf(ctx);
    const now = ctx.clock.now();
    let entry = cache.get(url);
    if (!entry || now - entry.fetchedAt >= MAX_AGE_MS) entry = await fetchInto(ctx, cache, url);
    try {
      return await entry.keySet(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || now - entry.fetchedAt < REFETCH_COOLDOWN_MS) throw error;
      const fresh = await fetchInto(ctx, cache, url);
      return fresh.keySet(header, token);
    }
  };
}

async function fetchInto(ctx: AppContext, cache: Map<string, Fetched>, url: string): Promise<Fetched> {
  let value: unknown;
  try {
    // No redirects: the keys must be at the registered URL, or an open redirect on the client's host
    // would let anyone supply keys for it.
    ({ value } = await safeFetchJson(ctx, url, { maxBytes: MAX_JWKS_BYTES, redirects: 'none' }));
  } catch (error) {
    throw new ClientKeysUnavailable(`jwks_uri could not be fetched: ${(error as Error).message}`);
  }
  const jwks = parseJwkSet(value);
  if (!jwks) throw new ClientKeysUnavailable('jwks_uri did not return a JWK Set');
  const entry = { keySet: createLocalJWKSet(publicKeysOnly(jwks)), fetchedAt: ctx.clock.now() };
  if (cache.size >= MAX_CACHED_URLS) cache.clear();
  cache.set(url, entry);
  return entry;
}

function cacheOf(ctx: AppContext): Map<string, Fetched> {
  let cache = caches.get(ctx);
  if (!cache) caches.set(ctx, (cache = new Map()));
  return cache;
}

/** A JWK Set shape check (RFC 7517 §5): an object with a `keys` array of objects. */
export function parseJwkSet(value: unknown): JwkSet | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const keys = (value as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'object' || k === null || Array.isArray(k))) return null;
  return { keys: keys as Record<string, unknown>[] };
}

/** Whether a JWK is usable as a client's public verification key: asymmetric, no private part. */
export function isPublicAsymmetricKey(key: Record<string, unknown>): boolean {
  return (key['kty'] === 'EC' || key['kty'] === 'RSA' || key['kty'] === 'OKP') && !('d' in key);
}

function publicKeysOnly(jwks: JwkSet): JSONWebKeySet {
  return { keys: jwks.keys.filter(isPublicAsymmetricKey) } as JSONWebKeySet;
}
