import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../http/context.ts';
import { SafeFetchError, safeFetchJson } from '../../http/safe-fetch.ts';
import type { ClientRecord, JwkSet } from '../../storage/types.ts';
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

export interface FetchedDocument {
  client: ClientRecord;
  headers: Headers;
}

/** Throws `OAuthError` `invalid_client` with a message for the person on the error page. */
export async function fetchClientMetadataDocument(ctx: AppContext, url: string): Promise<FetchedDocument> {
  let fetched: Awaited<ReturnType<typeof safeFetchJson>>;
  try {
    fetched = await safeFetchJson(ctx, url, { maxBytes: MAX_DOCUMENT_BYTES, timeoutMs: FETCH_TIMEOUT_MS });
  } catch (error) {
    if (error instanceof SafeFetchError) throw documentError(url, error.message, error.reason);
    throw error;
  }
  return { client: clientFromDocument(ctx, url, fetched.value), headers: fetched.headers };
}

/** Validates a document fetched from `url`. Exported for tests of the rules alone. */
export function clientFromDocument(ctx: AppContext, url: string, document: unknown): ClientRecord {
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

  const keys = documentKeys(input, fail, ctx.config.dangerouslyAllowPrivateNetworkFetches);
  if (method === 'private_key_jwt' && !keys.jwks && !keys.jwksUri) throw fail('private_key_jwt needs jwks or jwks_uri');

  let metadata: ReturnType<typeof validateClientMetadata>;
  try {
    // The registration rules for everything else: redirect URIs (AS-22/AS-23), grant and response
    // types this server offers, scope, https client_uri and logo_uri, a name that cannot deceive.
    metadata = validateClientMetadata({ ...input, token_endpoint_auth_method: method }, ctx.capabilities);
  } catch (error) {
    if (error instanceof OAuthError) throw fail(error.description);
    throw error;
  }
  return {
    clientId: url,
    secretHash: null,
    ...metadata,
    metadataHash: null,
    source: 'cimd',
    createdAt: ctx.clock.now(),
    ...keys,
  };
}

function documentKeys(input: Record<string, unknown>, fail: (problem: string) => OAuthError, allowHttp: boolean): { jwks: JwkSet | null; jwksUri: string | null } {
  const { jwks, jwks_uri: jwksUri } = input;
  if (jwks != null && jwksUri != null) throw fail('give jwks or jwks_uri, not both');
  if (jwks != null) {
    const keys = (jwks as { keys?: unknown } | null)?.keys;
    if (typeof jwks !== 'object' || jwks === null || !Array.isArray(keys) || keys.some((k) => typeof k !== 'object' || k === null)) {
      throw fail('jwks must be a JWK Set: an object with a keys array');
    }
    // Public keys only: a published private or symmetric key (`d`, `k`) would be a shared secret (SEC-30).
    if ((keys as Record<string, unknown>[]).some((k) => 'd' in k || 'k' in k || k.kty === 'oct')) throw fail('jwks must hold public keys only');
    return { jwks: { keys: keys as Record<string, unknown>[] }, jwksUri: null };
  }
  if (jwksUri != null) {
    // Plain http only for the test-only private-network setting, as for the document itself.
    const https = typeof jwksUri === 'string' && (jwksUri.startsWith('https://') || (allowHttp && jwksUri.startsWith('http://')));
    if (!https || jwksUri.length > 2000) throw fail('jwks_uri must be an https URL');
    return { jwks: null, jwksUri };
  }
  return { jwks: null, jwksUri: null };
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
