import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../context.ts';
import type { AuthorizationCodeRecord, ClientRecord } from '../../storage/types.ts';
import { hashSecret, PKCE_VERIFIER, pkceS256, safeEqual } from '../../util/crypto.ts';
import { sameResource } from '../authorize/resource.ts';
import type { FormParams } from '../form.ts';
import { issueIdToken, OPENID_SCOPE } from '../id-token.ts';
import type { GrantType } from './grant-type.ts';
import { tokenResponse } from './issue.ts';
import { newRefreshToken, refreshTokenExpiry } from './refresh-secrets.ts';
import type { TokenRequestKey } from './token-dpop.ts';

/** One description for every unusable code, so the response tells a guesser nothing. */
const INVALID_CODE = 'The authorization code is invalid, expired, or was issued to another client.';

const invalidGrant = (detail: string): OAuthError => new OAuthError('invalid_grant', INVALID_CODE, { detail });

/**
 * The `authorization_code` grant (OAuth 2.1 §4.1.3, SEC-15..18).
 *
 * Order matters. The code is first read without being used (`peek`) and every binding is checked:
 * the client (SEC-17), the PKCE verifier (RFC 7636 §4.6), `redirect_uri` when sent (SEC-18),
 * `resource` (RFC 8707) and the DPoP key named at /authorize (RFC 9449 §10). A request failing any
 * of them changes nothing: the code stays usable by its rightful client, since nobody else can
 * produce its verifier, and a bad request is never taken for a replay (SEC-16: revoking on an invalid replay would hand attackers a denial of service).
 * Only then is the code redeemed, atomically with the creation of its grant and its first refresh
 * token (HARD-9: no crash can leave a grant without one). A second *valid* redemption is a replay:
 * the grant the code issued is revoked with all its tokens.
 */
export const authorizationCodeGrant: GrantType = {
  name: 'authorization_code',

  permits: (client) => client.grantTypes.includes('authorization_code'),

  async handle(ctx, client, form, key) {
    const code = form.require('code');
    const verifier = form.require('code_verifier');
    if (!PKCE_VERIFIER.test(verifier)) {
      throw new OAuthError('invalid_request', 'The code_verifier must be 43 to 128 unreserved characters (RFC 7636 section 4.1).');
    }

    const now = ctx.clock.now();
    const codeHash = hashSecret(code);
    const found = await ctx.storage.authorizationCodes.peek(codeHash, now);
    if (!found) throw invalidGrant('unknown or expired code');
    checkBindings(found.code, client, verifier, form, key);

    const grantExpiresAt = now + ctx.config.refreshTokenAbsoluteTtl * 1000;
    const refreshToken = found.code.issueRefreshToken ? await newRefreshToken(ctx, found.code.grantId) : undefined;
    const firstRefresh = refreshToken === undefined ? null : { tokenHash: hashSecret(refreshToken), expiresAt: refreshTokenExpiry(ctx, now, grantExpiresAt) };
    // RFC 9449 §5: a public client's refresh tokens are bound to its DPoP key, since it has no
    // credentials of its own that could keep a stolen refresh token useless.
    const grantKey = key !== null && client.tokenEndpointAuthMethod === 'none' ? key : null;
    const redeemed = await ctx.storage.authorizationCodes.redeem(codeHash, now, grantExpiresAt, firstRefresh, grantKey);
    if (redeemed.status === 'replayed') {
      await revokeWhatTheCodeIssued(ctx, redeemed.code, now);
      throw invalidGrant('code replayed: its grant was revoked');
    }
    if (redeemed.status === 'invalid') throw invalidGrant('code expired before it was redeemed');

    const { code: record, grant } = redeemed;

    let idToken: string | undefined;
    if (grant.scopes.includes(OPENID_SCOPE)) {
      const user = await ctx.storage.users.byId(grant.userId);
      if (!user) {
        // The account was removed between login and redemption: nothing may be issued for it.
        await ctx.grants.revoke(grant.id, now);
        throw invalidGrant('the user no longer exists');
      }
      idToken = await issueIdToken(ctx, { user, clientId: client.clientId, nonce: record.nonce, authTime: record.authTime });
    }

    const body = await tokenResponse(ctx, {
      grant,
      scopes: grant.scopes,
      authTime: record.authTime,
      dpopJkt: key,
      ...(refreshToken !== undefined ? { refreshToken } : {}),
      ...(idToken !== undefined ? { idToken } : {}),
    });
    ctx.logger.audit('token.issued', {
      grant_type: 'authorization_code',
      client_id: client.clientId,
      user_id: grant.userId,
      grant_id: grant.id,
      scope: body.scope,
      offline: refreshToken !== undefined,
      dpop: key !== null,
    });
    return body;
  },
};

/** Every binding of the code to the request that redeems it. Throws without changing anything. */
function checkBindings(code: AuthorizationCodeRecord, client: ClientRecord, verifier: string, form: FormParams, key: TokenRequestKey): void {
  // SEC-17: issued to this (authenticated, or for public clients named) client.
  if (code.clientId !== client.clientId) throw invalidGrant('code issued to another client');
  // RFC 7636 §4.6: BASE64URL(SHA256(verifier)) must equal the stored S256 challenge.
  if (!safeEqual(pkceS256(verifier), code.codeChallenge)) throw invalidGrant('PKCE verifier does not match the challenge');
  // SEC-18: OAuth 2.1 drops redirect_uri here; an OAuth 2.0 client that sends it must send the same one.
  const redirectUri = form.get('redirect_uri');
  if (redirectUri !== undefined && redirectUri !== code.redirectUri) throw invalidGrant('redirect_uri differs from the authorization request');
  // RFC 8707 §2.2: the token is for the resource the user consented to, and no other.
  const resource = form.get('resource');
  if (resource !== undefined && !sameResource(resource, code.resource)) {
    throw new OAuthError('invalid_target', 'The resource parameter names a resource this authorization was not granted for.');
  }
  // RFC 9449 §10: a code requested with `dpop_jkt` is redeemed only with a proof by that key.
  if (code.dpopJkt) {
    if (key === null) throw new OAuthError('invalid_dpop_proof', 'This authorization code is bound to a DPoP key: send a DPoP proof made with it.');
    if (key !== code.dpopJkt) throw invalidGrant('DPoP proof key differs from the dpop_jkt of the authorization request');
  }
}

/** SEC-16 / OAuth 2.1 §4.1.3: a code redeemed twice revokes everything it issued. */
async function revokeWhatTheCodeIssued(ctx: AppContext, code: AuthorizationCodeRecord, now: number): Promise<void> {
  await ctx.grants.revoke(code.grantId, now);
  ctx.logger.audit('code.replayed', { client_id: code.clientId, user_id: code.userId, grant_id: code.grantId });
}
