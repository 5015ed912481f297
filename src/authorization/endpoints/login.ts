import type { Context, Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { clientAddress, type RateLimiter } from '../../http/rate-limit.ts';
import { issueLoginCsrf, sessionCsrfToken, verifyLoginCsrf, verifySessionCsrf } from '../../identity/csrf.ts';
import { currentLoginSession, endLoginSession, type SignedIn } from '../../identity/login-sessions.ts';
import { signInWithPassword } from '../../identity/password-sign-in.ts';
import { upstreamProvider } from '../../identity/providers/index.ts';
import { returnPath } from '../../identity/return-path.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { html, renderLayout, renderLoginPage, signOutForm, type LoginView } from '../../ui/index.ts';
import { consentUrl, continueAuthorization, loginUrl } from '../authorize/continue.ts';
import { resolveClient } from '../clients/resolve-client.ts';
import { branding, formExpiredPage, htmlResponse, pageHandler, requestExpiredPage, tooManyRequestsPage } from '../authorize/pages.ts';
import { sendUpstreamToSignIn } from '../authorize/upstream-login.ts';
import { readForm } from '../form-body.ts';
import { openPendingRequest, type PendingRequest } from '../authorize/pending-requests.ts';
import { parsePrompt } from '../authorize/prompt.ts';
import { seeOther } from '../authorize/redirect.ts';

export { LOGIN_FAILED_MESSAGE } from '../../identity/password-sign-in.ts';

/**
 * Local-account login (GET shows the form, POST checks it) and logout. A login continues a pending
 * authorization request (`request=`), or returns to a page of this server (`next=/account`).
 */
export function mountLogin(app: Hono, ctx: AppContext, limiter: RateLimiter): void {
  app.get('/login', pageHandler(ctx, (c: Context) => showLogin(ctx, c.req.raw)));
  app.post('/login', pageHandler(ctx, (c: Context) => submitLogin(ctx, c.req.raw, clientAddress(c), limiter)));
  app.get('/logout', pageHandler(ctx, (c: Context) => showLogout(ctx, c.req.raw)));
  app.post('/logout', pageHandler(ctx, (c: Context) => submitLogout(ctx, c.req.raw)));
}

interface PendingLogin extends PendingRequest {
  client: ClientRecord;
}

/** What a login leads to: an authorization request, or a page of this server (the account page, /admin). */
type LoginTarget = { kind: 'authorization'; pending: PendingLogin } | { kind: 'page'; path: string };

/** What the login CSRF token of a target is bound to, and the fields its form carries. */
const csrfSubject = (t: LoginTarget): string => (t.kind === 'authorization' ? t.pending.handle : `next:${t.path}`);
const targetFields = (t: LoginTarget): Record<string, string> => (t.kind === 'authorization' ? { request: t.pending.handle } : { next: t.path });

/**
 * The pending authorization request a login belongs to (usually sealed in the link: nothing is stored
 * before sign-in), or the page to return to; null when there is neither (nothing to continue).
 */
async function loginTarget(ctx: AppContext, handle: string | null, next: string | null): Promise<LoginTarget | null> {
  if (handle !== null) {
    const pending = await openPendingRequest(ctx, handle);
    const client = pending ? await resolveClient(ctx, pending.request.clientId) : null;
    return pending && client ? { kind: 'authorization', pending: { ...pending, client } } : null;
  }
  const path = returnPath(next);
  return path ? { kind: 'page', path } : null;
}

/** What the login page says a sign-in is for, by the page it returns to (others: "Sign in to <server>"). */
const PURPOSES: Partial<Record<string, string>> = { '/account': 'Sign in to manage your account and the applications you connected.' };

async function loginPage(
  ctx: AppContext,
  request: Request,
  target: LoginTarget,
  view: { status: number; error?: string; username?: string; headers?: Headers; signedIn?: SignedIn | null; signInWith?: string },
): Promise<Response> {
  const csrf = await issueLoginCsrf(ctx, request, csrfSubject(target));
  const headers = new Headers(view.headers);
  if (csrf.setCookie) headers.append('Set-Cookie', csrf.setCookie);
  const fields = targetFields(target);
  const page = renderLoginPage({
    branding: branding(ctx.config),
    action: '/login',
    csrfToken: csrf.token,
    hidden: fields,
    ...(target.kind === 'authorization' ? { clientName: target.pending.client.clientName } : PURPOSES[target.path] ? { purpose: PURPOSES[target.path]! } : {}),
    ...(view.error !== undefined ? { error: view.error } : {}),
    ...(view.username !== undefined ? { username: view.username } : {}),
    ...(view.signedIn ? { current: currentAccount(target, view.signedIn) } : {}),
    ...(view.signInWith ? { signInWith: view.signInWith } : {}),
  });
  return htmlResponse(ctx, page, view.status, headers);
}

/**
 * A browser that is signed in already sees the login page when the client asked for a fresh sign-in
 * (prompt=login) or a choice of account (prompt=select_account): it says who is signed in, offers to
 * sign out, and for select_account to continue as that account.
 */
function currentAccount(target: LoginTarget, signedIn: SignedIn): NonNullable<LoginView['current']> {
  const fields = targetFields(target);
  const selecting = target.kind === 'authorization' && parsePrompt(target.pending.request.prompt).selectAccount;
  return {
    username: signedIn.user.username,
    signOut: { csrfToken: sessionCsrfToken(signedIn.session, 'logout'), hidden: fields },
    ...(selecting ? { continueAs: { csrfToken: sessionCsrfToken(signedIn.session, 'select-account', csrfSubject(target)), hidden: fields } } : {}),
  };
}

async function showLogin(ctx: AppContext, request: Request): Promise<Response> {
  const query = new URL(request.url).searchParams;
  const target = await loginTarget(ctx, query.get('request'), query.get('next'));
  if (!target) return requestExpiredPage(ctx);
  const signedIn = await currentLoginSession(ctx, request);
  if (target.kind === 'page') {
    if (signedIn) return seeOther(`${ctx.config.issuer}${target.path}`);
    const upstream = upstreamProvider(ctx);
    return loginPage(ctx, request, target, { status: 200, ...(upstream ? { signInWith: upstream.displayName } : {}) });
  }
  if (upstreamProvider(ctx)) return seeOther(consentUrl(ctx, target.pending.handle));
  return loginPage(ctx, request, target, { status: 200, signedIn });
}

/**
 * `limiter` is /authorize's per-address budget: starting an upstream sign-in for a page stores a
 * transaction, a write a signed-out browser can cause, so it counts as an authorization request (HARD-2).
 */
async function submitLogin(ctx: AppContext, request: Request, address: string, limiter: RateLimiter): Promise<Response> {
  const form = await readForm(request);
  const target = await loginTarget(ctx, form.get('request'), form.get('next'));
  if (!target) return requestExpiredPage(ctx);
  // Users sign in at the upstream identity provider: no password is checked here.
  const upstream = upstreamProvider(ctx);
  if (upstream) {
    if (target.kind === 'authorization') return seeOther(consentUrl(ctx, target.pending.handle));
    if (!(await verifyLoginCsrf(ctx, request, csrfSubject(target), form.get('csrf_token') ?? undefined))) return formExpiredPage(ctx);
    // Awaited: a limiter may keep its counts in the store, shared by every instance.
    const limited = await limiter.take(address);
    if (!limited.ok) return tooManyRequestsPage(ctx, limited.retryAfterSeconds);
    return sendUpstreamToSignIn(ctx, request, target.path, upstream);
  }
  if (form.get('account') === 'continue') return continueAsCurrentAccount(ctx, request, form, target);

  // Login CSRF: without the browser's nonce cookie nobody can produce this token. Nothing changes on failure.
  if (!(await verifyLoginCsrf(ctx, request, csrfSubject(target), form.get('csrf_token') ?? undefined))) {
    return loginPage(ctx, request, target, { status: 403, error: 'This sign-in form had expired. Please sign in again.' });
  }
  const username = form.get('username') ?? '';
  const clientId = target.kind === 'authorization' ? { client_id: target.pending.client.clientId } : {};
  const signIn = await signInWithPassword(ctx, request, { username, password: form.get('password') ?? '' }, { address, audit: clientId });
  if (!signIn.ok) return loginPage(ctx, request, target, { status: signIn.status, error: signIn.error, username, headers: signIn.headers });
  if (target.kind === 'page') return seeOther(`${ctx.config.issuer}${target.path}`, signIn.headers);
  const { pending } = target;
  return continueAuthorization(ctx, { request: pending.request, stored: pending.stored, client: pending.client, signedIn: signIn.signedIn, justSignedIn: true, headers: signIn.headers });
}

/** prompt=select_account answered with the account the browser is signed in with. */
async function continueAsCurrentAccount(ctx: AppContext, request: Request, form: URLSearchParams, target: LoginTarget): Promise<Response> {
  if (target.kind !== 'authorization') return requestExpiredPage(ctx);
  const signedIn = await currentLoginSession(ctx, request);
  const { pending } = target;
  // The session ended meanwhile: the login page again, now without the choice.
  if (!signedIn) return seeOther(loginUrl(ctx, pending.handle));
  if (!verifySessionCsrf(signedIn.session, 'select-account', pending.handle, form.get('csrf_token') ?? undefined)) return formExpiredPage(ctx);
  return continueAuthorization(ctx, { request: pending.request, stored: pending.stored, client: pending.client, signedIn, justSignedIn: false, accountChosen: true });
}

async function showLogout(ctx: AppContext, request: Request): Promise<Response> {
  const signedIn = await currentLoginSession(ctx, request);
  const body = signedIn
    ? html`<h1>Sign out</h1>
<p class="lead">You are signed in as <strong>${signedIn.user.username}</strong>.</p>
${signOutForm({ csrfToken: sessionCsrfToken(signedIn.session, 'logout'), hidden: {} }, 'button')}
<p class="small fineprint"><a href="/account">Your account and connected applications</a></p>`
    : html`<h1>You are signed out</h1>
<p>You can close this window.</p>`;
  return htmlResponse(ctx, renderLayout({ branding: branding(ctx.config), title: signedIn ? 'Sign out' : 'Signed out', body }));
}

/**
 * Ends the browser's session. From the login or consent page of a pending request ("Not you? Sign
 * out") the browser goes back to that request's login page, to sign in as someone else.
 */
async function submitLogout(ctx: AppContext, request: Request): Promise<Response> {
  const form = await readForm(request);
  const signedIn = await currentLoginSession(ctx, request);
  if (signedIn && !verifySessionCsrf(signedIn.session, 'logout', '', form.get('csrf_token') ?? undefined)) return formExpiredPage(ctx);
  const headers = new Headers();
  headers.append('Set-Cookie', await endLoginSession(ctx, request));
  if (signedIn) ctx.logger.audit('logout', { user_id: signedIn.user.id });
  const handle = form.get('request');
  return seeOther(handle ? loginUrl(ctx, handle) : `${ctx.config.issuer}/logout`, headers);
}
