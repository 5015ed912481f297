import type { GrantStatus } from '../authorization/grant-status.ts';
import type { Logger } from '../log/logger.ts';
import type { Storage, UserRecord } from '../storage/types.ts';
import type { Clock } from '../util/clock.ts';

/**
 * What an administrator can do, from the CLI or /admin: one implementation each, so both revoke the
 * same way (GrantStatus: a grant's refresh tokens end at once, its access tokens at once in this
 * process and within the grant-status cache's bound elsewhere) and write the same audit events.
 */
export interface AdminDeps {
  storage: Storage;
  grants: GrantStatus;
  clock: Clock;
  logger: Logger;
}

/** Who acted: the operator at the command line, or an administrator signed in to /admin. */
export type AdminActor = { via: 'cli' } | { via: 'web'; user: Pick<UserRecord, 'id' | 'username'> };

const actorFields = (actor: AdminActor) =>
  actor.via === 'cli' ? { actor: 'cli' } : { actor: 'web', actor_user_id: actor.user.id, actor_username: actor.user.username };

/** Ends one grant and its tokens. False when it was unknown or already revoked. */
export async function revokeGrant(deps: AdminDeps, actor: AdminActor, grantId: string): Promise<boolean> {
  const grant = await deps.storage.grants.get(grantId);
  if (!grant || !(await deps.grants.revoke(grantId, deps.clock.now()))) return false;
  deps.logger.audit('admin.grant_revoked', { ...actorFields(actor), grant_id: grantId, user_id: grant.userId, client_id: grant.clientId });
  return true;
}

/** Ends one login session (by the hash storage keeps; the browser's cookie holds the id itself). */
export async function endSession(deps: AdminDeps, actor: AdminActor, idHash: string): Promise<boolean> {
  const session = await deps.storage.loginSessions.get(idHash, deps.clock.now());
  if (!session) return false;
  await deps.storage.loginSessions.remove(idHash);
  deps.logger.audit('admin.session_ended', { ...actorFields(actor), user_id: session.userId });
  return true;
}

/** Signs the user out of every browser; returns how many sessions ended. */
export async function endUserSessions(deps: AdminDeps, actor: AdminActor, user: UserRecord): Promise<number> {
  const ended = await deps.storage.loginSessions.removeForUser(user.id);
  deps.logger.audit('admin.sessions_ended', { ...actorFields(actor), user_id: user.id, username: user.username, sessions: ended });
  return ended;
}

/** Ends every grant of the user (all the apps they connected) with their tokens; returns how many. */
export async function revokeUserGrants(deps: AdminDeps, actor: AdminActor, user: UserRecord): Promise<number> {
  const revoked = await deps.storage.grants.revokeForUser(user.id, deps.clock.now());
  for (const id of revoked) deps.grants.markRevoked(id);
  deps.logger.audit('admin.grants_revoked', { ...actorFields(actor), user_id: user.id, username: user.username, grants: revoked.length });
  return revoked.length;
}

/**
 * A new password. Unless `keepSessions`, whoever held the old one is shut out: every session and
 * grant of the user ends (a stolen password's sessions and connected apps go with it).
 */
export async function changePassword(
  deps: AdminDeps,
  actor: AdminActor,
  user: UserRecord,
  passwordHash: string,
  options: { keepSessions: boolean },
): Promise<{ sessions: number; grants: number }> {
  await deps.storage.users.setPassword(user.id, passwordHash);
  deps.logger.audit('admin.password_changed', { ...actorFields(actor), user_id: user.id, username: user.username, kept_sessions: options.keepSessions });
  if (options.keepSessions) return { sessions: 0, grants: 0 };
  return { sessions: await endUserSessions(deps, actor, user), grants: await revokeUserGrants(deps, actor, user) };
}

/** Deletes the account with everything it authorized (grants, tokens, sessions, consents, tasks). */
export async function removeUser(deps: AdminDeps, actor: AdminActor, user: UserRecord): Promise<boolean> {
  // Read first: the removal deletes the grants, and this process's cache must stop their access tokens too.
  const live = await deps.storage.grants.listLive({ now: deps.clock.now(), userId: user.id });
  if (!(await deps.storage.users.remove(user.id))) return false;
  for (const grant of live) deps.grants.markRevoked(grant.id);
  deps.logger.audit('admin.user_removed', { ...actorFields(actor), user_id: user.id, username: user.username, grants: live.length });
  return true;
}

/** Makes the user an administrator (`/admin`) or takes it away. */
export async function setAdmin(deps: AdminDeps, actor: AdminActor, user: UserRecord, isAdmin: boolean): Promise<boolean> {
  if (!(await deps.storage.users.setAdmin(user.id, isAdmin))) return false;
  deps.logger.audit(isAdmin ? 'admin.admin_granted' : 'admin.admin_removed', { ...actorFields(actor), user_id: user.id, username: user.username });
  return true;
}

/** Deletes a client with everything issued to it (its grants end, so do their tokens). */
export async function removeClient(deps: AdminDeps, actor: AdminActor, clientId: string): Promise<boolean> {
  const live = await deps.storage.grants.listLive({ now: deps.clock.now(), clientId });
  if (!(await deps.storage.clients.remove(clientId))) return false;
  for (const grant of live) deps.grants.markRevoked(grant.id);
  deps.logger.audit('admin.client_removed', { ...actorFields(actor), client_id: clientId, grants: live.length });
  return true;
}

/** The audit event of an account or client the operator created. */
export function auditCreated(deps: Pick<AdminDeps, 'logger'>, actor: AdminActor, event: 'admin.user_created' | 'admin.client_added', fields: Record<string, unknown>): void {
  deps.logger.audit(event, { ...actorFields(actor), ...fields });
}
