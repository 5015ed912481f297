import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../context.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { checkClientIdUrl } from './client-id-url.ts';
import { fetchClientMetadataDocument } from './metadata-document.ts';

/**
 * The client a `client_id` names: a registered client from storage, or, when the id is an https URL
 * and client ID metadata documents are enabled (MCP AS-06, AS-08), the client its validated
 * document describes (`source: 'cimd'`, never stored). Returns null for an unknown id; throws
 * `OAuthError` `invalid_client` when a document cannot be used, with a message fit for the error page,
 * and `temporarily_unavailable` (503) when too many documents are being fetched already. Fetching,
 * caching and its limits are the policy for every client URL (`client-fetches.ts`).
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
  return documentClient(ctx, clientId);
}

/** The document's client; a refusal is logged for the operator each time it is given. */
async function documentClient(ctx: AppContext, url: string): Promise<ClientRecord> {
  try {
    return await fetchClientMetadataDocument(ctx, url);
  } catch (error) {
    if (error instanceof OAuthError && error.code === 'invalid_client') ctx.logger.warn('client metadata document refused', { client_id: url.slice(0, 200), reason: error.detail });
    throw error;
  }
}

function refused(clientId: string, problem: string, detail = problem): OAuthError {
  return new OAuthError('invalid_client', `This application's client_id cannot be used: ${problem}.`, {
    status: 400,
    detail: `client_id URL ${clientId.slice(0, 200)}: ${detail}`,
  });
}
