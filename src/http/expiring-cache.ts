/**
 * A map whose entries expire, bounded in size: when full, the entry set longest ago goes first.
 * Expired entries are dropped when read. Memory stays bounded whatever the number of keys callers use.
 */
export const DEFAULT_MAX_ENTRIES = 1000;

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class ExpiringCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #maxEntries: number;

  constructor(maxEntries = DEFAULT_MAX_ENTRIES) {
    this.#maxEntries = maxEntries;
  }

  get(key: string, now: number): V | null {
    const entry = this.#entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return null;
    }
    return entry.value;
  }

  set(key: string, value: V, lifetimeMs: number, now: number): void {
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, expiresAt: now + lifetimeMs });
  }

  get size(): number {
    return this.#entries.size;
  }
}
