import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../context.ts';
import { upstreamCallbackUrl, upstreamEnv, UpstreamLoginError, type UpstreamIdentityProvider } from '../../identity/providers/index.ts';
import { pageLoginHandle } from '../../identity/return-path.ts';
import { createUpstreamTransaction, UPSTREAM_TRANSACTION_TTL_MS } from '../../identity/upstream-transactions.ts';
import { takePendingRequest, type PendingRequest } from './pending-requests.ts';
import { errorPage, requestExpiredPage } from './pages.ts';
import { parsePrompt } from './prompt.ts';
import { errorResponse, seeOther } from './redirect.ts';

/**
 * Sends the browser to the upstream identity provider for a request the user has just consented to.
 * Only now, after consent, is the login transaction stored and its cookie set, on the very response
 * that redirects upstream (BP-06, UP-02). If the provider cannot even be reached (discovery failed),
 * the client hears `temporarily_unavailable` at its redirect URI, in our words.
 */
export async function sendUpstream(ctx: AppContext, browser: Request, { request: pending, handle }: PendingRequest, provider: UpstreamIdentityProvider): Promise<Response> {
  try {
    const forceLogin = parsePrompt(pending.prompt).login;
    const tx = await createUpstreamTransaction(ctx, browser, { handle, expiresAt: pending.expiresAt }, provider, (state) =>
      provider.start(state, upstreamCallbackUrl(ctx.config), upstreamEnv(ctx), { forceLogin }),
    );
    ctx.logger.audit('upstream_login.started', { client_id: pending.clientId, identity_provider: provider.kind });
    return seeOther(tx.url, new Headers({ 'Set-Cookie': tx.setCookie }));
  } catch (error) {
    if (!(error instanceof UpstreamLoginError)) throw error;
    ctx.logger.warn('identity provider unavailable', { identity_provider: provider.kind, reason: error.reason, detail: error.detail });
    const taken = await takePendingRequest(ctx, handle);
    if (!taken) return requestExpiredPage(ctx);
    return errorResponse(taken, new OAuthError('temporarily_unavailable', 'The sign-in service is not reachable right now. Try again later.'), ctx.config.issuer);
  }
}

/**
 * Sends a browser that opened a page of this server (the account page) to the upstream provider to
 * sign in; the callback returns it to `path` (`pageLoginHandle`). No authorization request is
 * involved, so nothing is issued: the browser only gets a login session.
 */
export async function sendUpstreamToSignIn(ctx: AppContext, browser: Request, path: string, provider: UpstreamIdentityProvider): Promise<Response> {
  try {
    const expiresAt = ctx.clock.now() + UPSTREAM_TRANSACTION_TTL_MS;
    const tx = await createUpstreamTransaction(ctx, browser, { handle: pageLoginHandle(path), expiresAt }, provider, (state) =>
      provider.start(state, upstreamCallbackUrl(ctx.config), upstreamEnv(ctx)),
    );
    ctx.logger.audit('upstream_login.started', { identity_provider: provider.kind, page: path });
    return seeOther(tx.url, new Headers({ 'Set-Cookie': tx.setCookie }));
  } catch (error) {
    if (!(error instanceof UpstreamLoginError)) throw error;
    ctx.logger.warn('identity provider unavailable', { identity_provider: provider.kind, reason: error.reason, detail: error.detail });
    return errorPage(ctx, { title: 'Please try again later', message: `${provider.displayName} is not reachable right now, so you cannot sign in. Try again later.` }, 503);
  }
}
