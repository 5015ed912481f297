import type { Storage, UserRecord } from '../storage/types.ts';
import { randomId, type RandomBytes } from '../util/crypto.ts';
import { hashPassword } from './passwords.ts';

export const USERNAME = /^[A-Za-z0-9._@+-]{1,64}$/;
export const MIN_PASSWORD_LENGTH = 10;

/** A group name (tool policy rules name groups): no spaces, so a space-separated claim can carry it too. */
export const GROUP_NAME = /^[A-Za-z0-9._:@+\/=-]{1,100}$/;

export class UserInputError extends Error {
  override name = 'UserInputError';
}

/** Creates a local account. Usernames are case-insensitive (stored lower-case). */
export async function createUser(
  storage: Storage,
  input: { username: string; password: string; isAdmin?: boolean },
  deps: { now: number; random: RandomBytes },
): Promise<UserRecord> {
  const username = input.username.trim().toLowerCase();
  if (!USERNAME.test(username)) throw new UserInputError('A username is 1–64 letters, digits or . _ @ + -');
  if (input.password.length < MIN_PASSWORD_LENGTH) throw new UserInputError(`A password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  if (await storage.users.byUsername(username)) throw new UserInputError(`The user ${username} exists already`);
  const user: UserRecord = {
    id: 'usr_' + randomId(deps.random),
    username,
    passwordHash: await hashPassword(input.password),
    isAdmin: input.isAdmin ?? false,
    createdAt: deps.now,
  };
  await storage.users.create(user);
  return user;
}

/** Group names as given on the command line, checked; duplicates dropped. */
export function checkedGroups(groups: readonly string[]): string[] {
  const bad = groups.find((g) => !GROUP_NAME.test(g));
  if (bad !== undefined) throw new UserInputError(`A group name is 1–100 letters, digits or . _ : @ + / = - (got ${JSON.stringify(bad)})`);
  return [...new Set(groups)];
}
