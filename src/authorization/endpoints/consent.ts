import type { Context, Hono } from 'hono';
import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../http/context.ts';
import { issueLoginCsrf, sessionCsrfToken, verifyLoginCsrf, verifySessionCsrf } from '../../identity/csrf.ts';
import { currentLoginSession, type SignedIn } from '../../identity/login-sessions.ts';
import { upstreamProvider, type UpstreamIdentityProvider } from '../../identity/providers/index.ts';
import type { AuthorizationRequestRecord, ClientRecord } from '../../storage/types.ts';
import { renderConsentPage } from '../../ui/index.ts';
import { allLoopback } from '../clients/redirect-uris.ts';
import { resolveClient } from '../clients/resolve-client.ts';
import { loginUrl } from '../authorize/continue.ts';
import { issueAuthorizationCode } from '../authorize/issue-code.ts';
import { branding, errorPage, formExpiredPage, htmlResponse, pageHandler, requestExpiredPage } from '../authorize/pages.ts';
import { readForm } from '../form-body.ts';
import { isRequestId } from '../authorize/pending-requests.ts';
import { parsePrompt } from '../authorize/prompt.ts';
import { codeResponse, errorResponse, seeOther } from '../authorize/redirect.ts';
import { describeScopes } from '../authorize/scope-descriptions.ts';
import { sendUpstream } from '../authorize/upstream-login.ts';

/** The consent page (GET) and the user's decision (POST) for a pending authorization request. */
export function mountConsent(app: Hono, ctx: AppContext): void {
  app.get('/consent', pageHandler(ctx, (c: Context) => showConsent(ctx, c.req.raw)));
  app.post('/consent', pageHandler(ctx, (c: Context) => decideConsent(ctx, c.req.raw)));
}

/**
 * What the user is shown of where they will be sent: the redirect URI's host (AS-17), e.g.
 * `127.0.0.1:33418` or `app.example.com`; for a private-use scheme without a host, the scheme.
 */
export function redirectHost(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.host || url.protocol;
}

async function showConsent(ctx: AppContext, request: Request): Promise<Response> {
  const requestId = new URL(request.url).searchParams.get('request');
  const pending = isRequestId(requestId) ? await ctx.storage.authorizationRequests.get(requestId, ctx.clock.now()) : null;
  if (!pending) return requestExpiredPage(ctx);
  const signedIn = await currentLoginSession(ctx, request);
  const upstream = upstreamProvider(ctx.config);
  if (upstream && needsUpstreamLogin(pending, signedIn)) return showConsentBeforeUpstreamLogin(ctx, request, pending, upstream);
  if (!signedIn) return seeOther(loginUrl(ctx, pending.id));
  const client = await resolveClient(ctx, pending.clientId);
  if (!client) return requestExpiredPage(ctx);
  // Bound to the session's server-side secret and to this request (SEC-26 CSRF protection).
  const viewer = { csrfToken: sessionCsrfToken(signedIn.session, 'consent', pending.id), user: { username: signedIn.user.username } };
  return htmlResponse(ctx, consentPage(ctx, pending, client, viewer));
}

/**
 * With an upstream identity provider, a browser with no session, or one the client wants signed in
 * afresh (prompt=login), is asked for consent before it is sent to the provider (BP-01, UP-01): the
 * user's identity is not known yet. Once back, the callback issues the code for this consent.
 */
function needsUpstreamLogin(pending: AuthorizationRequestRecord, signedIn: SignedIn | null): boolean {
  return !signedIn || parsePrompt(pending.prompt).login;
}

async function showConsentBeforeUpstreamLogin(ctx: AppContext, request: Request, pending: AuthorizationRequestRecord, upstream: UpstreamIdentityProvider): Promise<Response> {
  const client = await resolveClient(ctx, pending.clientId);
  if (!client) return requestExpiredPage(ctx);
  // No session yet: the signed double-submit cookie protects this form, as it does the login form.
  const csrf = await issueLoginCsrf(ctx, request, pending.id, 'consent');
  const headers = new Headers();
  if (csrf.setCookie) headers.append('Set-Cookie', csrf.setCookie);
  return htmlResponse(ctx, consentPage(ctx, pending, client, { csrfToken: csrf.token, signInWith: upstream.displayName }), 200, headers);
}

interface ConsentViewer {
  csrfToken: string;
  user?: { username: string };
  signInWith?: string;
}

function consentPage(ctx: AppContext, pending: AuthorizationRequestRecord, client: ClientRecord, viewer: ConsentViewer): string {
  return renderConsentPage({
    branding: branding(ctx.config),
    action: '/consent',
    csrfToken: viewer.csrfToken,
    hidden: { request: pending.id },
    ...(viewer.user ? { user: viewer.user } : {}),
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

async function decideConsent(ctx: AppContext, request: Request): Promise<Response> {
  const form = await readForm(request);
  const requestId = form.get('request');
  if (!isRequestId(requestId)) return requestExpiredPage(ctx);
  const signedIn = await currentLoginSession(ctx, request);
  const upstream = upstreamProvider(ctx.config);
  if (upstream) {
    const pending = await ctx.storage.authorizationRequests.get(requestId, ctx.clock.now());
    if (!pending) return requestExpiredPage(ctx);
    if (needsUpstreamLogin(pending, signedIn)) return decideBeforeUpstreamLogin(ctx, request, form, pending, upstream);
  }
  if (!signedIn) {
    // The session ended while the page was open: sign in again, then the request continues.
    return seeOther(loginUrl(ctx, requestId));
  }
  if (!verifySessionCsrf(signedIn.session, 'consent', requestId, form.get('csrf_token') ?? undefined)) return formExpiredPage(ctx);
  const decision = form.get('decision');
  if (decision !== 'allow' && decision !== 'deny') {
    return errorPage(ctx, { title: 'No decision was made', message: 'Choose Allow or Deny. Nothing was changed.' }, 400);
  }

  // Atomic: of two submissions of the same form only one finds the request, so one code at most.
  const pending = await ctx.storage.authorizationRequests.take(requestId, ctx.clock.now());
  if (!pending) return requestExpiredPage(ctx);
  const client = await resolveClient(ctx, pending.clientId);
  if (!client) return requestExpiredPage(ctx);
  const audit = { user_id: signedIn.user.id, client_id: client.clientId, scope: pending.scopes.join(' ') };

  if (decision === 'deny') {
    ctx.logger.audit('consent.denied', audit);
    return errorResponse(pending, new OAuthError('access_denied', 'The user denied access.'), ctx.config.issuer);
  }
  await ctx.storage.consents.remember(signedIn.user.id, client.clientId, pending.scopes, ctx.clock.now());
  const code = await issueAuthorizationCode(ctx, pending, client, signedIn.session);
  ctx.logger.audit('consent.granted', audit);
  return codeResponse(pending, code, ctx.config.issuer);
}

async function decideBeforeUpstreamLogin(
  ctx: AppContext,
  request: Request,
  form: URLSearchParams,
  pending: AuthorizationRequestRecord,
  upstream: UpstreamIdentityProvider,
): Promise<Response> {
  if (!(await verifyLoginCsrf(ctx, request, pending.id, form.get('csrf_token') ?? undefined, 'consent'))) return formExpiredPage(ctx);
  const decision = form.get('decision');
  if (decision !== 'allow' && decision !== 'deny') {
    return errorPage(ctx, { title: 'No decision was made', message: 'Choose Allow or Deny. Nothing was changed.' }, 400);
  }
  if (decision === 'deny') {
    const taken = await ctx.storage.authorizationRequests.take(pending.id, ctx.clock.now());
    if (!taken) return requestExpiredPage(ctx);
    ctx.logger.audit('consent.denied', { client_id: taken.clientId, scope: taken.scopes.join(' '), identity_provider: upstream.kind });
    return errorResponse(taken, new OAuthError('access_denied', 'The user denied access.'), ctx.config.issuer);
  }
  return sendUpstream(ctx, request, pending, upstream);
}
