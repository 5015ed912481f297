import type { Context, Hono } from 'hono';
import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../context.ts';
import { clientAddress, type RateLimiter } from '../../http/rate-limit.ts';
import { issueLoginCsrf, sessionCsrfToken, verifyLoginCsrf, verifySessionCsrf } from '../../identity/csrf.ts';
import { currentLoginSession, type SignedIn } from '../../identity/login-sessions.ts';
import { upstreamProvider, type UpstreamIdentityProvider } from '../../identity/providers/index.ts';
import type { AuthorizationRequestRecord, ClientRecord } from '../../storage/types.ts';
import { renderConsentPage, type SignOutForm } from '../../ui/index.ts';
import { allLoopback } from '../clients/redirect-uris.ts';
import { resolveClient } from '../clients/resolve-client.ts';
import { consentUrl, continueAuthorization, loginUrl } from '../authorize/continue.ts';
import { issueAuthorizationCode } from '../authorize/issue-code.ts';
import { branding, errorPage, formExpiredPage, htmlResponse, pageHandler, requestExpiredPage, tooManyRequestsPage } from '../authorize/pages.ts';
import { readForm } from '../form-body.ts';
import { isRequestId, openPendingRequest, takePendingRequest, type PendingRequest } from '../authorize/pending-requests.ts';
import { parsePrompt } from '../authorize/prompt.ts';
import { codeRedirect, errorResponse, seeOther } from '../authorize/redirect.ts';
import { describeScopes } from '../authorize/scope-descriptions.ts';
import { sendUpstream } from '../authorize/upstream-login.ts';

/** The consent page (GET) and the user's decision (POST) for a pending authorization request. */
export function mountConsent(app: Hono, ctx: AppContext, limiter: RateLimiter): void {
  app.get('/consent', pageHandler(ctx, (c: Context) => showConsent(ctx, c.req.raw)));
  app.post('/consent', pageHandler(ctx, (c: Context) => decideConsent(ctx, c.req.raw, limiter, clientAddress(c))));
}

/**
 * What the user is shown of where they will be sent (AS-17): the host of an https redirect URI
 * (`app.example.com`), and for every other scheme the scheme too (HARD-5), so that neither a loopback
 * port (`http://127.0.0.1:33418`) nor a native app's scheme (`cursor://anysphere.cursor-retrieval`,
 * `com.example.app:`) reads as a website's name.
 */
export function redirectHost(redirectUri: string): string {
  const url = new URL(redirectUri);
  if (url.protocol === 'https:') return url.host;
  return url.host ? `${url.protocol}//${url.host}` : url.protocol;
}

async function showConsent(ctx: AppContext, request: Request): Promise<Response> {
  const pending = await openPendingRequest(ctx, new URL(request.url).searchParams.get('request'));
  if (!pending) return requestExpiredPage(ctx);
  const signedIn = await currentLoginSession(ctx, request);
  const upstream = upstreamProvider(ctx);
  if (upstream && needsUpstreamLogin(pending.request, signedIn)) return showConsentBeforeUpstreamLogin(ctx, request, pending, upstream);
  if (!signedIn) return seeOther(loginUrl(ctx, pending.handle));
  const client = await resolveClient(ctx, pending.request.clientId);
  if (!client) return requestExpiredPage(ctx);
  // A sealed link reached by a signed-in browser (it signed in elsewhere meanwhile): carry on as
  // /authorize would, which stores the request for this consent page or, if consent is remembered, decides.
  if (!pending.stored) return continueAuthorization(ctx, { request: pending.request, stored: false, client, signedIn, justSignedIn: false });
  // Bound to the session's server-side secret and to this request (SEC-26 CSRF protection).
  const viewer = {
    csrfToken: sessionCsrfToken(signedIn.session, 'consent', pending.handle),
    user: { username: signedIn.user.username },
    signOut: { csrfToken: sessionCsrfToken(signedIn.session, 'logout'), hidden: { request: pending.handle } },
  };
  return htmlResponse(ctx, consentPage(ctx, pending, client, viewer));
}

/**
 * With an upstream identity provider, a browser with no session, or one the client wants signed in
 * afresh (prompt=login) or to choose an account (prompt=select_account), is asked for consent before it is sent to the provider (BP-01, UP-01): the
 * user's identity is not known yet. Once back, the callback issues the code for this consent.
 */
function needsUpstreamLogin(pending: AuthorizationRequestRecord, signedIn: SignedIn | null): boolean {
  const prompt = parsePrompt(pending.prompt);
  // The provider is where accounts are chosen: select_account sends the user there again too.
  return !signedIn || prompt.login || prompt.selectAccount;
}

async function showConsentBeforeUpstreamLogin(ctx: AppContext, request: Request, pending: PendingRequest, upstream: UpstreamIdentityProvider): Promise<Response> {
  const client = await resolveClient(ctx, pending.request.clientId);
  if (!client) return requestExpiredPage(ctx);
  // No session yet: the signed double-submit cookie protects this form, as it does the login form.
  const csrf = await issueLoginCsrf(ctx, request, pending.handle, 'consent');
  const headers = new Headers();
  if (csrf.setCookie) headers.append('Set-Cookie', csrf.setCookie);
  return htmlResponse(ctx, consentPage(ctx, pending, client, { csrfToken: csrf.token, signInWith: upstream.displayName }), 200, headers);
}

interface ConsentViewer {
  csrfToken: string;
  user?: { username: string };
  signOut?: SignOutForm;
  signInWith?: string;
}

function consentPage(ctx: AppContext, { request: pending, handle }: PendingRequest, client: ClientRecord, viewer: ConsentViewer): string {
  return renderConsentPage({
    branding: branding(ctx.config),
    action: '/consent',
    csrfToken: viewer.csrfToken,
    hidden: { request: handle },
    ...(viewer.user ? { user: viewer.user } : {}),
    ...(viewer.signOut ? { signOut: viewer.signOut } : {}),
    ...(viewer.signInWith ? { signInWith: viewer.signInWith } : {}),
    client: {
      name: client.clientName,
      clientId: client.clientId,
      redirectHost: redirectHost(pending.redirectUri),
      // AS-15: any local program can claim a loopback-only client's name.
      allRedirectsLoopback: allLoopback(client.redirectUris),
      ...(client.logoUri ? { logoUri: client.logoUri } : {}),
      ...(client.clientUri ? { clientUri: client.clientUri } : {}),
    },
    scopes: describeScopes(ctx.config, pending.scopes),
    resource: pending.resource,
  });
}

async function decideConsent(ctx: AppContext, request: Request, limiter: RateLimiter, address: string): Promise<Response> {
  const form = await readForm(request);
  const handle = form.get('request');
  if (!handle) return requestExpiredPage(ctx);
  const signedIn = await currentLoginSession(ctx, request);
  const upstream = upstreamProvider(ctx);
  if (upstream) {
    const pending = await openPendingRequest(ctx, handle);
    if (!pending) return requestExpiredPage(ctx);
    if (needsUpstreamLogin(pending.request, signedIn)) return decideBeforeUpstreamLogin(ctx, request, form, pending, upstream, limiter, address);
  }
  if (!signedIn) {
    // The session ended while the page was open: sign in again, then the request continues.
    return seeOther(loginUrl(ctx, handle));
  }
  // A signed-in user decides on a stored request only (taken once below); a sealed one goes back to the page.
  if (!isRequestId(handle)) return seeOther(consentUrl(ctx, handle));
  if (!verifySessionCsrf(signedIn.session, 'consent', handle, form.get('csrf_token') ?? undefined)) return formExpiredPage(ctx);
  const decision = form.get('decision');
  if (decision !== 'allow' && decision !== 'deny') {
    return errorPage(ctx, { title: 'No decision was made', message: 'Choose Allow or Deny. Nothing was changed.' }, 400);
  }

  // Atomic: of two submissions of the same form only one finds the request, so one code at most.
  const pending = await ctx.storage.authorizationRequests.take(handle, ctx.clock.now());
  if (!pending) return requestExpiredPage(ctx);
  const client = await resolveClient(ctx, pending.clientId);
  if (!client) return requestExpiredPage(ctx);
  const audit = { user_id: signedIn.user.id, client_id: client.clientId, scope: pending.scopes.join(' ') };

  if (decision === 'deny') {
    ctx.logger.audit('consent.denied', audit);
    return errorResponse(pending, new OAuthError('access_denied', 'The user denied access.'), ctx.config.issuer);
  }
  // The redirect is built before anything is recorded: a URI that cannot be one changes nothing (HARD-3).
  const respond = codeRedirect(pending, ctx.config.issuer);
  await ctx.storage.consents.remember(signedIn.user.id, client.clientId, pending.scopes, ctx.clock.now());
  const code = await issueAuthorizationCode(ctx, pending, client, signedIn.session);
  ctx.logger.audit('consent.granted', audit);
  return respond(code);
}

async function decideBeforeUpstreamLogin(
  ctx: AppContext,
  request: Request,
  form: URLSearchParams,
  pending: PendingRequest,
  upstream: UpstreamIdentityProvider,
  limiter: RateLimiter,
  address: string,
): Promise<Response> {
  if (!(await verifyLoginCsrf(ctx, request, pending.handle, form.get('csrf_token') ?? undefined, 'consent'))) return formExpiredPage(ctx);
  const decision = form.get('decision');
  if (decision !== 'allow' && decision !== 'deny') {
    return errorPage(ctx, { title: 'No decision was made', message: 'Choose Allow or Deny. Nothing was changed.' }, 400);
  }
  if (decision === 'deny') {
    const taken = await takePendingRequest(ctx, pending.handle);
    if (!taken) return requestExpiredPage(ctx);
    ctx.logger.audit('consent.denied', { client_id: taken.clientId, scope: taken.scopes.join(' '), identity_provider: upstream.kind });
    return errorResponse(taken, new OAuthError('access_denied', 'The user denied access.'), ctx.config.issuer);
  }
  // Allow stores the upstream login transaction, the one write a browser with no session can cause:
  // it shares /authorize's per-address budget (HARD-2).
  const limited = await limiter.take(address);
  if (!limited.ok) return tooManyRequestsPage(ctx, limited.retryAfterSeconds);
  return sendUpstream(ctx, request, pending, upstream);
}
