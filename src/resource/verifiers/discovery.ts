import { systemClock, type Clock } from '../../util/clock.ts';
import { VerifierUnavailableError } from '../types.ts';
import { asObject, fetchJson, type FetchLimits } from './fetch-json.ts';

/** The parts of RFC 8414 / OpenID Connect Discovery metadata a resource server uses. */
export interface AuthorizationServerMetadata extends Record<string, unknown> {
  issuer: string;
  jwks_uri?: string;
  introspection_endpoint?: string;
}

/**
 * Where an issuer's metadata may live, in the order MCP clients try them: RFC 8414 §3.1 (the
 * well-known segment inserted before the issuer's path), then OpenID Connect Discovery, path-inserted
 * and (OIDC Discovery §4) appended to the issuer.
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  const urls = [`${url.origin}/.well-known/oauth-authorization-server${path}`];
  if (path) urls.push(`${url.origin}/.well-known/openid-configuration${path}`);
  urls.push(`${url.origin}${path}/.well-known/openid-configuration`);
  return urls;
}

export interface DiscoveryOptions extends FetchLimits {
  fetch?: typeof fetch;
  clock?: Clock;
}

/**
 * Fetches an authorization server's metadata, trying each location of `metadataUrls` in turn. A
 * document is used only when its `issuer` is byte-identical to the configured one (RFC 8414 §3.3,
 * OIDC Discovery §4.3): otherwise anyone able to serve a document there could name their own keys.
 */
export async function discoverAuthorizationServerMetadata(issuer: string, options: DiscoveryOptions = {}): Promise<AuthorizationServerMetadata> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const problems: string[] = [];
  for (const url of metadataUrls(issuer)) {
    const { status, body } = await fetchJson(fetchFn, url, {}, options);
    const document = asObject(body);
    if (status !== 200 || !document) {
      problems.push(`${url} answered ${status}${document ? '' : ' without a JSON object'}`);
      continue;
    }
    if (document['issuer'] !== issuer) {
      problems.push(`${url} names the issuer ${JSON.stringify(document['issuer'])}, not ${JSON.stringify(issuer)}`);
      continue;
    }
    return document as AuthorizationServerMetadata;
  }
  throw new VerifierUnavailableError(`no usable metadata for the authorization server ${issuer}: ${problems.join('; ')}`);
}

/**
 * Discovery done once and remembered (for `maxAgeMs`, default one hour); after a failure, the next
 * attempt waits `retryAfterMs` (default 30 s) so a broken authorization server is not hammered.
 */
export function cachedDiscovery(issuer: string, options: DiscoveryOptions & { maxAgeMs?: number; retryAfterMs?: number } = {}): () => Promise<AuthorizationServerMetadata> {
  const clock = options.clock ?? systemClock;
  const maxAgeMs = options.maxAgeMs ?? 3_600_000;
  const retryAfterMs = options.retryAfterMs ?? 30_000;
  let cached: { metadata: AuthorizationServerMetadata; at: number } | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<AuthorizationServerMetadata> | undefined;
  return async () => {
    const now = clock.now();
    if (cached && now - cached.at < maxAgeMs) return cached.metadata;
    if (!pending && now - failedAt < retryAfterMs) {
      if (cached) return cached.metadata;
      throw new VerifierUnavailableError(`metadata for ${issuer} could not be fetched; retrying after ${retryAfterMs} ms`);
    }
    pending ??= discoverAuthorizationServerMetadata(issuer, options)
      .then((metadata) => {
        cached = { metadata, at: clock.now() };
        return metadata;
      })
      .catch((error: unknown) => {
        failedAt = clock.now();
        if (cached) return cached.metadata;
        throw error;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
