import { isIPv6 } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';
import { OAuthError } from '../errors/oauth-error.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Storage } from '../storage/types.ts';
import type { Clock } from '../util/clock.ts';

/**
 * Per-key request limits (OAuth 2.1 §7.7, SEC-48), counted in the store so that every instance on one
 * database shares them (design.md: state shared by instances lives in the store). Each key gets a fixed
 * window of a minute from its first request: `perMinute` requests pass, the rest wait until the window
 * ends, which `Retry-After` says exactly. At a window's edge a key can pass up to twice its rate within
 * a minute; for abuse control that is enough, and it keeps each request at one upsert.
 *
 * A key found over its limit is remembered in this process until its window ends, so a flood from one
 * address costs the store one write per window, not one per request. That memory is never stale: a
 * window's count only grows until the window ends, on every instance alike.
 */
export interface RateLimiter {
  /** Counts one request for `key`: `ok`, or how long until its window ends. */
  take(key: string): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }>;
}

export interface RateLimiterOptions {
  /** Which limit this is (`register`, `authorize`…): its counters are kept apart from every other limit's. */
  name: string;
  /** Requests a key may make per minute. */
  perMinute: number;
  storage: Pick<Storage, 'rateLimits'>;
  clock: Clock;
  /** Counts refusals by limit name (`portcullis_rate_limited_total`) when metrics are on. */
  metrics?: Pick<Metrics, 'rateLimited'> | undefined;
  /** Bound on the keys remembered as over their limit, so a flood of addresses cannot grow memory without limit. */
  maxRefusedKeys?: number;
}

const WINDOW_MS = 60_000;

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const maxRefusedKeys = options.maxRefusedKeys ?? 10_000;
  // Key → the end of its window, for keys known to be over their limit.
  const refusedUntil = new Map<string, number>();
  const refused = options.metrics?.rateLimited.labels({ limit: options.name });
  const refuse = (resetAt: number, now: number) => {
    refused?.inc();
    return { ok: false as const, retryAfterSeconds: Math.max(1, Math.ceil((resetAt - now) / 1000)) };
  };

  const remember = (key: string, resetAt: number, now: number): void => {
    if (refusedUntil.size >= maxRefusedKeys) {
      for (const [k, until] of refusedUntil) if (until <= now) refusedUntil.delete(k);
      // Still full: forget the oldest tenth at once. A forgotten key is only asked of the store again.
      let excess = refusedUntil.size - Math.floor(maxRefusedKeys * 0.9);
      for (const k of refusedUntil.keys()) {
        if (excess-- <= 0) break;
        refusedUntil.delete(k);
      }
    }
    refusedUntil.set(key, resetAt);
  };

  return {
    async take(key) {
      const now = options.clock.now();
      const known = refusedUntil.get(key);
      if (known !== undefined) {
        if (known > now) return refuse(known, now);
        refusedUntil.delete(key);
      }
      const window = await options.storage.rateLimits.hit(`${options.name}:${key}`, WINDOW_MS, now);
      if (window.count <= options.perMinute) return { ok: true };
      remember(key, window.resetAt, now);
      return refuse(window.resetAt, now);
    },
  };
}

/**
 * Hono middleware: `429 rate_limited` with `Retry-After` (RFC 9110 §10.2.3) once `key(c)` has used its tokens.
 */
export function rateLimit(limiter: RateLimiter, key: (c: Context) => string = clientAddress): MiddlewareHandler {
  return async (c, next) => {
    const result = await limiter.take(key(c));
    if (!result.ok) {
      throw new OAuthError('rate_limited', 'Too many requests. Try again later.', {
        headers: { 'Retry-After': String(result.retryAfterSeconds) },
      });
    }
    await next();
  };
}

/** Used when no socket is known (in-process tests, runtimes without one): everyone shares one bucket. */
export const UNKNOWN_ADDRESS = 'unknown';

/**
 * The caller's address as a rate-limit key, from the TCP socket that `@hono/node-server` passes as
 * `c.env.incoming` — or, when that socket is a configured reverse proxy, the address it forwarded
 * (resolved by `resolveClientAddress`, http/client-address.ts). Otherwise forwarded headers are never
 * read: anyone can send them, so trusting them would let every request pick its own bucket.
 * IPv6 addresses are keyed by their /64, which a single host or customer usually controls whole.
 */
export function clientAddress(c: Context): string {
  const forwarded = (c.var as { clientAddress?: string }).clientAddress;
  // `clientAddress` in the env: a runtime that knows the caller another way (Workers: CF-Connecting-IP).
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } }; clientAddress?: string } | undefined;
  const address = forwarded ?? env?.clientAddress ?? env?.incoming?.socket?.remoteAddress;
  return address ? addressKey(address) : UNKNOWN_ADDRESS;
}

export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(address)) return address;
  return expandIPv6(address).slice(0, 4).join(':') + '::/64';
}

/** `2001:db8::1` → eight 4-digit groups. Only called with a valid IPv6 address. */
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // A trailing dotted IPv4 part occupies two groups.
  const last = right.length ? right : left;
  const v4 = last[last.length - 1]?.includes('.') ? last.pop()!.split('.').map(Number) : null;
  if (v4) last.push(((v4[0]! << 8) | v4[1]!).toString(16), ((v4[2]! << 8) | v4[3]!).toString(16));
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((g) => g.padStart(4, '0').toLowerCase());
}
