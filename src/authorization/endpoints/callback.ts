import type { Context, Hono } from 'hono';
import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../context.ts';
import { clientAddress, createRateLimiter } from '../../http/rate-limit.ts';
import { clearLoginCsrf } from '../../identity/csrf.ts';
import { userForUpstreamIdentity } from '../../identity/external-users.ts';
import { endLoginSession, startLoginSession } from '../../identity/login-sessions.ts';
import { upstreamCallbackUrl, upstreamEnv, UpstreamLoginError, upstreamProvider, type UpstreamIdentityProvider } from '../../identity/providers/index.ts';
import { pageOfLoginHandle } from '../../identity/return-path.ts';
import { isTransactionHandle, takeUpstreamTransaction } from '../../identity/upstream-transactions.ts';
import type { UpstreamIdentity } from '../../identity/providers/types.ts';
import type { UpstreamTransactionRecord } from '../../storage/types.ts';
import { issueAuthorizationCode } from '../authorize/issue-code.ts';
import { takePendingRequest } from '../authorize/pending-requests.ts';
import { resolveClient } from '../clients/resolve-client.ts';
import { errorPage, pageHandler, requestExpiredPage, tooManyRequestsPage } from '../authorize/pages.ts';
import { codeRedirect, errorResponse, seeOther } from '../authorize/redirect.ts';

/**
 * Each callback costs a round trip or two to the provider (token exchange, JWKS, userinfo), so one
 * address may not drive them in bulk (OAuth 2.1 §7.7; seed 2 defect 12: no rate limits). A person
 * needs one per sign-in; the margin is for many people behind one NAT.
 */
export const CALLBACK_PER_MINUTE = 60;

/**
 * `GET /callback`: where the upstream identity provider sends the browser back. Mounted only when
 * one is configured (with local accounts there is nothing to call back, and nothing is exposed).
 *
 * In order, each step refusing without a code:
 * 1. the transaction the callback names is taken (single use, 10 minutes) and must belong to this
 *    browser (its cookie) — seed 2 defect 1 matched callbacks to the newest /authorize of anyone;
 * 2. the pending authorization request it continues is taken (one code per request at most);
 * 3. the provider verifies the callback (OIDC: code + PKCE + nonce + ID token; Stytch: one-time
 *    token + PKCE). A failure reaches the MCP client as `access_denied` at its validated redirect
 *    URI, in our words only (seed 2 reflected the provider's error text);
 * 4. the identity is linked to a local user by issuer and subject (UP-06), the browser gets a fresh
 *    login session (so its next authorization need not go upstream), the consent given before the
 *    redirect is remembered for that user, and the code goes out through the usual code path.
 *
 * The callback never redirects anywhere but the redirect URI bound to the pending request (UP-07),
 * or, for a sign-in to a page of this server (the account page), that page (step 2 and the code are
 * skipped: nothing is issued, the browser only gets its session).
 */
export function mountUpstreamCallback(app: Hono, ctx: AppContext): void {
  const provider = upstreamProvider(ctx);
  if (!provider) return;
  const limiter = createRateLimiter({ name: 'callback', perMinute: CALLBACK_PER_MINUTE, storage: ctx.storage, clock: ctx.clock, metrics: ctx.metrics });
  app.get(
    '/callback',
    pageHandler(ctx, async (c: Context) => {
      const limited = await limiter.take(clientAddress(c));
      if (!limited.ok) return tooManyRequestsPage(ctx, limited.retryAfterSeconds);
      return completeUpstreamLogin(ctx, provider, c.req.raw);
    }),
  );
}

async function completeUpstreamLogin(ctx: AppContext, provider: UpstreamIdentityProvider, request: Request): Promise<Response> {
  const callback = new URL(request.url);
  const audit = { identity_provider: provider.kind };

  const state = provider.stateOf(callback);
  if (!isTransactionHandle(state)) {
    ctx.logger.audit('login.failed', { ...audit, reason: 'no_transaction' });
    return refusedPage(ctx);
  }
  const taken = await takeUpstreamTransaction(ctx, request, state, provider);
  if (taken.status !== 'ok') {
    ctx.logger.audit('login.failed', { ...audit, reason: taken.status === 'other_browser' ? 'other_browser' : 'unknown_transaction' });
    return refusedPage(ctx);
  }

  const page = pageOfLoginHandle(taken.transaction.requestId);
  if (page) return completePageSignIn(ctx, provider, request, callback, taken.transaction, page);

  const now = ctx.clock.now();
  // The transaction names the request by its handle: usually sealed, as nothing is stored before sign-in.
  const pending = await takePendingRequest(ctx, taken.transaction.requestId);
  const client = pending ? await resolveClient(ctx, pending.clientId) : null;
  if (!pending || !client) return requestExpiredPage(ctx);

  let identity;
  try {
    identity = await provider.finish(callback, upstreamCallbackUrl(ctx.config), taken.transaction, upstreamEnv(ctx));
  } catch (error) {
    if (!(error instanceof UpstreamLoginError)) throw error;
    ctx.logger.audit('login.failed', { ...audit, reason: error.reason, detail: error.detail, client_id: client.clientId });
    const denied = new OAuthError('access_denied', `Signing in with ${provider.displayName} did not complete.`);
    return errorResponse(pending, denied, ctx.config.issuer);
  }

  const { user, session, headers } = await signInAs(ctx, provider, request, identity, { client_id: client.clientId });
  // Built before anything is recorded (HARD-3).
  const respond = codeRedirect(pending, ctx.config.issuer, headers);
  // The user allowed this client on the consent page before being sent upstream (BP-01, BP-02).
  await ctx.storage.consents.remember(user.id, client.clientId, pending.scopes, now);
  ctx.logger.audit('consent.granted', { user_id: user.id, client_id: client.clientId, scope: pending.scopes.join(' ') });
  const code = await issueAuthorizationCode(ctx, pending, client, session);
  return respond(code);
}

/**
 * The local user of an upstream identity (linked or created: UP-06), signed in with a fresh session
 * id, never one the browser brought along (session fixation). Returns the headers that set it.
 */
async function signInAs(ctx: AppContext, provider: UpstreamIdentityProvider, request: Request, identity: UpstreamIdentity, auditFields: Record<string, string>) {
  const audit = { identity_provider: provider.kind };
  const { user, created } = await userForUpstreamIdentity(ctx, identity);
  if (created) ctx.logger.audit('user.created', { ...audit, user_id: user.id, username: user.username, issuer: identity.issuer });
  // The provider is the source of the person's groups (tool policy): they follow it at every login.
  if (identity.groups) await ctx.storage.users.setGroups(user.id, identity.groups);
  await endLoginSession(ctx, request);
  const { session, setCookie } = await startLoginSession(ctx, user);
  ctx.logger.audit('login.succeeded', { ...audit, user_id: user.id, username: user.username, ...auditFields });
  const headers = new Headers();
  headers.append('Set-Cookie', setCookie);
  headers.append('Set-Cookie', clearLoginCsrf(ctx));
  return { user, session, headers };
}

/** A sign-in to a page of this server (the account page): the browser gets a session and goes back to it; nothing is issued. */
async function completePageSignIn(
  ctx: AppContext,
  provider: UpstreamIdentityProvider,
  request: Request,
  callback: URL,
  transaction: UpstreamTransactionRecord,
  path: string,
): Promise<Response> {
  let identity;
  try {
    identity = await provider.finish(callback, upstreamCallbackUrl(ctx.config), transaction, upstreamEnv(ctx));
  } catch (error) {
    if (!(error instanceof UpstreamLoginError)) throw error;
    ctx.logger.audit('login.failed', { identity_provider: provider.kind, reason: error.reason, detail: error.detail, page: path });
    return errorPage(ctx, { title: 'This sign-in cannot be completed', message: `Signing in with ${provider.displayName} did not complete. Open the page again to try once more.` }, 400);
  }
  const { headers } = await signInAs(ctx, provider, request, identity, { page: path });
  return seeOther(`${ctx.config.issuer}${path}`, headers);
}

/** One page for every refused callback; the audit log has the reason. */
function refusedPage(ctx: AppContext): Response {
  return errorPage(
    ctx,
    {
      title: 'This sign-in cannot be completed',
      message: 'This sign-in link has expired, was already used, or was started in another browser. Go back to the application and connect again.',
    },
    400,
  );
}
