import type { Context, Hono } from 'hono';
import { branding, formExpiredPage, htmlResponse, pageHandler, requestExpiredPage, tooManyRequestsPage } from '../authorization/authorize/pages.ts';
import { seeOther } from '../authorization/authorize/redirect.ts';
import { readForm } from '../authorization/form-body.ts';
import { clientAddress, createRateLimiter } from '../http/rate-limit.ts';
import { clearLoginCsrf, issueLoginCsrf, verifyLoginCsrf } from '../identity/csrf.ts';
import { userForUpstreamIdentity } from '../identity/external-users.ts';
import { clearLoginFailures, loginLockedUntil, recordLoginFailure } from '../identity/login-backoff.ts';
import { endLoginSession, startLoginSession } from '../identity/login-sessions.ts';
import { renderEmailCodePage } from '../ui/index.ts';
import { retryAfterSeconds } from '../util/failure-backoff.ts';
import { askStytch, stytchFailurePage } from './ask-stytch.ts';
import { parseAuthorizationRequest, requestDigest } from './authorization-request.ts';
import { sessionStytchUser, type PageContext, type SignIn } from './sign-in.ts';
import { StytchApiError } from './stytch-idp.ts';
import { linkedStytchUser } from './upstream-sign-in.ts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const CODE = /^[0-9]{6}$/;
const WRONG_CODE = 'That code is not right, or it has expired. Check the latest email, or start again.';
/** Each code is an email Stytch sends on our behalf: one address may ask for a few a minute, not a flood. */
export const EMAIL_CODES_PER_MINUTE = 5;

/**
 * Sign-in at Stytch with a one-time code it e-mails (Stytch's backend API: no public token, no
 * redirect URL, nothing to set up in the dashboard): the person gives an address, Stytch sends a code
 * to it (`otps/email/login_or_create`, creating the user if new), the person types the code, and
 * Stytch names its user (`otps/authenticate`). The Stytch user is linked to a Portcullis user, as
 * with Stytch's OAuth login.
 *
 * Both forms carry a login-CSRF token bound to this browser and to the request (the code form also to
 * the method id Stytch gave, so a form cannot be pointed at someone else's code); wrong codes count
 * towards the per-address and the per-address-and-e-mail back-off of password logins, on top of
 * Stytch's own attempt limit.
 */
export function emailSignIn(page: PageContext): SignIn {
  const { ctx, settings } = page;
  const issuer = `stytch.com/${settings.projectId}`;
  const sendAction = `${settings.path}/email`;
  const codeAction = `${settings.path}/email/code`;
  const audit = { identity_provider: 'stytch-email', via: 'stytch' };
  const sendLimiter = createRateLimiter({ name: 'stytch-email-code', perMinute: EMAIL_CODES_PER_MINUTE, storage: ctx.storage, clock: ctx.clock, metrics: ctx.metrics });

  async function emailPage(request: Request, query: string, view: { status: number; error?: string; email?: string }): Promise<Response> {
    const csrf = await issueLoginCsrf(ctx, request, requestDigest(query));
    const headers = new Headers();
    if (csrf.setCookie) headers.append('Set-Cookie', csrf.setCookie);
    const html = renderEmailCodePage({ branding: branding(ctx.config), action: sendAction, csrfToken: csrf.token, hidden: { request: query }, step: 'email', ...view });
    return htmlResponse(ctx, html, view.status, headers);
  }

  async function codePage(request: Request, query: string, method: string, email: string, view: { status: number; error?: string; headers?: Headers }): Promise<Response> {
    const csrf = await issueLoginCsrf(ctx, request, codeBinding(query, method, email));
    const headers = new Headers(view.headers);
    if (csrf.setCookie) headers.append('Set-Cookie', csrf.setCookie);
    const html = renderEmailCodePage({ branding: branding(ctx.config), action: codeAction, csrfToken: csrf.token, hidden: { request: query, method, email }, step: 'code', email, ...(view.error ? { error: view.error } : {}) });
    return htmlResponse(ctx, html, view.status, headers);
  }

  async function send(request: Request, address: string): Promise<Response> {
    const limited = await sendLimiter.take(address);
    if (!limited.ok) return tooManyRequestsPage(ctx, limited.retryAfterSeconds);
    const form = await readForm(request);
    const query = form.get('request') ?? '';
    if (!parseAuthorizationRequest(new URLSearchParams(query)).ok) return requestExpiredPage(ctx);
    if (!(await verifyLoginCsrf(ctx, request, requestDigest(query), form.get('csrf_token') ?? undefined))) return formExpiredPage(ctx);
    const email = (form.get('email') ?? '').trim().toLowerCase();
    if (!EMAIL.test(email)) return emailPage(request, query, { status: 400, error: 'Enter your email address.', email });
    const method = await askStytch(page, () => page.idp.sendEmailCode(email));
    if (method instanceof Response) return method;
    ctx.logger.audit('upstream_login.started', audit);
    return codePage(request, query, method, email, { status: 200 });
  }

  async function check(request: Request, address: string): Promise<Response> {
    const form = await readForm(request);
    const query = form.get('request') ?? '';
    const method = form.get('method') ?? '';
    const email = form.get('email') ?? '';
    if (!parseAuthorizationRequest(new URLSearchParams(query)).ok || method === '') return requestExpiredPage(ctx);
    if (!(await verifyLoginCsrf(ctx, request, codeBinding(query, method, email), form.get('csrf_token') ?? undefined))) return formExpiredPage(ctx);
    const code = (form.get('code') ?? '').trim();
    if (!CODE.test(code)) return codePage(request, query, method, email, { status: 400, error: 'Enter the 6-digit code from the email.' });

    const attempt = { username: `email:${email}`, address };
    const now = ctx.clock.now();
    const lockedUntil = await loginLockedUntil(ctx.storage, attempt, now);
    if (lockedUntil > now) {
      ctx.logger.audit('login.failed', { ...audit, reason: 'locked', address });
      const wait = retryAfterSeconds(lockedUntil, now);
      return codePage(request, query, method, email, { status: 429, error: 'Too many wrong codes. Wait and try again.', headers: new Headers({ 'Retry-After': String(wait) }) });
    }
    let userId: string;
    try {
      userId = await page.idp.checkEmailCode(method, code);
    } catch (error) {
      // A wrong or spent code is the person's mistake: the form again. Anything else: Stytch's page.
      if (!(error instanceof StytchApiError) || error.status === 401 || error.status >= 500) {
        const failure = stytchFailurePage(page, error);
        if (failure) return failure;
        throw error;
      }
      await recordLoginFailure(ctx.storage, attempt, now);
      ctx.logger.audit('login.failed', { ...audit, reason: error.errorType, address });
      return codePage(request, query, method, email, { status: 400, error: WRONG_CODE });
    }
    await clearLoginFailures(ctx.storage, attempt.username);
    const { user, created } = await userForUpstreamIdentity(ctx, { provider: 'stytch', issuer, subject: userId, email: EMAIL.test(email) ? email : null });
    if (created) ctx.logger.audit('user.created', { ...audit, user_id: user.id, username: user.username, issuer });
    // A fresh session id, never one the browser brought along (session fixation).
    await endLoginSession(ctx, request);
    const { setCookie } = await startLoginSession(ctx, user);
    ctx.logger.audit('login.succeeded', { ...audit, user_id: user.id, username: user.username, address });
    const headers = new Headers();
    headers.append('Set-Cookie', setCookie);
    headers.append('Set-Cookie', clearLoginCsrf(ctx));
    return seeOther(`${settings.path}?${query}`, headers);
  }

  const stytchUserOf = linkedStytchUser(page, issuer);
  return {
    user: sessionStytchUser(ctx, stytchUserOf),
    start: (request, query) => emailPage(request, query, { status: 200 }),
    mount(app: Hono) {
      app.post(sendAction, pageHandler(ctx, async (c: Context) => (await page.limited(c)) ?? send(c.req.raw, clientAddress(c))));
      app.post(codeAction, pageHandler(ctx, async (c: Context) => (await page.limited(c)) ?? check(c.req.raw, clientAddress(c))));
    },
  };
}

/** The code form is bound to the request, and to the address and the method id Stytch gave for it. */
const codeBinding = (query: string, method: string, email: string): string => requestDigest(`${query}\n${method}\n${email}`);
