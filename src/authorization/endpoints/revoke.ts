import type { Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { LocalTokenVerifier } from '../../resource/verify-local.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { hashSecret } from '../../util/crypto.ts';
import { mountBackChannel } from '../back-channel.ts';
import { REFRESH_TOKEN_PREFIX } from '../grants/refresh-secrets.ts';

/**
 * Token revocation (RFC 7009, SEC-52). The client authenticates as at the token endpoint (a public
 * client names itself with `client_id`). The answer is `200` whether or not the token was known,
 * valid, or the caller's (RFC 7009 §2.2), so the endpoint reveals nothing about tokens.
 *
 * Revoking either kind of token revokes its whole grant: the refresh token family and, through
 * `gid`, every access token of the grant (RFC 7009 §2.1 SHOULD / MAY). A token of another client
 * is left alone. `token_type_hint` is not needed: the two kinds are told apart by their shape.
 */
export function mountRevocation(app: Hono, ctx: AppContext): void {
  // Tokens this server issued for any of its resources (config.resources), not only its own MCP URL.
  const verifier = new LocalTokenVerifier(ctx, { audience: 'every issued resource' });

  mountBackChannel(app, ctx, {
    path: '/revoke',
    authMethods: ctx.capabilities.revocationAuthMethods,
    async answer({ client, form }) {
      const owned = await grantOfOwnToken(ctx, verifier, client, form.require('token'));
      if (owned) {
        const revoked = await ctx.grants.revoke(owned.grantId, ctx.clock.now());
        if (revoked) ctx.logger.audit('token.revoked', { client_id: client.clientId, grant_id: owned.grantId, token_type: owned.kind });
      }
      return null;
    },
  });
}

/** The grant a token of ours belongs to, if it was issued to `client`; null for anything else. */
async function grantOfOwnToken(
  ctx: AppContext,
  verifier: LocalTokenVerifier,
  client: ClientRecord,
  token: string,
): Promise<{ grantId: string; kind: 'refresh_token' | 'access_token' } | null> {
  if (token.startsWith(REFRESH_TOKEN_PREFIX)) {
    const record = await ctx.storage.refreshTokens.get(hashSecret(token));
    return record && record.clientId === client.clientId ? { grantId: record.grantId, kind: 'refresh_token' } : null;
  }
  // An access token counts only with a valid signature from our keys; an expired or already revoked
  // one has nothing left to revoke.
  const outcome = await verifier.verify(token);
  if (!outcome.ok || outcome.token.clientId !== client.clientId) return null;
  const gid = outcome.token.claims['gid'];
  return typeof gid === 'string' ? { grantId: gid, kind: 'access_token' } : null;
}
