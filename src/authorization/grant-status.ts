import type { Clock } from '../util/clock.ts';
import type { Storage } from '../storage/types.ts';

/**
 * Whether a grant is still live, cached briefly so verifying an access token does not cost a database
 * read per request. Revocations in this process take effect at once (`revoke`, or `markRevoked` for
 * one the storage made itself); revocations made by another instance take effect within `ttlMs`.
 */
export class GrantStatus {
  #storage: Storage;
  #clock: Clock;
  #ttlMs: number;
  #cache = new Map<string, { live: boolean; until: number }>();

  constructor(storage: Storage, clock: Clock, ttlMs = 5000) {
    this.#storage = storage;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  async isLive(grantId: string): Promise<boolean> {
    return this.cachedLiveness(grantId) ?? this.#read(grantId);
  }

  /**
   * What the cache knows right now, without a database read: `undefined` when it must be asked
   * (`isLive`). Lets the per-request token check answer synchronously on a hit (no promise chain).
   */
  cachedLiveness(grantId: string): boolean | undefined {
    const hit = this.#cache.get(grantId);
    return hit !== undefined && hit.until > this.#clock.now() ? hit.live : undefined;
  }

  async #read(grantId: string): Promise<boolean> {
    const now = this.#clock.now();
    const grant = await this.#storage.grants.get(grantId);
    const live = grant !== null && grant.revokedAt === null && grant.expiresAt > now;
    if (this.#cache.size > 50_000) this.#cache.clear();
    this.#cache.set(grantId, { live, until: now + (live ? this.#ttlMs : 3_600_000) });
    return live;
  }

  /**
   * Revokes the grant with its refresh tokens in storage and stops its access tokens in this process
   * at once: the one way to revoke a grant. False when it was unknown or already revoked.
   */
  async revoke(grantId: string, now: number): Promise<boolean> {
    const revoked = await this.#storage.grants.revoke(grantId, now);
    this.markRevoked(grantId);
    return revoked;
  }

  /** For a grant the storage revoked by itself (refresh token reuse, inside the rotation). */
  markRevoked(grantId: string): void {
    this.#cache.set(grantId, { live: false, until: this.#clock.now() + 3_600_000 });
  }
}
