import type { Storage } from '../storage/types.ts';

/**
 * Back-off after failed logins, counted per username and per client address over a window. Once a
 * counter passes its threshold every further failure locks the key for twice as long as the last,
 * up to a ceiling; while locked no password is checked at all (so guessing costs the attacker time,
 * not us CPU). The per-address threshold is higher because many people may share one address.
 */
export const LOGIN_BACKOFF = {
  windowMs: 15 * 60_000,
  perUsername: 5,
  perAddress: 20,
  firstLockMs: 30_000,
  maxLockMs: 15 * 60_000,
} as const;

export interface LoginAttempt {
  username: string;
  address: string;
}

const usernameKey = (username: string) => `login:user:${username.trim().toLowerCase().slice(0, 128)}`;
const addressKey = (address: string) => `login:addr:${address.slice(0, 64)}`;

const lockAfter = (threshold: number) => (count: number): number =>
  count < threshold ? 0 : Math.min(LOGIN_BACKOFF.firstLockMs * 2 ** (count - threshold), LOGIN_BACKOFF.maxLockMs);

/** The time (epoch ms) until which this attempt must be refused, or 0 when it may proceed. */
export async function loginLockedUntil(storage: Storage, attempt: LoginAttempt, now: number): Promise<number> {
  const [user, address] = await Promise.all([storage.failures.get(usernameKey(attempt.username), now), storage.failures.get(addressKey(attempt.address), now)]);
  return Math.max(user.lockedUntil, address.lockedUntil);
}

export async function recordLoginFailure(storage: Storage, attempt: LoginAttempt, now: number): Promise<void> {
  await storage.failures.record(usernameKey(attempt.username), now, lockAfter(LOGIN_BACKOFF.perUsername), LOGIN_BACKOFF.windowMs);
  await storage.failures.record(addressKey(attempt.address), now, lockAfter(LOGIN_BACKOFF.perAddress), LOGIN_BACKOFF.windowMs);
}

/**
 * A successful login clears the username's counter only: clearing the address counter would let one
 * valid account reset the limit for guessing at all the others.
 */
export async function clearLoginFailures(storage: Storage, username: string): Promise<void> {
  await storage.failures.clear(usernameKey(username));
}
