import type { Clock } from '../util/clock.ts';
import { hashSecret } from '../util/crypto.ts';

export interface TokenCacheOptions {
  /** Most entries kept; the least recently used goes first. */
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
  /** Map iteration order is insertion order: re-inserting on a hit makes the first key the LRU one. */
  #entries = new Map<string, { value: T; until: number }>();

  constructor(clock: Clock, options: TokenCacheOptions = {}) {
    this.#clock = clock;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
  }

  get(token: string): T | undefined {
    const key = hashSecret(token);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.until <= this.#clock.now()) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** `expiresAtMs`: the token's own expiry; nothing is kept past it. */
  set(token: string, value: T, expiresAtMs: number): void {
    const until = Math.min(expiresAtMs, this.#clock.now() + this.#maxAgeMs);
    if (until <= this.#clock.now()) return;
    const key = hashSecret(token);
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, until });
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
