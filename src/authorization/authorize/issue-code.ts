import type { AppContext } from '../../context.ts';
import type { AuthorizationCodeRecord, AuthorizationRequestRecord, ClientRecord, LoginSessionRecord } from '../../storage/types.ts';
import { hashSecret, opaqueToken, randomId } from '../../util/crypto.ts';

/**
 * Mints the authorization code for a decided request. Only its hash is stored, bound to the client,
 * redirect URI, PKCE challenge, scopes and resource (SEC-12, RFC 8707), and to the DPoP key named at
 * /authorize if any (RFC 9449 §10); the token endpoint redeems it once and creates the grant
 * `grantId` names. A refresh token will be issued when the client registered the refresh_token grant
 * or asked for offline_access.
 */
export async function issueAuthorizationCode(
  ctx: Pick<AppContext, 'config' | 'storage' | 'clock' | 'random'>,
  request: AuthorizationRequestRecord,
  client: ClientRecord,
  session: LoginSessionRecord,
): Promise<string> {
  const code = opaqueToken('pcc_', ctx.random);
  const record: AuthorizationCodeRecord = {
    codeHash: hashSecret(code),
    grantId: 'gnt_' + randomId(ctx.random),
    clientId: client.clientId,
    userId: session.userId,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    scopes: request.scopes,
    resource: request.resource,
    nonce: request.nonce,
    authTime: session.createdAt,
    issueRefreshToken: client.grantTypes.includes('refresh_token') || request.scopes.includes('offline_access'),
    expiresAt: ctx.clock.now() + ctx.config.authorizationCodeTtl * 1000,
    ...(request.dpopJkt ? { dpopJkt: request.dpopJkt } : {}),
  };
  await ctx.storage.authorizationCodes.create(record);
  return code;
}
