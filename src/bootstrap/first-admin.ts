import { resolve } from 'node:path';
import { ConfigError } from '../config/resolve.ts';
import { generatePassword } from '../identity/passwords.ts';
import { createUser, UserInputError } from '../identity/users.ts';
import type { Storage } from '../storage/types.ts';
import type { Clock } from '../util/clock.ts';
import type { RandomBytes } from '../util/crypto.ts';
import { writeSecretFile } from './secret-file.ts';

export const FIRST_ADMIN_USERNAME = 'admin';

/**
 * The administrator created on the first start, and where its password went: in clear here, for the
 * start-up output only (it is stored as a scrypt hash and never logged), or written to a file
 * readable only by the server's user, of which only the path is kept.
 */
export type FirstAdmin = { username: string; password: string } | { username: string; passwordFile: string };

/**
 * On a database with no users, creates the administrator `admin` with a generated password and
 * returns it so the caller can print it, or writes it to `passwordFile` and returns that path.
 * That is what makes the password "one-time": it exists in clear only in this return value or that
 * file, and once any user exists this never runs again. Nothing forces a change of password (there
 * is no password-change page yet); `portcullis users passwd admin` replaces it.
 */
export async function ensureFirstAdmin(
  storage: Storage,
  deps: { clock: Clock; random: RandomBytes },
  options: { passwordFile?: string | undefined; password?: string | undefined } = {},
): Promise<FirstAdmin | null> {
  if ((await storage.users.count()) > 0) return null;
  // Given by the operator (Workers: PORTCULLIS_INITIAL_ADMIN_PASSWORD), or generated here.
  const password = options.password ?? generatePassword();
  let user;
  try {
    user = await createUser(storage, { username: FIRST_ADMIN_USERNAME, password, isAdmin: true }, { now: deps.clock.now(), random: deps.random });
  } catch (error) {
    // Another instance starting on the same database created it first: theirs is the one to print.
    if (error instanceof UserInputError || (await storage.users.byUsername(FIRST_ADMIN_USERNAME))) return null;
    throw error;
  }
  if (!options.passwordFile) return { username: FIRST_ADMIN_USERNAME, password };
  const passwordFile = resolve(options.passwordFile);
  try {
    await writeSecretFile(passwordFile, `${password}\n`);
  } catch (error) {
    // An account whose password reached no one is useless: undo it, so the next start tries again.
    await storage.users.remove(user.id);
    throw new ConfigError(`Cannot write the first administrator's password to ${passwordFile}: ${(error as Error).message}. Check PORTCULLIS_INITIAL_ADMIN_PASSWORD_FILE.`);
  }
  return { username: FIRST_ADMIN_USERNAME, passwordFile };
}
