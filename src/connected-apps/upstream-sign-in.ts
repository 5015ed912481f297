import type { Context, Hono } from 'hono';
import { errorPage, pageHandler } from '../authorization/authorize/pages.ts';
import { seeOther } from '../authorization/authorize/redirect.ts';
import { userForUpstreamIdentity } from '../identity/external-users.ts';
import { endLoginSession, startLoginSession } from '../identity/login-sessions.ts';
import { upstreamEnv, UpstreamLoginError, type UpstreamIdentityProvider } from '../identity/providers/index.ts';
import type { UserRecord } from '../storage/types.ts';
import { createUpstreamTransaction, isTransactionHandle, takeUpstreamTransaction, UPSTREAM_TRANSACTION_TTL_MS } from '../identity/upstream-transactions.ts';
import { sessionStytchUser, type PageContext, type SignIn } from './sign-in.ts';

/** What the login transaction carries instead of a pending request: the page's own query, to come back to. */
const RETURN_PREFIX = 'stytch-authorization-page?';

/**
 * Sign-in at an upstream provider: Stytch's OAuth login (e.g. Google), or an OpenID Connect provider,
 * through the same providers and transaction machinery as the gateway's upstream login: the
 * transaction is single use, bound to this browser by a cookie, and PKCE-tied to what the provider
 * returns; the callback is `<path>/callback`. The identity is linked to a Portcullis user by issuer
 * and subject, and `stytchUserOf` names that user's Stytch user (null: sign in again).
 */
export function upstreamSignIn(page: PageContext, login: UpstreamIdentityProvider, stytchUserOf: (user: UserRecord) => Promise<string | null>): SignIn {
  const { ctx, settings } = page;
  const callbackUrl = `${ctx.config.issuer}${settings.path}/callback`;
  const audit = { identity_provider: login.kind, via: 'stytch' };

  async function complete(request: Request): Promise<Response> {
    const callback = new URL(request.url);
    const state = login.stateOf(callback);
    const taken = isTransactionHandle(state) ? await takeUpstreamTransaction(ctx, request, state, login) : null;
    if (taken?.status !== 'ok' || !taken.transaction.requestId.startsWith(RETURN_PREFIX)) {
      ctx.logger.audit('login.failed', { ...audit, reason: taken?.status === 'other_browser' ? 'other_browser' : 'unknown_transaction' });
      return errorPage(ctx, { title: 'This sign-in cannot be completed', message: 'This sign-in link has expired, was already used, or was started in another browser. Go back to the application and connect again.' }, 400);
    }
    let identity;
    try {
      identity = await login.finish(callback, callbackUrl, taken.transaction, upstreamEnv(ctx));
    } catch (error) {
      if (!(error instanceof UpstreamLoginError)) throw error;
      ctx.logger.audit('login.failed', { ...audit, reason: error.reason, detail: error.detail });
      const status = error.reason === 'unavailable' ? 503 : 400;
      return errorPage(ctx, { title: 'Signing in did not complete', message: `Signing in with ${login.displayName} did not complete. Go back to the application and connect again.` }, status);
    }
    const { user, created } = await userForUpstreamIdentity(ctx, identity);
    if (created) ctx.logger.audit('user.created', { ...audit, user_id: user.id, username: user.username, issuer: identity.issuer });
    // A fresh session id, never one the browser brought along (session fixation).
    await endLoginSession(ctx, request);
    const { setCookie } = await startLoginSession(ctx, user);
    ctx.logger.audit('login.succeeded', { ...audit, user_id: user.id, username: user.username });
    return seeOther(`${settings.path}?${taken.transaction.requestId.slice(RETURN_PREFIX.length)}`, new Headers({ 'Set-Cookie': setCookie }));
  }

  return {
    user: sessionStytchUser(ctx, stytchUserOf),
    async start(request, query) {
      let tx;
      try {
        tx = await createUpstreamTransaction(ctx, request, { handle: RETURN_PREFIX + query, expiresAt: ctx.clock.now() + UPSTREAM_TRANSACTION_TTL_MS }, login, (state) =>
          login.start(state, callbackUrl, upstreamEnv(ctx)),
        );
      } catch (error) {
        // The provider cannot even be asked (OIDC discovery failed): nothing was stored.
        if (!(error instanceof UpstreamLoginError)) throw error;
        ctx.logger.warn('identity provider unavailable', { identity_provider: login.kind, reason: error.reason, detail: error.detail });
        return errorPage(ctx, { title: 'Please try again in a moment', message: `Signing in with ${login.displayName} is not possible right now.` }, 503);
      }
      ctx.logger.audit('upstream_login.started', audit);
      return seeOther(tx.url, new Headers({ 'Set-Cookie': tx.setCookie }));
    },
    mount(app: Hono) {
      app.get(`${settings.path}/callback`, pageHandler(ctx, async (c: Context) => (await page.limited(c)) ?? complete(c.req.raw)));
    },
  };
}

/** The Stytch user a Portcullis user signed in with through Stytch's own login (linked by its issuer name and user id). */
export function linkedStytchUser(page: PageContext, stytchIssuer: string): (user: UserRecord) => Promise<string | null> {
  return async (user) => {
    const links = await page.ctx.storage.externalIdentities.listForUser(user.id);
    return links.find((l) => l.provider === 'stytch' && l.issuer === stytchIssuer)?.subject ?? null;
  };
}
