import type { AppContext } from '../../context.ts';
import type { GrantRecord } from '../../storage/types.ts';
import { randomId } from '../../util/crypto.ts';
import { issueAccessToken } from '../access-token.ts';
import type { TokenResponseBody } from './grant-type.ts';

export interface TokenSet {
  grant: GrantRecord;
  /** The scopes of this access token: the grant's, or fewer when a refresh narrowed them. */
  scopes: readonly string[];
  authTime?: number;
  refreshToken?: string;
  idToken?: string;
  /** `client` for a machine client acting for itself (client_credentials). */
  subjectType?: 'client';
  /** The DPoP key the access token is bound to (RFC 9449 §6.1); absent: a bearer token. */
  dpopJkt?: string | null;
}

/** Mints the access token of a grant and assembles the token response around it. */
export async function tokenResponse(ctx: AppContext, set: TokenSet): Promise<TokenResponseBody> {
  const { token, expiresIn } = await issueAccessToken(ctx, {
    subject: set.grant.userId,
    clientId: set.grant.clientId,
    scopes: set.scopes,
    resource: set.grant.resource,
    grantId: set.grant.id,
    ...(set.authTime !== undefined ? { authTime: set.authTime } : {}),
    ...(set.subjectType !== undefined ? { subjectType: set.subjectType } : {}),
    ...(set.dpopJkt ? { dpopJkt: set.dpopJkt } : {}),
  });
  return {
    access_token: token,
    // RFC 9449 §5: a bound token is announced as such, so the client presents it with `DPoP`.
    token_type: set.dpopJkt ? 'DPoP' : 'Bearer',
    expires_in: expiresIn,
    // OAuth 2.1 §3.2.3: always sent, so clients never have to guess what they were granted.
    scope: set.scopes.join(' '),
    ...(set.refreshToken !== undefined ? { refresh_token: set.refreshToken } : {}),
    ...(set.idToken !== undefined ? { id_token: set.idToken } : {}),
  };
}

/**
 * For grants that issue one access token and no refresh token (client_credentials, jwt-bearer): a
 * grant that lives as long as the token, so revoking it (or removing the client) stops the token
 * at once, then the token response.
 */
export async function singleTokenResponse(
  ctx: AppContext,
  issue: { subject: string; subjectType?: 'client'; clientId: string; scopes: string[]; resource: string; dpopJkt: string | null },
): Promise<{ body: TokenResponseBody; grant: GrantRecord }> {
  const now = ctx.clock.now();
  const grant: GrantRecord = {
    id: 'gnt_' + randomId(ctx.random),
    userId: issue.subject,
    clientId: issue.clientId,
    scopes: issue.scopes,
    resource: issue.resource,
    createdAt: now,
    expiresAt: now + ctx.config.accessTokenTtl * 1000,
    revokedAt: null,
  };
  await ctx.storage.grants.create(grant);
  const body = await tokenResponse(ctx, { grant, scopes: issue.scopes, dpopJkt: issue.dpopJkt, ...(issue.subjectType ? { subjectType: issue.subjectType } : {}) });
  return { body, grant };
}
