import type { ClientRecord } from '../../storage/types.ts';

/**
 * Validated client metadata documents kept in memory for as long as their HTTP caching headers allow
 * (MCP AS-10, SEC-51, CIMD §4.3), within our own bounds: at least a minute, so a client cannot make
 * us fetch on every request; at most a day, so a changed document is noticed. Only valid documents
 * are stored (SEC-51: never cache errors or invalid documents). Bounded in size: the oldest entry
 * goes first.
 */
export const DEFAULT_LIFETIME_MS = 5 * 60_000;
export const MIN_LIFETIME_MS = 60_000;
export const MAX_LIFETIME_MS = 24 * 3600_000;
export const MAX_ENTRIES = 1000;

interface Entry {
  client: ClientRecord;
  expiresAt: number;
}

export class MetadataDocumentCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;

  constructor(maxEntries = MAX_ENTRIES) {
    this.#maxEntries = maxEntries;
  }

  get(url: string, now: number): ClientRecord | null {
    const entry = this.#entries.get(url);
    if (!entry) return null;
    if (entry.expiresAt <= now) {
      this.#entries.delete(url);
      return null;
    }
    return entry.client;
  }

  set(url: string, client: ClientRecord, lifetimeMs: number, now: number): void {
    this.#entries.delete(url);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    this.#entries.set(url, { client, expiresAt: now + lifetimeMs });
  }

  get size(): number {
    return this.#entries.size;
  }
}

/**
 * How long a response may be reused (RFC 9111 §4.2.1): `Cache-Control: max-age` first, then
 * `Expires` relative to `Date` (or now), else the default; clamped to our bounds. `no-store` and
 * `no-cache` get the minimum, not zero: the same client's next request follows within seconds.
 */
export function cacheLifetimeMs(headers: Headers, now: number): number {
  const cacheControl = headers.get('cache-control')?.toLowerCase() ?? '';
  const directives = cacheControl.split(',').map((d) => d.trim());
  let lifetime = DEFAULT_LIFETIME_MS;
  const maxAge = directives.map((d) => /^max-age\s*=\s*"?(\d+)"?$/.exec(d)?.[1]).find((v) => v !== undefined);
  if (directives.includes('no-store') || directives.includes('no-cache')) {
    lifetime = 0;
  } else if (maxAge !== undefined) {
    lifetime = Number(maxAge) * 1000;
  } else if (headers.has('expires')) {
    const expires = Date.parse(headers.get('expires') ?? '');
    const date = Date.parse(headers.get('date') ?? '');
    // An invalid Expires means "already expired" (RFC 9111 §5.3).
    lifetime = Number.isNaN(expires) ? 0 : expires - (Number.isNaN(date) ? now : date);
  }
  return Math.min(MAX_LIFETIME_MS, Math.max(MIN_LIFETIME_MS, lifetime));
}
