import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../http/context.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { checkClientIdUrl } from './client-id-url.ts';
import { cacheLifetimeMs, MetadataDocumentCache } from './metadata-document-cache.ts';
import { fetchClientMetadataDocument } from './metadata-document.ts';

/**
 * The client a `client_id` names: a registered client from storage, or, when the id is an https URL
 * and client ID metadata documents are enabled (MCP AS-06, AS-08), the client its validated
 * document describes (`source: 'cimd'`, never stored). Returns null for an unknown id; throws
 * `OAuthError` `invalid_client` when a document cannot be used, with a message fit for the error page,
 * and `temporarily_unavailable` (503) when too many documents are being fetched already.
 */
export async function resolveClient(ctx: AppContext, clientId: string): Promise<ClientRecord | null> {
  const policy = ctx.config.clientIdMetadataDocuments;
  if (!policy.enabled) return ctx.storage.clients.get(clientId);
  const check = checkClientIdUrl(clientId, ctx.config.dangerouslyAllowPrivateNetworkFetches);
  if (!check.ok && 'notAUrl' in check) return ctx.storage.clients.get(clientId);
  if (!check.ok) throw refused(clientId, check.error);

  // AS-18 trust policy: an allow-list of hosts, or any public https host.
  const host = check.url.hostname.toLowerCase();
  if (policy.allowedHosts?.length && !policy.allowedHosts.includes(host)) {
    throw refused(clientId, `this server accepts metadata documents only from ${policy.allowedHosts.join(', ')}`, `host ${host} not allowed`);
  }
  return documents(ctx).resolve(clientId);
}

/**
 * Documents being fetched at once, across all URLs. Anyone can send /authorize or /token a fresh
 * `client_id` URL, and each costs us an outbound request of up to 5 s (failures are never cached,
 * SEC-51): without a bound the server could be made to flood a third party's host, or tie itself up
 * waiting on slow ones (CIMD §6 security considerations, AS-13).
 */
export const MAX_DOCUMENT_FETCHES_IN_FLIGHT = 16;

/** One cache per app, and one fetch at a time per URL: concurrent requests share it. */
class DocumentResolver {
  readonly #ctx: AppContext;
  readonly #cache = new MetadataDocumentCache();
  readonly #inFlight = new Map<string, Promise<ClientRecord>>();

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
  }

  async resolve(url: string): Promise<ClientRecord> {
    const cached = this.#cache.get(url, this.#ctx.clock.now());
    if (cached) return cached;
    const pending = this.#inFlight.get(url);
    if (pending) return pending;
    if (this.#inFlight.size >= MAX_DOCUMENT_FETCHES_IN_FLIGHT) {
      this.#ctx.logger.warn('client metadata document fetch refused: too many in flight', { client_id: url.slice(0, 200), in_flight: this.#inFlight.size });
      throw new OAuthError('temporarily_unavailable', 'This server is busy fetching other applications\' metadata documents. Try again in a moment.', {
        status: 503,
        headers: { 'Retry-After': '5' },
        detail: `${this.#inFlight.size} client metadata documents already being fetched`,
      });
    }
    const fetching = this.#fetch(url).finally(() => this.#inFlight.delete(url));
    this.#inFlight.set(url, fetching);
    return fetching;
  }

  async #fetch(url: string): Promise<ClientRecord> {
    try {
      const { client, headers } = await fetchClientMetadataDocument(this.#ctx, url);
      const now = this.#ctx.clock.now();
      this.#cache.set(url, client, cacheLifetimeMs(headers, now), now);
      this.#ctx.logger.info('client metadata document fetched', { client_id: url });
      return client;
    } catch (error) {
      // SEC-51: nothing is cached on failure, so the next request tries again.
      if (error instanceof OAuthError) this.#ctx.logger.warn('client metadata document refused', { client_id: url.slice(0, 200), reason: error.detail });
      throw error;
    }
  }
}

const resolvers = new WeakMap<AppContext, DocumentResolver>();

function documents(ctx: AppContext): DocumentResolver {
  let resolver = resolvers.get(ctx);
  if (!resolver) {
    resolver = new DocumentResolver(ctx);
    resolvers.set(ctx, resolver);
  }
  return resolver;
}

function refused(clientId: string, problem: string, detail = problem): OAuthError {
  return new OAuthError('invalid_client', `This application's client_id cannot be used: ${problem}.`, {
    status: 400,
    detail: `client_id URL ${clientId.slice(0, 200)}: ${detail}`,
  });
}
