import type { AppContext } from '../context.ts';
import { randomId } from '../util/crypto.ts';
import { seconds } from '../util/clock.ts';

/** RFC 9068 §2.1 header type of a JWT access token. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

export interface AccessTokenSubject {
  /** The user (or, for machine clients, the client) the token acts for. */
  subject: string;
  clientId: string;
  scopes: readonly string[];
  /** The RFC 8707 resource: becomes `aud`. */
  resource: string;
  grantId: string;
  authTime?: number;
  /**
   * `client` when the token acts for the client itself (client_credentials): the token then carries
   * `sub_type: "client"` besides its `client:`-prefixed `sub`, so no resource server can take it for a
   * user's token (RFC 9700 §4.15, SEC-32, CC-07).
   */
  subjectType?: 'client';
  /**
   * RFC 9449 §6.1: the JWK SHA-256 thumbprint of the client's DPoP key. The token then carries
   * `cnf.jkt` and is good only with a proof signed by that key.
   */
  dpopJkt?: string;
}

/**
 * Mints a JWT access token per RFC 9068: `iss`, `sub`, `aud`, `client_id`, `scope`, `iat`, `exp`, `jti`,
 * plus `gid` (the grant it belongs to, so a revoked grant's tokens stop working before they expire).
 */
export async function issueAccessToken(ctx: AppContext, s: AccessTokenSubject): Promise<{ token: string; expiresIn: number }> {
  const iat = seconds(ctx.clock.now());
  const expiresIn = ctx.config.accessTokenTtl;
  const token = await ctx.keys.sign(
    {
      iss: ctx.config.issuer,
      sub: s.subject,
      aud: s.resource,
      client_id: s.clientId,
      scope: s.scopes.join(' '),
      iat,
      exp: iat + expiresIn,
      jti: randomId(ctx.random),
      gid: s.grantId,
      ...(s.authTime ? { auth_time: seconds(s.authTime) } : {}),
      ...(s.subjectType ? { sub_type: s.subjectType } : {}),
      ...(s.dpopJkt ? { cnf: { jkt: s.dpopJkt } } : {}),
    },
    ACCESS_TOKEN_TYP,
  );
  return { token, expiresIn };
}
