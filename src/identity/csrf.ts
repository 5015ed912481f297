import type { AppContext } from '../context.ts';
import type { LoginSessionRecord } from '../storage/types.ts';
import { hmac, randomId, safeEqual } from '../util/crypto.ts';
import { clearCookie, cookieName, LOGIN_CSRF_COOKIE, readCookie, serializeCookie } from './cookies.ts';

/**
 * CSRF tokens for the login, consent and logout forms. The token in the page is an HMAC; the secret it
 * is derived from never appears in a page, so reading one page (or guessing) gives nothing to forge
 * another form with.
 *
 * - Before login (no session yet): a signed double-submit cookie (OWASP CSRF cheat sheet). The browser
 *   holds a random nonce in an HttpOnly cookie; the form carries HMAC(server key, nonce + request id).
 *   Without the victim's cookie an attacker cannot produce the token (login CSRF).
 * - With a session: HMAC(session's form key, purpose + request id); the key is derived from the session
 *   id and a stored salt (login-sessions.ts), so neither a page nor the database gives it away.
 *
 * The login-CSRF key is a setting, and settings are stored encrypted (src/storage/sql/sealed-secrets.ts).
 */

type CsrfContext = Pick<AppContext, 'config' | 'secrets' | 'random'>;

const NONCE = /^[A-Za-z0-9_-]{43}$/;
/** How long a login form stays submittable. */
const LOGIN_CSRF_TTL_SECONDS = 3600;

/** The server's login-CSRF key, generated once and shared by every instance through storage. */
const serverKey = (ctx: CsrfContext): Promise<string> => ctx.secrets.loginCsrfKey();

/**
 * A MAC under the same server key, for other pre-login state a page carries (a sealed authorization
 * request). `domain` keeps it apart from CSRF tokens, whose messages start with a form purpose.
 */
export async function serverMac(ctx: CsrfContext, domain: string, value: string): Promise<string> {
  return hmac(await serverKey(ctx), `${domain}:${value}`);
}

const loginCookieName = (ctx: Pick<AppContext, 'config'>): string => cookieName(LOGIN_CSRF_COOKIE, ctx.config.secureCookies);

/**
 * Forms a browser posts before it has a session: the login form, and the consent form shown before
 * the user is sent to an upstream identity provider (BP-01: consent comes first there).
 */
export type PreLoginFormPurpose = 'login' | 'consent';

/**
 * The token for a login form of `requestId`, reusing the browser's nonce cookie when it has one (so
 * two open login tabs both stay valid). `setCookie` is the header to send when a nonce was created.
 */
export async function issueLoginCsrf(ctx: CsrfContext, request: Request, requestId: string, purpose: PreLoginFormPurpose = 'login'): Promise<{ token: string; setCookie: string | null }> {
  const existing = readCookie(request, loginCookieName(ctx));
  const nonce = existing && NONCE.test(existing) ? existing : randomId(ctx.random, 32);
  const token = hmac(await serverKey(ctx), `${purpose}:${nonce}:${requestId}`);
  const setCookie =
    nonce === existing ? null : serializeCookie(loginCookieName(ctx), nonce, { secure: ctx.config.secureCookies, maxAgeSeconds: LOGIN_CSRF_TTL_SECONDS });
  return { token, setCookie };
}

export async function verifyLoginCsrf(
  ctx: CsrfContext,
  request: Request,
  requestId: string,
  token: string | undefined,
  purpose: PreLoginFormPurpose = 'login',
): Promise<boolean> {
  const nonce = readCookie(request, loginCookieName(ctx));
  if (!token || !nonce || !NONCE.test(nonce)) return false;
  return safeEqual(token, hmac(await serverKey(ctx), `${purpose}:${nonce}:${requestId}`));
}

/** Once signed in, the pre-login nonce has done its job: the Set-Cookie that removes it. */
export function clearLoginCsrf(ctx: Pick<AppContext, 'config'>): string {
  return clearCookie(cookieName(LOGIN_CSRF_COOKIE, ctx.config.secureCookies), ctx.config.secureCookies);
}

/** `select-account`: continue as the signed-in account (prompt=select_account); `account`: the account page's forms; `admin`: the admin pages' forms. */
export type SessionFormPurpose = 'consent' | 'logout' | 'select-account' | 'account' | 'admin';

/** The token for a form posted by a signed-in browser, bound to its session and to what it decides. */
export function sessionCsrfToken(session: LoginSessionRecord, purpose: SessionFormPurpose, subject = ''): string {
  return hmac(session.csrfSecret, `${purpose}:${subject}`);
}

export function verifySessionCsrf(session: LoginSessionRecord, purpose: SessionFormPurpose, subject: string, token: string | undefined): boolean {
  return token !== undefined && safeEqual(token, sessionCsrfToken(session, purpose, subject));
}
