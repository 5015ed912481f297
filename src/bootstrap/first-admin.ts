import { generatePassword } from '../identity/passwords.ts';
import { createUser, UserInputError } from '../identity/users.ts';
import type { Storage } from '../storage/types.ts';
import type { Clock } from '../util/clock.ts';
import type { RandomBytes } from '../util/crypto.ts';

export const FIRST_ADMIN_USERNAME = 'admin';

export interface FirstAdmin {
  username: string;
  /** In clear, for the start-up output only: it is stored as a scrypt hash and never logged. */
  password: string;
}

/**
 * On a database with no users, creates the administrator `admin` with a generated password and
 * returns it so the caller can print it. That is what makes the password "one-time": it exists in
 * clear only in this return value, and once any user exists this never runs again. Nothing forces
 * a change of password (there is no password-change page yet); `portcullis users passwd admin`
 * replaces it.
 */
export async function ensureFirstAdmin(storage: Storage, deps: { clock: Clock; random: RandomBytes }): Promise<FirstAdmin | null> {
  if ((await storage.users.count()) > 0) return null;
  const password = generatePassword();
  try {
    await createUser(storage, { username: FIRST_ADMIN_USERNAME, password, isAdmin: true }, { now: deps.clock.now(), random: deps.random });
  } catch (error) {
    // Another instance starting on the same database created it first: theirs is the one to print.
    if (error instanceof UserInputError || (await storage.users.byUsername(FIRST_ADMIN_USERNAME))) return null;
    throw error;
  }
  return { username: FIRST_ADMIN_USERNAME, password };
}
