import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../context.ts';
import type { ClientFetchKind } from '../../http/client-fetches.ts';
import { SafeFetchError } from '../../http/safe-fetch.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { validateClientMetadata } from './register-client.ts';

/**
 * Client ID metadata documents (MCP AS-06…AS-13, SEC-30, SEC-51; draft-ietf-oauth-client-id-metadata-document):
 * the client's metadata is the JSON document at its `client_id` URL. It is fetched with the SSRF
 * guard and validated by the same rules as a dynamic registration, plus the document's own:
 * `client_id` equal to the URL, `client_name` and `redirect_uris` required, no shared secrets.
 */

/** CIMD §6.6 recommends at most 5 KB. */
export const MAX_DOCUMENT_BYTES = 5 * 1024;
export const FETCH_TIMEOUT_MS = 5_000;

/**
 * How documents are fetched, through the one policy for client URLs (`client-fetches.ts`: single
 * flight, HTTP caching, a short hold after a failure, a cap on fetches in flight). No redirects: the
 * document must be at its URL (CIMD §4). AS-09 and the AS-18 host policy judge the URL asked for, so
 * an open redirect on a trusted host would otherwise serve anyone's document. Only a valid document
 * becomes a client; an invalid one is a failure like an unreachable URL.
 */
export const CLIENT_METADATA_DOCUMENT: ClientFetchKind<ClientRecord> = {
  name: 'client metadata document',
  plural: 'metadata documents',
  limits: { maxBytes: MAX_DOCUMENT_BYTES, timeoutMs: FETCH_TIMEOUT_MS, redirects: 'none' },
  parse: (fetched, ctx) => clientFromDocument(ctx, fetched.url, fetched.value),
};

/**
 * The client described by the document at `url`. Throws `OAuthError` `invalid_client` with a message
 * for the person on the error page, or `temporarily_unavailable` when too many fetches are under way.
 */
export async function fetchClientMetadataDocument(ctx: AppContext, url: string): Promise<ClientRecord> {
  try {
    return await ctx.clientFetches.get(CLIENT_METADATA_DOCUMENT, url);
  } catch (error) {
    if (error instanceof SafeFetchError) throw documentError(url, error.message, error.reason);
    throw error;
  }
}

/** Validates a document fetched from `url`. Exported for tests of the rules alone. */
export function clientFromDocument(ctx: Pick<AppContext, 'config' | 'capabilities' | 'clock'>, url: string, document: unknown): ClientRecord {
  const fail = (problem: string) => documentError(url, problem, problem);
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw fail('the document must be a JSON object');
  const input = document as Record<string, unknown>;

  // AS-09: a simple string comparison, byte for byte, no normalisation.
  if (input.client_id !== url) throw fail('its client_id must be exactly the URL it was fetched from');
  // AS-12: client_name is required here, where a dynamic registration would default it.
  if (typeof input.client_name !== 'string' || !input.client_name.trim()) throw fail('client_name is required');
  if (input.redirect_uris === undefined) throw fail('redirect_uris is required');
  // SEC-30: a document is public; anyone can read it, so it can hold no shared secret.
  if ('client_secret' in input || 'client_secret_expires_at' in input) throw fail('a metadata document must not contain a client_secret');
  const method = input.token_endpoint_auth_method ?? 'none';
  if (method !== 'none' && method !== 'private_key_jwt') throw fail('token_endpoint_auth_method must be none or private_key_jwt');

  let metadata: ReturnType<typeof validateClientMetadata>;
  try {
    // The registration rules for everything else: redirect URIs (AS-22/AS-23), grant and response
    // types this server offers, scope, https client_uri and logo_uri, a name that cannot deceive, and
    // for private_key_jwt its public keys (jwks or an https jwks_uri; http only with the test-only
    // private-network setting, as for the document itself).
    metadata = validateClientMetadata({ ...input, token_endpoint_auth_method: method }, ctx.capabilities, {
      allowHttpJwksUri: ctx.config.dangerouslyAllowPrivateNetworkFetches,
    });
  } catch (error) {
    if (error instanceof OAuthError) throw fail(error.description);
    throw error;
  }
  return {
    clientId: url,
    secretHash: null,
    ...metadata,
    jwks: metadata.jwks ?? null,
    jwksUri: metadata.jwksUri ?? null,
    metadataHash: null,
    source: 'cimd',
    createdAt: ctx.clock.now(),
  };
}

/** Shown on our error page, never redirected (SEC-06): the redirect URIs are not trusted yet. */
function documentError(url: string, problem: string, reason: string): OAuthError {
  const shown = url.length > 200 ? url.slice(0, 197) + '...' : url;
  return new OAuthError('invalid_client', `The application's metadata document at ${shown} cannot be used: ${lowerFirst(problem)}`, {
    status: 400,
    detail: `client metadata document ${shown}: ${reason}`,
  });
}

const lowerFirst = (s: string): string => {
  const trimmed = s.replace(/\.$/, '');
  return trimmed.charAt(0).toLowerCase() + trimmed.slice(1) + '.';
};
