import type { Clock } from '../util/clock.ts';
import type { Storage } from '../storage/types.ts';

/**
 * Whether a grant is still live, cached briefly so verifying an access token does not cost a database
 * read per request. Revocations in this process take effect at once (`markRevoked`); revocations made
 * by another instance take effect within `ttlMs`.
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

  markRevoked(grantId: string): void {
    this.#cache.set(grantId, { live: false, until: this.#clock.now() + 3_600_000 });
  }
}
