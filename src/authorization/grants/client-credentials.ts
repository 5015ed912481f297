import { OAuthError } from '../../errors/oauth-error.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { parseScope } from '../../resource/scopes.ts';
import type { GrantType } from './grant-type.ts';
import { singleTokenResponse } from './issue.ts';
import { refuseBuiltInScopes, requestedResource, requestedScopes } from './token-request.ts';

export const CLIENT_CREDENTIALS_GRANT = 'client_credentials';

/**
 * The subject of a token a client obtains for itself. User ids never contain `:` (they are
 * `usr_…` or generated ids), so `client:<client_id>` cannot name a user (RFC 9700 §4.15, SEC-32, CC-07).
 */
export const CLIENT_SUBJECT_PREFIX = 'client:';

export const clientSubject = (clientId: string): string => CLIENT_SUBJECT_PREFIX + clientId;

/**
 * The `client_credentials` grant (OAuth 2.1 §4.2; the MCP client-credentials extension, CC-01..CC-07).
 *
 * - Only pre-registered confidential clients (`portcullis clients add --grant client_credentials`)
 *   may use it (CC-02): never a dynamically registered, CIMD or public client. The token endpoint has
 *   already authenticated the client with `client_secret_basic`, `client_secret_post` or `private_key_jwt`.
 * - `resource` names the audience (default: our MCP endpoint); anything else is `invalid_target` (CC-05).
 * - `scope` must lie within the client's registered scopes (or, when it registered none, the
 *   configured ones); absent, the client gets its registered scopes, else the default scopes.
 * - No refresh token (OAuth 2.1 §4.2.3): the client asks again with its credentials.
 * - The token acts for the client: `sub` = `client:<client_id>` with `sub_type: "client"`, so it
 *   cannot pass for a user's (CC-07). Tools see that subject; the task tools give such a client its
 *   own task list, kept under that subject, never a user's.
 *
 * Each issuance gets its own grant record, living as long as its token, so revoking the token
 * (RFC 7009) or removing the client ends it at once through the `gid` liveness check.
 */
export const clientCredentialsGrant: GrantType = {
  name: CLIENT_CREDENTIALS_GRANT,

  permits: (client) => client.source === 'cli' && client.tokenEndpointAuthMethod !== 'none' && client.grantTypes.includes(CLIENT_CREDENTIALS_GRANT),

  async handle(ctx, client, form, key) {
    const resource = requestedResource(ctx, form) ?? ctx.config.resource;
    const scopes = scopesFor(client, requestedScopes(ctx, form), ctx.config.scopes.map((s) => s.name), ctx.config.defaultScopes);

    const { body, grant } = await singleTokenResponse(ctx, { subject: clientSubject(client.clientId), subjectType: 'client', clientId: client.clientId, scopes, resource, dpopJkt: key });
    ctx.logger.audit('token.issued', { grant_type: CLIENT_CREDENTIALS_GRANT, client_id: client.clientId, grant_id: grant.id, scope: body.scope, resource, dpop: key !== null });
    return body;
  },
};

/** The scopes to issue: the request within what the client may have (CC-05, RFC 6749 §3.3). */
function scopesFor(client: ClientRecord, requested: string[] | null, configured: string[], defaults: string[]): string[] {
  const allowed = client.scope === null ? configured : parseScope(client.scope);
  if (requested === null) {
    const scopes = client.scope === null ? defaults : allowed.filter((s) => configured.includes(s));
    if (scopes.length === 0) throw new OAuthError('invalid_scope', 'The request names no scope and this client has no default scopes; name the scopes you need.');
    return scopes;
  }
  refuseBuiltInScopes(requested, CLIENT_CREDENTIALS_GRANT, configured);
  const outside = requested.filter((s) => !allowed.includes(s));
  if (outside.length > 0) throw new OAuthError('invalid_scope', 'This client is not registered for some of the requested scopes.', { detail: `not registered: ${outside.join(' ')}` });
  if (requested.length === 0) throw new OAuthError('invalid_scope', 'The scope parameter names no scope.');
  return requested;
}
