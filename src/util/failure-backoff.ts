import type { Storage } from '../storage/types.ts';

/**
 * Back-off after failures, on the store's failure counters (shared by every instance): each key counts
 * its failures over a window; past the free ones, every further failure locks the key for twice as
 * long as the last, up to a ceiling. While a key is locked its caller is refused before anything is
 * checked, so a flood costs the sender time and us one read. Used by password logins and client
 * authentication, each with its own numbers.
 */
export interface BackoffPolicy {
  /** Failures are counted over this window, from the first. */
  windowMs: number;
  /** Failures allowed before the first lock. */
  freeFailures: number;
  firstLockMs: number;
  maxLockMs: number;
}

/** How long the `count`th failure locks its key. */
export function lockMs(policy: BackoffPolicy, count: number): number {
  return count <= policy.freeFailures ? 0 : Math.min(policy.firstLockMs * 2 ** (count - policy.freeFailures - 1), policy.maxLockMs);
}

/** The time (epoch ms) until which any of `keys` is locked, or 0. */
export async function lockedUntil(storage: Storage, keys: readonly string[], now: number): Promise<number> {
  const counters = await storage.failures.getMany(keys, now);
  return Math.max(0, ...counters.map((c) => (c.lockedUntil > now ? c.lockedUntil : 0)));
}

export async function recordFailure(storage: Storage, key: string, policy: BackoffPolicy, now: number): Promise<void> {
  await storage.failures.record(key, now, (count) => lockMs(policy, count), policy.windowMs);
}

/** Seconds for a `Retry-After` header: at least one. */
export const retryAfterSeconds = (until: number, now: number): number => Math.max(1, Math.ceil((until - now) / 1000));
