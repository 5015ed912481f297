import type { Context, Hono } from 'hono';
import { formExpiredPage, htmlResponse, pageHandler, branding, requestExpiredPage } from '../authorization/authorize/pages.ts';
import { seeOther } from '../authorization/authorize/redirect.ts';
import { LOGIN_FAILED_MESSAGE } from '../authorization/endpoints/login.ts';
import { readForm } from '../authorization/form-body.ts';
import { clientAddress } from '../http/rate-limit.ts';
import { checkPassword, normalizeUsername } from '../identity/authenticate.ts';
import { clearLoginCsrf, issueLoginCsrf, verifyLoginCsrf } from '../identity/csrf.ts';
import { clearLoginFailures, loginLockedUntil, recordLoginFailure } from '../identity/login-backoff.ts';
import { endLoginSession, startLoginSession } from '../identity/login-sessions.ts';
import type { UserRecord } from '../storage/types.ts';
import { renderLoginPage } from '../ui/index.ts';
import { retryAfterSeconds } from '../util/failure-backoff.ts';
import { parseAuthorizationRequest, requestDigest } from './authorization-request.ts';
import { sessionStytchUser, type PageContext, type SignIn } from './sign-in.ts';

/**
 * Sign-in with a Portcullis account (`portcullis users add`); `stytchUserOf` finds its Stytch user
 * (`trusted-auth-token.ts`: this server vouches for the account to Stytch).
 *
 * The login form is the one the built-in authorization server uses, with the same login-CSRF cookie
 * and per-username and per-address back-off.
 */
export function localSignIn(page: PageContext, stytchUserOf: (user: UserRecord) => Promise<string>): SignIn {
  const { ctx, settings } = page;
  const action = `${settings.path}/login`;

  async function loginPage(request: Request, query: string, view: { status: number; error?: string; username?: string; headers?: Headers }): Promise<Response> {
    const csrf = await issueLoginCsrf(ctx, request, requestDigest(query));
    const headers = new Headers(view.headers);
    if (csrf.setCookie) headers.append('Set-Cookie', csrf.setCookie);
    const html = renderLoginPage({
      branding: branding(ctx.config),
      action,
      csrfToken: csrf.token,
      hidden: { request: query },
      ...(view.error !== undefined ? { error: view.error } : {}),
      ...(view.username !== undefined ? { username: view.username } : {}),
    });
    return htmlResponse(ctx, html, view.status, headers);
  }

  async function submit(request: Request, address: string): Promise<Response> {
    const form = await readForm(request);
    const query = form.get('request') ?? '';
    if (!parseAuthorizationRequest(new URLSearchParams(query)).ok) return requestExpiredPage(ctx);
    if (!(await verifyLoginCsrf(ctx, request, requestDigest(query), form.get('csrf_token') ?? undefined))) return formExpiredPage(ctx);
    const username = form.get('username') ?? '';
    const password = form.get('password') ?? '';
    if (username.trim() === '' || password === '') return loginPage(request, query, { status: 400, error: 'Enter your username and password.', username });

    const attempt = { username: normalizeUsername(username), address };
    const now = ctx.clock.now();
    const lockedUntil = await loginLockedUntil(ctx.storage, attempt, now);
    if (lockedUntil > now) {
      const wait = retryAfterSeconds(lockedUntil, now);
      ctx.logger.audit('login.failed', { reason: 'locked', address, via: 'stytch' });
      return loginPage(request, query, { status: 429, error: 'Too many failed sign-in attempts. Wait and try again.', username, headers: new Headers({ 'Retry-After': String(wait) }) });
    }
    const check = await checkPassword(ctx.storage, attempt.username, password);
    if (!check.ok) {
      await recordLoginFailure(ctx.storage, attempt, now);
      const account = check.account ? { user_id: check.account.id, username: check.account.username } : {};
      ctx.logger.audit('login.failed', { reason: check.account ? 'wrong_password' : 'unknown_user', ...account, address, via: 'stytch' });
      return loginPage(request, query, { status: 400, error: LOGIN_FAILED_MESSAGE, username });
    }
    await clearLoginFailures(ctx.storage, attempt.username);
    await endLoginSession(ctx, request);
    const { setCookie } = await startLoginSession(ctx, check.user);
    ctx.logger.audit('login.succeeded', { user_id: check.user.id, username: check.user.username, address, via: 'stytch' });
    const headers = new Headers();
    headers.append('Set-Cookie', setCookie);
    headers.append('Set-Cookie', clearLoginCsrf(ctx));
    return seeOther(`${settings.path}?${query}`, headers);
  }

  return {
    user: sessionStytchUser(ctx, stytchUserOf),
    start: (request, query) => loginPage(request, query, { status: 200 }),
    mount(app: Hono) {
      app.post(action, pageHandler(ctx, async (c: Context) => (await page.limited(c)) ?? submit(c.req.raw, clientAddress(c))));
    },
  };
}
