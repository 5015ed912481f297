import type { Context, Hono } from 'hono';
import type { AppContext } from '../context.ts';
import { branding, errorPage, formExpiredPage, htmlResponse, pageHandler } from '../authorization/authorize/pages.ts';
import { seeOther } from '../authorization/authorize/redirect.ts';
import { readForm } from '../authorization/form-body.ts';
import { clientAddress } from '../http/rate-limit.ts';
import { sessionCsrfToken, verifySessionCsrf } from '../identity/csrf.ts';
import { currentLoginSession, endLoginSession, type SignedIn } from '../identity/login-sessions.ts';
import { signInUrl } from '../identity/return-path.ts';
import { MIN_PASSWORD_LENGTH } from '../identity/users.ts';
import { renderAccountPage } from '../ui/index.ts';
import { connectedApps, revokeSubject } from './connected-apps.ts';
import { changePassword, hasLocalPassword } from './password.ts';

export const ACCOUNT_PATH = '/account';

/** What the page says after an action (`/account?done=…`): a fixed set, so the query cannot put words on the page. */
const NOTICES: Record<string, string> = {
  // Other instances of a cluster notice within their grant-status cache's bound (README: five seconds).
  revoked: "The application's access was revoked. Its tokens stop working now, and it must ask you again to reconnect.",
  password: 'Your password was changed, and every other browser was signed out.',
};

/**
 * The account page (sign-in required): the applications the user connected, with Revoke; sign out,
 * sign out everywhere; change password for local accounts. Every form is a POST with a token bound
 * to the session and to what it changes (CSRF), and answers with a redirect back (POST/redirect/GET).
 */
export function mountAccount(app: Hono, ctx: AppContext): void {
  app.get(ACCOUNT_PATH, pageHandler(ctx, (c: Context) => signedInOnly(ctx, c.req.raw, (s) => showAccount(ctx, s, c.req.query('done')))));
  app.post(`${ACCOUNT_PATH}/revoke`, pageHandler(ctx, (c: Context) => signedInOnly(ctx, c.req.raw, (s) => revoke(ctx, c.req.raw, s))));
  app.post(`${ACCOUNT_PATH}/sign-out-everywhere`, pageHandler(ctx, (c: Context) => signedInOnly(ctx, c.req.raw, (s) => signOutEverywhere(ctx, c.req.raw, s))));
  app.post(`${ACCOUNT_PATH}/password`, pageHandler(ctx, (c: Context) => signedInOnly(ctx, c.req.raw, (s) => password(ctx, c.req.raw, s, clientAddress(c)))));
}

/** A signed-out browser goes to the login page, which brings it back to the account page; nothing is changed. */
async function signedInOnly(ctx: AppContext, request: Request, handle: (signedIn: SignedIn) => Promise<Response>): Promise<Response> {
  const signedIn = await currentLoginSession(ctx, request);
  return signedIn ? handle(signedIn) : seeOther(signInUrl(ctx.config.issuer, ACCOUNT_PATH));
}

async function showAccount(ctx: AppContext, signedIn: SignedIn, done?: string, passwordError?: string): Promise<Response> {
  const local = hasLocalPassword(ctx, signedIn.user);
  const page = renderAccountPage({
    branding: branding(ctx.config),
    username: signedIn.user.username,
    apps: await connectedApps(ctx, signedIn),
    ...(done !== undefined && Object.hasOwn(NOTICES, done) ? { notice: NOTICES[done]! } : {}),
    signOut: { csrfToken: sessionCsrfToken(signedIn.session, 'logout'), hidden: {} },
    signOutEverywhere: { csrfToken: sessionCsrfToken(signedIn.session, 'account', 'sign-out-everywhere') },
    ...(local ? { password: { csrfToken: sessionCsrfToken(signedIn.session, 'account', 'password'), ...(passwordError ? { error: passwordError } : {}) } } : {}),
    minPasswordLength: MIN_PASSWORD_LENGTH,
    accessTokenMinutes: Math.ceil(ctx.config.accessTokenTtl / 60),
  });
  return htmlResponse(ctx, page, passwordError ? 400 : 200);
}

const backToAccount = (ctx: AppContext, done: keyof typeof NOTICES, headers?: Headers): Response => seeOther(`${ctx.config.issuer}${ACCOUNT_PATH}?done=${done}`, headers);

/**
 * Revoke: the grant and its refresh tokens end in storage, its access tokens at once on this instance
 * and within the grant-status cache's bound on the others (GrantStatus). The remembered consent goes
 * too, so the application has to ask again.
 */
async function revoke(ctx: AppContext, request: Request, signedIn: SignedIn): Promise<Response> {
  const form = await readForm(request);
  const grantId = form.get('grant') ?? '';
  if (!verifySessionCsrf(signedIn.session, 'account', revokeSubject(grantId), form.get('csrf_token') ?? undefined)) return formExpiredPage(ctx);
  const grant = grantId ? await ctx.storage.grants.get(grantId) : null;
  // Someone else's grant is "not found" like a missing one: the page reveals nothing about other users.
  if (!grant || grant.userId !== signedIn.user.id) {
    return errorPage(ctx, { title: 'Nothing to revoke', message: 'That application is not connected to your account (any more). Nothing was changed.' }, 404);
  }
  const revoked = await ctx.grants.revoke(grant.id, ctx.clock.now());
  await ctx.storage.consents.forget(signedIn.user.id, grant.clientId);
  if (revoked) ctx.logger.audit('grant.revoked', { user_id: signedIn.user.id, client_id: grant.clientId, grant_id: grant.id, by: 'user' });
  return backToAccount(ctx, 'revoked');
}

/** Every login session of the user ends, this browser's included; connected applications keep their grants. */
async function signOutEverywhere(ctx: AppContext, request: Request, signedIn: SignedIn): Promise<Response> {
  const form = await readForm(request);
  if (!verifySessionCsrf(signedIn.session, 'account', 'sign-out-everywhere', form.get('csrf_token') ?? undefined)) return formExpiredPage(ctx);
  const ended = await ctx.storage.loginSessions.removeForUser(signedIn.user.id);
  ctx.logger.audit('logout.everywhere', { user_id: signedIn.user.id, sessions: ended });
  const headers = new Headers();
  headers.append('Set-Cookie', await endLoginSession(ctx, request));
  return seeOther(`${ctx.config.issuer}/logout`, headers);
}

async function password(ctx: AppContext, request: Request, signedIn: SignedIn, address: string): Promise<Response> {
  const form = await readForm(request);
  if (!verifySessionCsrf(signedIn.session, 'account', 'password', form.get('csrf_token') ?? undefined)) return formExpiredPage(ctx);
  const result = await changePassword(ctx, signedIn, {
    current: form.get('current_password') ?? '',
    next: form.get('new_password') ?? '',
    confirm: form.get('confirm_password') ?? '',
    address,
  });
  return result.ok ? backToAccount(ctx, 'password') : showAccount(ctx, signedIn, undefined, result.error);
}
