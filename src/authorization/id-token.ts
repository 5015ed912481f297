import type { AppContext } from '../context.ts';
import type { UserRecord } from '../storage/types.ts';
import { seconds } from '../util/clock.ts';

/** The scope that turns an authorization into an OpenID Connect authentication. */
export const OPENID_SCOPE = 'openid';

/**
 * The header type of ID tokens. Access tokens are `at+jwt` (RFC 9068), so one can never be passed
 * off as the other although the same key signs both (SEC-54).
 */
export const ID_TOKEN_TYP = 'JWT';

export interface IdTokenInput {
  user: UserRecord;
  clientId: string;
  nonce: string | null;
  /** When the user logged in, epoch ms. */
  authTime: number;
}

/**
 * OIDC Core §2 / §3.1.3.6 ID token for the authorization code flow: `iss`, `sub`, `aud` = the
 * client, `iat`, `exp` (the access token lifetime), `auth_time`, `nonce` when the request had one,
 * and `preferred_username` (§5.1). It is not issued on refresh (OIDC Core §12.2 makes that optional,
 * and the original `auth_time` would have to be kept for it).
 */
export async function issueIdToken(ctx: AppContext, input: IdTokenInput): Promise<string> {
  const iat = seconds(ctx.clock.now());
  return ctx.keys.sign(
    {
      iss: ctx.config.issuer,
      sub: input.user.id,
      aud: input.clientId,
      iat,
      exp: iat + ctx.config.accessTokenTtl,
      auth_time: seconds(input.authTime),
      ...(input.nonce !== null ? { nonce: input.nonce } : {}),
      preferred_username: input.user.username,
    },
    ID_TOKEN_TYP,
  );
}
