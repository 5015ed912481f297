import type { AppContext } from '../context.ts';
import { retryAfterSeconds } from '../util/failure-backoff.ts';
import { checkPassword, normalizeUsername } from './authenticate.ts';
import { clearLoginCsrf } from './csrf.ts';
import { clearLoginFailures, loginLockedUntil, recordLoginFailure } from './login-backoff.ts';
import { endLoginSession, startLoginSession, type SignedIn } from './login-sessions.ts';

/** One message for every wrong-credentials case, so the page does not reveal which usernames exist. */
export const LOGIN_FAILED_MESSAGE = 'That username and password do not match.';

export type PasswordSignIn =
  /** Signed in: `headers` carries the new session's cookie (and clears the login-CSRF cookie). */
  | { ok: true; signedIn: SignedIn; headers: Headers }
  /** Refused: the page shows `error` with `status` (and `headers`, e.g. Retry-After), nothing else changed. */
  | { ok: false; status: number; error: string; headers: Headers };

/**
 * A username and password posted by a sign-in form (whose CSRF token the caller has checked): the
 * back-off per name and address (no password is checked while locked), the check, the audit events,
 * and on success a fresh session replacing the browser's old one. Used by the authorization flow's
 * login and by sign-in pages outside it (/admin). `audit` adds fields to the login events.
 */
export async function signInWithPassword(
  ctx: AppContext,
  request: Request,
  form: { username: string; password: string },
  context: { address: string; audit?: Record<string, unknown> },
): Promise<PasswordSignIn> {
  const { username, password } = form;
  if (username.trim() === '' || password === '') return { ok: false, status: 400, error: 'Enter your username and password.', headers: new Headers() };
  const { address } = context;
  const audit = context.audit ?? {};

  const attempt = { username: normalizeUsername(username), address };
  const now = ctx.clock.now();
  const lockedUntil = await loginLockedUntil(ctx.storage, attempt, now);
  if (lockedUntil > now) {
    // Locked: the password is not even checked, so guessing on costs time and gains nothing.
    const wait = retryAfterSeconds(lockedUntil, now);
    ctx.logger.audit('login.failed', { reason: 'locked', ...audit, address });
    return { ok: false, status: 429, error: `Too many failed sign-in attempts. Wait ${describeWait(wait)} and try again.`, headers: new Headers({ 'Retry-After': String(wait) }) };
  }

  const check = await checkPassword(ctx.storage, attempt.username, password);
  if (!check.ok) {
    await recordLoginFailure(ctx.storage, attempt, now);
    // The attempted name is logged only when it is an account: a password typed into the username field stays out of the logs.
    const account = check.account ? { user_id: check.account.id, username: check.account.username } : {};
    ctx.logger.audit('login.failed', { reason: check.account ? 'wrong_password' : 'unknown_user', ...account, ...audit, address });
    return { ok: false, status: 400, error: LOGIN_FAILED_MESSAGE, headers: new Headers() };
  }
  const user = check.user;

  await clearLoginFailures(ctx.storage, attempt.username);
  await endLoginSession(ctx, request);
  const { session, setCookie } = await startLoginSession(ctx, user);
  ctx.logger.audit('login.succeeded', { user_id: user.id, username: user.username, ...audit, address });

  const headers = new Headers();
  headers.append('Set-Cookie', setCookie);
  headers.append('Set-Cookie', clearLoginCsrf(ctx));
  return { ok: true, signedIn: { session, user }, headers };
}

function describeWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
