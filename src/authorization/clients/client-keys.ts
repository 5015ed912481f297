import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { AppContext } from '../../context.ts';
import type { ClientFetchKind } from '../../http/client-fetches.ts';
import { SafeFetchError } from '../../http/safe-fetch.ts';
import type { ClientRecord, JwkSet } from '../../storage/types.ts';

/** JWK Sets are small; 64 KiB holds dozens of RSA keys. */
const MAX_JWKS_BYTES = 64 * 1024;

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

/** Thrown when the client's keys cannot be had; the message is safe for a log detail. */
export class ClientKeysUnavailable extends Error {}

/**
 * A client's `jwks_uri`, fetched through the one policy for client URLs (`client-fetches.ts`). No
 * redirects: the keys must be at the registered URL, or an open redirect on the client's host would
 * let anyone supply keys for it. Only public asymmetric keys are kept.
 */
export const CLIENT_JWKS: ClientFetchKind<LocalKeySet> = {
  name: 'client jwks_uri',
  plural: 'key sets',
  limits: { maxBytes: MAX_JWKS_BYTES, redirects: 'none' },
  parse: ({ value }) => {
    const jwks = parseJwkSet(value);
    if (!jwks) throw new ClientKeysUnavailable('jwks_uri did not return a JWK Set');
    return createLocalJWKSet(publicKeysOnly(jwks));
  },
};

/**
 * The verification keys of a `private_key_jwt` client (RFC 7591 §2 `jwks` / `jwks_uri`, SEC-29) for
 * `jose.jwtVerify`. Only public asymmetric keys are kept: a private or symmetric key in a client's
 * set is ignored, so HMAC with a published "secret" can never verify (RFC 8725 §3.1).
 *
 * A `jwks_uri` is cached as its HTTP headers allow (5 minutes by default), a failure to fetch it is
 * remembered for a while, and an assertion naming a key id we do not have (the client rotated its
 * keys) fetches again at most once per cooldown: made-up key ids and junk assertions cannot turn us
 * into a request generator against the client's host.
 */
export function clientKeySet(ctx: AppContext, client: ClientRecord): JWTVerifyGetKey {
  if (client.jwks) {
    const local = createLocalJWKSet(publicKeysOnly(client.jwks));
    return (header, token) => local(header, token);
  }
  const url = client.jwksUri;
  if (!url) throw new ClientKeysUnavailable('the client registered no keys');
  const fetches = ctx.clientFetches;
  return async (header, token) => {
    const keys = await keySet(() => fetches.get(CLIENT_JWKS, url));
    try {
      return await keys(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      const fresh = await keySet(() => fetches.refresh(CLIENT_JWKS, url));
      return fresh(header, token);
    }
  };
}

/** A fetch failure becomes `ClientKeysUnavailable` (the client fails to authenticate); a busy refusal stays a 503. */
async function keySet(load: () => Promise<LocalKeySet>): Promise<LocalKeySet> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof SafeFetchError) throw new ClientKeysUnavailable(`jwks_uri could not be fetched: ${error.message}`);
    throw error;
  }
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
