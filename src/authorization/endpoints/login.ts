import type { Context, Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { clientAddress } from '../../http/rate-limit.ts';
import { issueLoginCsrf, sessionCsrfToken, verifyLoginCsrf, verifySessionCsrf } from '../../identity/csrf.ts';
import { currentLoginSession, endLoginSession } from '../../identity/login-sessions.ts';
import { signInWithPassword } from '../../identity/password-sign-in.ts';
import { upstreamProvider } from '../../identity/providers/index.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { hiddenFields, html, renderLayout, renderLoginPage } from '../../ui/index.ts';
import { consentUrl, continueAuthorization } from '../authorize/continue.ts';
import { resolveClient } from '../clients/resolve-client.ts';
import { branding, formExpiredPage, htmlResponse, pageHandler, requestExpiredPage } from '../authorize/pages.ts';
import { readForm } from '../form-body.ts';
import { openPendingRequest, type PendingRequest } from '../authorize/pending-requests.ts';
import { seeOther } from '../authorize/redirect.ts';

export { LOGIN_FAILED_MESSAGE } from '../../identity/password-sign-in.ts';

/** Local-account login (GET shows the form, POST checks it) and logout, for a pending authorization request. */
export function mountLogin(app: Hono, ctx: AppContext): void {
  app.get('/login', pageHandler(ctx, (c: Context) => showLogin(ctx, c.req.raw)));
  app.post('/login', pageHandler(ctx, (c: Context) => submitLogin(ctx, c.req.raw, clientAddress(c))));
  app.get('/logout', pageHandler(ctx, (c: Context) => showLogout(ctx, c.req.raw)));
  app.post('/logout', pageHandler(ctx, (c: Context) => submitLogout(ctx, c.req.raw)));
}

interface PendingLogin extends PendingRequest {
  client: ClientRecord;
}

/**
 * The pending authorization request a login belongs to (usually sealed in the link: nothing is stored
 * before sign-in); a login page without one has nothing to continue.
 */
async function pendingLogin(ctx: AppContext, handle: string | null): Promise<PendingLogin | null> {
  const pending = await openPendingRequest(ctx, handle);
  const client = pending ? await resolveClient(ctx, pending.request.clientId) : null;
  return pending && client ? { ...pending, client } : null;
}

async function loginPage(
  ctx: AppContext,
  request: Request,
  pending: PendingLogin,
  view: { status: number; error?: string; username?: string; headers?: Headers },
): Promise<Response> {
  const csrf = await issueLoginCsrf(ctx, request, pending.handle);
  const headers = new Headers(view.headers);
  if (csrf.setCookie) headers.append('Set-Cookie', csrf.setCookie);
  const page = renderLoginPage({
    branding: branding(ctx.config),
    action: '/login',
    csrfToken: csrf.token,
    hidden: { request: pending.handle },
    clientName: pending.client.clientName,
    ...(view.error !== undefined ? { error: view.error } : {}),
    ...(view.username !== undefined ? { username: view.username } : {}),
  });
  return htmlResponse(ctx, page, view.status, headers);
}

async function showLogin(ctx: AppContext, request: Request): Promise<Response> {
  const pending = await pendingLogin(ctx, new URL(request.url).searchParams.get('request'));
  if (!pending) return requestExpiredPage(ctx);
  if (upstreamProvider(ctx)) return seeOther(consentUrl(ctx, pending.handle));
  return loginPage(ctx, request, pending, { status: 200 });
}

async function submitLogin(ctx: AppContext, request: Request, address: string): Promise<Response> {
  const form = await readForm(request);
  const pending = await pendingLogin(ctx, form.get('request'));
  if (!pending) return requestExpiredPage(ctx);
  // Users sign in at the upstream identity provider: no password is checked here.
  if (upstreamProvider(ctx)) return seeOther(consentUrl(ctx, pending.handle));
  const clientId = pending.client.clientId;

  // Login CSRF: without the browser's nonce cookie nobody can produce this token. Nothing changes on failure.
  if (!(await verifyLoginCsrf(ctx, request, pending.handle, form.get('csrf_token') ?? undefined))) {
    return loginPage(ctx, request, pending, { status: 403, error: 'This sign-in form had expired. Please sign in again.' });
  }

  const username = form.get('username') ?? '';
  const signIn = await signInWithPassword(ctx, request, { username, password: form.get('password') ?? '' }, { address, audit: { client_id: clientId } });
  if (!signIn.ok) return loginPage(ctx, request, pending, { status: signIn.status, error: signIn.error, username, headers: signIn.headers });
  return continueAuthorization(ctx, {
    request: pending.request,
    stored: pending.stored,
    client: pending.client,
    signedIn: signIn.signedIn,
    justSignedIn: true,
    headers: signIn.headers,
  });
}

async function showLogout(ctx: AppContext, request: Request): Promise<Response> {
  const signedIn = await currentLoginSession(ctx, request);
  const body = signedIn
    ? html`<h1>Sign out</h1>
<p class="lead">You are signed in as <strong>${signedIn.user.username}</strong>.</p>
<form method="post" action="/logout">
${hiddenFields(sessionCsrfToken(signedIn.session, 'logout'), {})}<button type="submit" class="btn btn-primary">Sign out</button>
</form>`
    : html`<h1>You are signed out</h1>
<p>You can close this window.</p>`;
  return htmlResponse(ctx, renderLayout({ branding: branding(ctx.config), title: signedIn ? 'Sign out' : 'Signed out', body }));
}

async function submitLogout(ctx: AppContext, request: Request): Promise<Response> {
  const form = await readForm(request);
  const signedIn = await currentLoginSession(ctx, request);
  if (signedIn && !verifySessionCsrf(signedIn.session, 'logout', '', form.get('csrf_token') ?? undefined)) return formExpiredPage(ctx);
  const headers = new Headers();
  headers.append('Set-Cookie', await endLoginSession(ctx, request));
  if (signedIn) ctx.logger.audit('logout', { user_id: signedIn.user.id });
  return seeOther(`${ctx.config.issuer}/logout`, headers);
}
