import type { AppContext } from '../context.ts';
import type { LoginSessionRecord, UserRecord } from '../storage/types.ts';
import { hashSecret, hmac, opaqueToken, randomId } from '../util/crypto.ts';
import { clearCookie, cookieName, readCookie, serializeCookie, SESSION_COOKIE } from './cookies.ts';

type SessionContext = Pick<AppContext, 'config' | 'storage' | 'clock' | 'random'>;

/** `pcx_` + 43 base64url characters: anything else is not one of ours and costs no database read. */
const SESSION_ID = /^pcx_[A-Za-z0-9_-]{43}$/;

export interface SignedIn {
  /** Its `csrfSecret` is the session's form key (`withFormKey`), not the stored value. */
  session: LoginSessionRecord;
  user: UserRecord;
}

export const sessionCookieName = (ctx: Pick<AppContext, 'config'>): string => cookieName(SESSION_COOKIE, ctx.config.secureCookies);

/** The browser's login session and its user, or null when it has none that is live. */
export async function currentLoginSession(ctx: SessionContext, request: Request): Promise<SignedIn | null> {
  const id = readCookie(request, sessionCookieName(ctx));
  if (!id || !SESSION_ID.test(id)) return null;
  const session = await ctx.storage.loginSessions.get(hashSecret(id), ctx.clock.now());
  if (!session) return null;
  // A removed user's session ends with them.
  const user = await ctx.storage.users.byId(session.userId);
  return user ? { session: withFormKey(session, id), user } : null;
}

/**
 * The key of the session's CSRF tokens: HMAC(session id, stored csrfSecret). The session id lives only
 * in the browser's cookie (storage holds its hash), so reading the database gives nothing to forge a
 * signed-in user's consent or logout form with.
 */
function withFormKey(session: LoginSessionRecord, id: string): LoginSessionRecord {
  return { ...session, csrfSecret: hmac(id, `form key ${session.csrfSecret}`) };
}

/**
 * Signs the browser in: a fresh random session id (never one the browser offered, so a planted cookie
 * cannot be fixed on a victim), stored only as its hash, with its own CSRF secret for later forms.
 * Returns the Set-Cookie header value.
 */
export async function startLoginSession(ctx: SessionContext, user: UserRecord): Promise<{ session: LoginSessionRecord; setCookie: string }> {
  const id = opaqueToken('pcx_', ctx.random);
  const now = ctx.clock.now();
  const session: LoginSessionRecord = {
    idHash: hashSecret(id),
    userId: user.id,
    csrfSecret: randomId(ctx.random, 32),
    createdAt: now,
    expiresAt: now + ctx.config.loginSessionTtl * 1000,
  };
  await ctx.storage.loginSessions.create(session);
  const setCookie = serializeCookie(sessionCookieName(ctx), id, { secure: ctx.config.secureCookies, maxAgeSeconds: ctx.config.loginSessionTtl });
  return { session: withFormKey(session, id), setCookie };
}

/** Ends the browser's session (if any) in storage; returns the Set-Cookie that removes the cookie. */
export async function endLoginSession(ctx: SessionContext, request: Request): Promise<string> {
  const id = readCookie(request, sessionCookieName(ctx));
  if (id && SESSION_ID.test(id)) await ctx.storage.loginSessions.remove(hashSecret(id));
  return clearCookie(sessionCookieName(ctx), ctx.config.secureCookies);
}
