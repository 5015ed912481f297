import type { Clock } from '../util/clock.ts';
import { hashSecret } from '../util/crypto.ts';

export interface TokenCacheOptions {
  /** Most entries kept; when full, an entry not used since it was last looked at goes first. */
  maxEntries?: number;
  /** Longest an entry lives, whatever the token's `exp`. */
  maxAgeMs?: number;
}

/**
 * Remembers tokens whose signature and claims were verified, so a request does not pay for signature
 * verification each time. Keyed by the token's SHA-256, never by the token itself. An entry lives
 * until the token's expiry or `maxAgeMs`, whichever comes first. Revocation is not cached here: the
 * caller checks the grant on every request.
 */
export class VerifiedTokenCache<T> {
  #clock: Clock;
  #maxEntries: number;
  #maxAgeMs: number;
  /**
   * Insertion-ordered. A hit only sets `used` (moving entries on every hit cost more than verifying
   * some tokens again: bench/README.md); eviction gives used entries a second chance (the CLOCK
   * approximation of least-recently-used).
   */
  #entries = new Map<string, { value: T; until: number; used: boolean }>();

  constructor(clock: Clock, options: TokenCacheOptions = {}) {
    this.#clock = clock;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
  }

  get(token: string): T | undefined {
    const key = hashSecret(token);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= this.#clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    entry.used = true;
    return entry.value;
  }

  /** `expiresAtMs`: the token's own expiry; nothing is kept past it. */
  set(token: string, value: T, expiresAtMs: number): void {
    const until = Math.min(expiresAtMs, this.#clock.now() + this.#maxAgeMs);
    if (until <= this.#clock.now()) return;
    const key = hashSecret(token);
    this.#entries.delete(key);
    this.#evictUntilRoom();
    this.#entries.set(key, { value, until, used: false });
  }

  #evictUntilRoom(): void {
    // A used entry is moved to the back with its flag cleared, so each is seen at most twice: this ends.
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size < this.#maxEntries) return;
      this.#entries.delete(key);
      if (entry.used) {
        entry.used = false;
        this.#entries.set(key, entry);
      }
    }
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
