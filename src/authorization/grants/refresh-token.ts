import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../context.ts';
import { effectiveScopes, parseScope } from '../../resource/scopes.ts';
import type { GrantRecord } from '../../storage/types.ts';
import { hashSecret } from '../../util/crypto.ts';
import { sameResource } from '../authorize/resource.ts';
import type { GrantType } from './grant-type.ts';
import { tokenResponse } from './issue.ts';
import { familyOf, refreshTokenExpiry, successorOf } from './refresh-secrets.ts';
import type { TokenRequestKey } from './token-dpop.ts';

/** How long before a restart a rotation may have happened for its retry to count after the restart (HARD-9). */
export const RESTART_WINDOW_MS = 15 * 60_000;

const INVALID_REFRESH = 'The refresh token is invalid, expired, or was revoked.';

const invalidGrant = (detail: string): OAuthError => new OAuthError('invalid_grant', INVALID_REFRESH, { detail });

/** SEC-33: the grant is open to clients that registered it, or whose user granted `offline_access`. */
const OFFLINE_ACCESS = 'offline_access';

/**
 * The `refresh_token` grant (OAuth 2.1 §4.3, AS-20, SEC-34..38). Every use rotates the token. The
 * successor is derived from the presented token (`successorOf`), so a retry of the same token within
 * `refreshGracePeriod` (a lost response, two tabs refreshing at once) gets the same successor and a
 * fresh access token. A rotated token presented after the grace period is treated as stolen: the
 * whole grant is revoked (OAuth 2.1 §4.3.1). `refreshGracePeriod: 0` is strict OAuth 2.1 reuse detection.
 *
 * What reuse detection keeps (HARD-8): a grant's live token and the one it replaced, no more. That
 * predecessor answers retries (lost responses) with the same successor; every older spent token is
 * deleted at rotation, and if it comes back its family tag (refresh-secrets.ts) names its grant, which
 * is revoked as for any reuse. So the table holds at most two rows per grant, however often it refreshes.
 *
 * Crashes (HARD-9): a rotation commits before its response is sent. If the server dies in between, the
 * client retries the same token once the server is back, possibly later than the grace period. The rule:
 * a spent token whose successor has never been used is a retry (1) within the grace period of its
 * rotation, or (2) when it was rotated at most `RESTART_WINDOW_MS` before this server process started
 * and the retry comes within the grace period of the start: the grace period does not run while the
 * server is down. A thief's replay is still reuse once the successor has been used, or outside those
 * windows (`isHonestRetry` in the storage layer).
 *
 * The token's bindings (client, scope, resource, grant lifetime, DPoP key) are checked before
 * rotation, so a bad request changes nothing.
 *
 * DPoP (RFC 9449 §5): a public client's grant obtained with a proof is bound to that key, and each
 * refresh needs a proof by it; one by another key (a thief's) is refused without counting as reuse
 * (presenting an old spent token, or /revoke, still ends the grant, as for any client). A grant begun
 * as bearer is bound at the first refresh that carries a proof. A confidential client's refresh tokens
 * are bound by its authentication instead. Either way the new access token is bound to the key of the
 * refresh's proof, if any.
 */
export const refreshTokenGrant: GrantType = {
  name: 'refresh_token',

  // Decided per token in `handle`: a client that did not register the grant may still use a refresh
  // token its user granted through `offline_access`.
  permits: () => true,

  async handle(ctx, client, form, key) {
    const presented = form.require('refresh_token');
    const now = ctx.clock.now();
    const tokenHash = hashSecret(presented);

    // One read for both: the token's bindings and its grant are all checked before anything changes.
    const found = await ctx.storage.refreshTokens.getWithGrant(tokenHash);
    if (!found) {
      await revokeIfOldSpentToken(ctx, client.clientId, presented, now);
      throw invalidGrant('unknown refresh token');
    }
    const { token: record, grant } = found;
    // SEC-34: bound to the client it was issued to. Another client's attempt changes nothing.
    if (record.clientId !== client.clientId) throw invalidGrant('refresh token issued to another client');
    if (!client.grantTypes.includes('refresh_token') && !record.scopes.includes(OFFLINE_ACCESS)) {
      throw new OAuthError('unauthorized_client', 'This client is not registered for the refresh_token grant.');
    }
    if (grant.revokedAt !== null) throw invalidGrant('grant revoked');
    if (grant.expiresAt <= now) throw invalidGrant('grant reached its absolute lifetime');
    checkKeyBinding(grant, key);
    // RFC 9449 §5: a public client that refreshes with a proof binds its refresh tokens to that key from
    // now on (a grant begun as bearer included), before the successor is issued, so no unbound one is.
    if (key !== null && !grant.dpopJkt && client.tokenEndpointAuthMethod === 'none' && !(await ctx.storage.grants.bindDpopKey(grant.id, key))) {
      throw invalidGrant('grant bound to another DPoP key meanwhile, or revoked');
    }

    // RFC 8707 §2.2: a refresh may name the resource again, but only the one granted.
    const resource = form.get('resource');
    if (resource !== undefined && !sameResource(resource, grant.resource)) {
      throw new OAuthError('invalid_target', 'The resource parameter names a resource this authorization was not granted for.');
    }
    const scopes = narrowedScopes(form.get('scope'), grant.scopes);

    const successor = await successorOf(ctx, presented, grant.id);
    const result = await ctx.storage.refreshTokens.rotate({
      tokenHash,
      successor: {
        tokenHash: hashSecret(successor),
        grantId: grant.id,
        clientId: grant.clientId,
        // SEC-36: the new refresh token keeps the grant's scope, whatever this access token asked for.
        scopes: grant.scopes,
        issuedAt: now,
        expiresAt: refreshTokenExpiry(ctx, now, grant.expiresAt),
        rotatedAt: null,
        successorHash: null,
      },
      now,
      // Checked live above; rotation re-checks that atomically and does not read it again.
      grant,
      gracePeriodMs: ctx.config.refreshGracePeriod * 1000,
      startedAt: ctx.startedAt,
      restartWindowMs: RESTART_WINDOW_MS,
    });

    switch (result.status) {
      case 'invalid':
        throw invalidGrant('refresh token expired or its grant ended');
      case 'reused':
        // The storage has revoked the grant; stop its access tokens in this process at once too.
        ctx.grants.markRevoked(result.grantId);
        ctx.logger.audit('refresh.reuse_detected', { client_id: client.clientId, user_id: grant.userId, grant_id: result.grantId });
        throw invalidGrant('rotated refresh token reused after the grace period: grant revoked');
      case 'rotated':
      case 'retry': {
        const body = await tokenResponse(ctx, { grant: result.grant, scopes, refreshToken: successor, dpopJkt: key });
        ctx.logger.audit('token.refreshed', {
          client_id: client.clientId,
          user_id: result.grant.userId,
          grant_id: result.grant.id,
          scope: body.scope,
          retry: result.status === 'retry',
          dpop: key !== null,
        });
        return body;
      }
    }
  },
};

/** RFC 9449 §5: a grant bound to a DPoP key is refreshed only with a proof by that key. Changes nothing. */
function checkKeyBinding(grant: GrantRecord, key: TokenRequestKey): void {
  if (!grant.dpopJkt) return;
  if (key === null) throw new OAuthError('invalid_dpop_proof', 'This refresh token is bound to a DPoP key: send a DPoP proof made with it.');
  if (key !== grant.dpopJkt) throw invalidGrant('DPoP proof key differs from the key the refresh token is bound to');
}

/**
 * An unknown token with a genuine family tag was issued for that grant and has since been deleted as
 * an older spent token: presenting it is reuse, and the grant is revoked (HARD-8). Only for the client
 * the grant belongs to (SEC-34: another client's attempt changes nothing). A grant already gone or
 * revoked, or a token without a genuine tag, changes nothing.
 */
async function revokeIfOldSpentToken(ctx: AppContext, clientId: string, presented: string, now: number): Promise<void> {
  const family = await familyOf(ctx, presented);
  if (!family) return;
  const grant = await ctx.storage.grants.get(family.grantId);
  if (!grant || grant.clientId !== clientId || grant.revokedAt !== null || grant.expiresAt <= now) return;
  if (!(await ctx.grants.revoke(grant.id, now))) return;
  ctx.logger.audit('refresh.reuse_detected', { client_id: clientId, user_id: grant.userId, grant_id: grant.id });
}

/**
 * SEC-36 / OAuth 2.1 §4.3.1: `scope` may name the granted scopes or fewer (including those a
 * granted scope implies, e.g. `tasks:read` under `tasks:write`); absent means all of them.
 */
function narrowedScopes(requested: string | undefined, granted: readonly string[]): string[] {
  if (requested === undefined) return [...granted];
  const scopes = parseScope(requested);
  if (scopes.length === 0) return [...granted];
  const allowed = effectiveScopes(granted);
  if (scopes.some((s) => !allowed.has(s))) {
    throw new OAuthError('invalid_scope', 'A refresh may only ask for scopes that were granted, or fewer.');
  }
  return scopes;
}
