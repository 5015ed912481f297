import type { Context, Hono } from 'hono';
import { branding, errorPage, htmlResponse, pageHandler } from '../authorization/authorize/pages.ts';
import { seeOther } from '../authorization/authorize/redirect.ts';
import { readForm } from '../authorization/form-body.ts';
import type { AppContext } from '../context.ts';
import { clientAddress } from '../http/rate-limit.ts';
import { issueLoginCsrf, verifyLoginCsrf } from '../identity/csrf.ts';
import { signInWithPassword } from '../identity/password-sign-in.ts';
import { upstreamProvider } from '../identity/providers/index.ts';
import { renderLoginPage } from '../ui/index.ts';

/** The login-CSRF binding of this form: it continues no authorization request, so it names itself. */
const FORM_ID = '/admin';

/**
 * Sign-in for /admin, outside any authorization request: the same password check, back-off and
 * session as the authorization flow's login (identity/password-sign-in.ts), then back to /admin.
 */
export function mountAdminSignIn(app: Hono, ctx: AppContext): void {
  app.get('/admin/sign-in', pageHandler(ctx, (c: Context) => showSignIn(ctx, c.req.raw)));
  app.post('/admin/sign-in', pageHandler(ctx, (c: Context) => submitSignIn(ctx, c.req.raw, clientAddress(c))));
}

/** With an upstream identity provider people sign in there, during an app's authorization; no password here. */
function upstreamOnlyPage(ctx: AppContext): Response {
  return errorPage(
    ctx,
    {
      title: 'Sign in through your identity provider',
      message:
        'This server signs people in with an external identity provider, which is only reached while connecting an app. Connect an app first (that signs this browser in), then open /admin again; or administer the server from its command line.',
    },
    400,
  );
}

async function signInPage(ctx: AppContext, request: Request, view: { status: number; error?: string; username?: string; headers?: Headers }): Promise<Response> {
  const csrf = await issueLoginCsrf(ctx, request, FORM_ID);
  const headers = new Headers(view.headers);
  if (csrf.setCookie) headers.append('Set-Cookie', csrf.setCookie);
  const page = renderLoginPage({
    branding: branding(ctx.config),
    action: '/admin/sign-in',
    csrfToken: csrf.token,
    hidden: {},
    ...(view.error !== undefined ? { error: view.error } : {}),
    ...(view.username !== undefined ? { username: view.username } : {}),
  });
  return htmlResponse(ctx, page, view.status, headers);
}

async function showSignIn(ctx: AppContext, request: Request): Promise<Response> {
  if (upstreamProvider(ctx)) return upstreamOnlyPage(ctx);
  return signInPage(ctx, request, { status: 200 });
}

async function submitSignIn(ctx: AppContext, request: Request, address: string): Promise<Response> {
  if (upstreamProvider(ctx)) return upstreamOnlyPage(ctx);
  const form = await readForm(request);
  if (!(await verifyLoginCsrf(ctx, request, FORM_ID, form.get('csrf_token') ?? undefined))) {
    return signInPage(ctx, request, { status: 403, error: 'This sign-in form had expired. Please sign in again.' });
  }
  const username = form.get('username') ?? '';
  const signIn = await signInWithPassword(ctx, request, { username, password: form.get('password') ?? '' }, { address, audit: { via: 'admin' } });
  if (!signIn.ok) return signInPage(ctx, request, { status: signIn.status, error: signIn.error, username, headers: signIn.headers });
  return seeOther(`${ctx.config.issuer}/admin`, signIn.headers);
}
