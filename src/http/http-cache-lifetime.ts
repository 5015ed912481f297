/**
 * How long a fetched document may be reused, from its HTTP caching headers (MCP AS-10, SEC-51, CIMD
 * §4.3, RFC 9111 §4.2.1), within our own bounds: at least a minute, so a client cannot make us fetch
 * on every request; at most a day, so a changed document is noticed.
 */
export const DEFAULT_LIFETIME_MS = 5 * 60_000;
export const MIN_LIFETIME_MS = 60_000;
export const MAX_LIFETIME_MS = 24 * 3600_000;

/**
 * `Cache-Control: max-age` first, then `Expires` relative to `Date` (or now), else the default;
 * clamped to our bounds. `no-store` and `no-cache` get the minimum, not zero: the same client's next
 * request follows within seconds.
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
