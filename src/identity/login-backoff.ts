import type { Storage } from '../storage/types.ts';
import { lockedUntil, recordFailure, type BackoffPolicy } from '../util/failure-backoff.ts';

/**
 * Back-off after failed logins (the shared `failure-backoff.ts`), counted per username and per client
 * address: the fifth failure for a name locks it for 30 s, each further one twice as long, up to 15
 * minutes; while locked no password is checked at all (so guessing costs the attacker time, not us
 * CPU). The per-address threshold (20) is higher because many people may share one address.
 */
const WINDOW_MS = 15 * 60_000;
const FIRST_LOCK_MS = 30_000;
const MAX_LOCK_MS = 15 * 60_000;
export const LOGIN_BACKOFF: { perUsername: BackoffPolicy; perAddress: BackoffPolicy } = {
  perUsername: { windowMs: WINDOW_MS, freeFailures: 4, firstLockMs: FIRST_LOCK_MS, maxLockMs: MAX_LOCK_MS },
  perAddress: { windowMs: WINDOW_MS, freeFailures: 19, firstLockMs: FIRST_LOCK_MS, maxLockMs: MAX_LOCK_MS },
};

export interface LoginAttempt {
  username: string;
  address: string;
}

const usernameKey = (username: string) => `login:user:${username.trim().toLowerCase().slice(0, 128)}`;
const addressKey = (address: string) => `login:addr:${address.slice(0, 64)}`;

/** The time (epoch ms) until which this attempt must be refused, or 0 when it may proceed. */
export async function loginLockedUntil(storage: Storage, attempt: LoginAttempt, now: number): Promise<number> {
  return lockedUntil(storage, [usernameKey(attempt.username), addressKey(attempt.address)], now);
}

export async function recordLoginFailure(storage: Storage, attempt: LoginAttempt, now: number): Promise<void> {
  await recordFailure(storage, usernameKey(attempt.username), LOGIN_BACKOFF.perUsername, now);
  await recordFailure(storage, addressKey(attempt.address), LOGIN_BACKOFF.perAddress, now);
}

/**
 * A successful login clears the username's counter only: clearing the address counter would let one
 * valid account reset the limit for guessing at all the others.
 */
export async function clearLoginFailures(storage: Storage, username: string): Promise<void> {
  await storage.failures.clear(usernameKey(username));
}
