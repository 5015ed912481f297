import type { AppContext } from '../../http/context.ts';
import type { GrantRecord } from '../../storage/types.ts';
import { issueAccessToken } from '../access-token.ts';
import type { TokenResponseBody } from './grant-type.ts';

export interface TokenSet {
  grant: GrantRecord;
  /** The scopes of this access token: the grant's, or fewer when a refresh narrowed them. */
  scopes: readonly string[];
  authTime?: number;
  refreshToken?: string;
  idToken?: string;
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
  });
  return {
    access_token: token,
    token_type: 'Bearer',
    expires_in: expiresIn,
    // OAuth 2.1 §3.2.3: always sent, so clients never have to guess what they were granted.
    scope: set.scopes.join(' '),
    ...(set.refreshToken !== undefined ? { refresh_token: set.refreshToken } : {}),
    ...(set.idToken !== undefined ? { id_token: set.idToken } : {}),
  };
}
