import type { AppContext } from '../context.ts';
import { clearLoginFailures, loginLockedUntil, recordLoginFailure } from '../identity/login-backoff.ts';
import type { SignedIn } from '../identity/login-sessions.ts';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../identity/passwords.ts';
import { upstreamProvider } from '../identity/providers/index.ts';
import { MIN_PASSWORD_LENGTH } from '../identity/users.ts';
import type { UserRecord } from '../storage/types.ts';

/** A local account has a password to change; one that signs in at an upstream provider has none here. */
export function hasLocalPassword(ctx: Pick<AppContext, 'identity'>, user: UserRecord): boolean {
  return upstreamProvider(ctx) === null && user.passwordHash !== DUMMY_PASSWORD_HASH;
}

export interface PasswordChange {
  current: string;
  next: string;
  confirm: string;
  address: string;
}

/**
 * Changes the signed-in user's password after checking the current one (under the login back-off, so
 * a browser left signed in cannot be used to guess it), and ends the user's other login sessions.
 * Nothing changes on any error.
 */
export async function changePassword(ctx: AppContext, signedIn: SignedIn, change: PasswordChange): Promise<{ ok: true } | { ok: false; error: string }> {
  const { user, session } = signedIn;
  if (!hasLocalPassword(ctx, user)) return { ok: false, error: 'This account has no password here: it signs in with another service.' };
  if (change.next.length < MIN_PASSWORD_LENGTH) return { ok: false, error: `The new password needs at least ${MIN_PASSWORD_LENGTH} characters. Nothing was changed.` };
  if (change.next !== change.confirm) return { ok: false, error: 'The two new passwords are not the same. Nothing was changed.' };

  const attempt = { username: user.username, address: change.address };
  const now = ctx.clock.now();
  if ((await loginLockedUntil(ctx.storage, attempt, now)) > now) {
    ctx.logger.audit('password.change_failed', { user_id: user.id, reason: 'locked', address: change.address });
    return { ok: false, error: 'Too many wrong passwords. Wait a few minutes and try again. Nothing was changed.' };
  }
  if (!(await verifyPassword(change.current, user.passwordHash))) {
    await recordLoginFailure(ctx.storage, attempt, now);
    ctx.logger.audit('password.change_failed', { user_id: user.id, reason: 'wrong_password', address: change.address });
    return { ok: false, error: 'Your current password is not right. Nothing was changed.' };
  }
  await clearLoginFailures(ctx.storage, user.username);
  await ctx.storage.users.setPassword(user.id, await hashPassword(change.next));
  // Whoever knew the old password may be signed in elsewhere: those sessions end; this one stays.
  const ended = await ctx.storage.loginSessions.removeForUser(user.id, session.idHash);
  ctx.logger.audit('password.changed', { user_id: user.id, other_sessions_ended: ended, address: change.address });
  return { ok: true };
}
