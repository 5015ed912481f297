import type { Storage, UserRecord } from '../storage/types.ts';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './passwords.ts';

/** Usernames are stored lower-case (see users.ts); the login form accepts any case and surrounding spaces. */
export const normalizeUsername = (username: string): string => username.trim().toLowerCase();

export type PasswordCheck =
  | { ok: true; user: UserRecord }
  /** `account` is the user the name belongs to (wrong password), or null (no such user): for the audit log only. */
  | { ok: false; account: UserRecord | null };

/**
 * Checks a username and password. An unknown username is checked against a dummy hash, so it costs
 * the same time as a wrong password and the answer does not reveal which usernames exist.
 */
export async function checkPassword(storage: Storage, username: string, password: string): Promise<PasswordCheck> {
  const user = await storage.users.byUsername(normalizeUsername(username));
  const matches = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  return matches && user ? { ok: true, user } : { ok: false, account: user };
}
