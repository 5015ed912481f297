import { isIPv6 } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';
import { OAuthError } from '../errors/oauth-error.ts';
import type { Clock } from '../util/clock.ts';

/**
 * In-memory token buckets, one per key (OAuth 2.1 §7.7, SEC-48: rate-limit credential endpoints).
 * Per process: several instances each allow the full rate, which is acceptable for abuse control.
 */
export interface RateLimiter {
  /** Takes one token for `key`: `ok`, or how long until the next token. */
  take(key: string): { ok: true } | { ok: false; retryAfterSeconds: number };
}

export interface RateLimiterOptions {
  /** Tokens a key gets per minute; also the burst size. */
  perMinute: number;
  clock: Clock;
  /** Bound on remembered keys, so a flood of addresses cannot grow memory without limit. */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const capacity = options.perMinute;
  const refillPerMs = options.perMinute / 60_000;
  const maxKeys = options.maxKeys ?? 10_000;
  // A Map iterates in insertion order; re-inserting on use keeps it least-recently-used first.
  const buckets = new Map<string, Bucket>();

  const evict = (now: number): void => {
    if (buckets.size < maxKeys) return;
    // A bucket that has refilled completely carries no information: forgetting it changes nothing.
    for (const [key, b] of buckets) if (b.tokens + (now - b.updatedAt) * refillPerMs >= capacity) buckets.delete(key);
    // Still full of busy keys: drop the least recently used tenth at once, so a flood of new
    // addresses costs one scan per many requests rather than one per request.
    let excess = buckets.size - Math.floor(maxKeys * 0.9);
    for (const key of buckets.keys()) {
      if (excess-- <= 0) break;
      buckets.delete(key);
    }
  };

  return {
    take(key) {
      const now = options.clock.now();
      let bucket = buckets.get(key);
      if (bucket) {
        buckets.delete(key);
        bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.updatedAt) * refillPerMs);
        bucket.updatedAt = now;
      } else {
        evict(now);
        bucket = { tokens: capacity, updatedAt: now };
      }
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000)) };
    },
  };
}

/**
 * Hono middleware: `429 rate_limited` with `Retry-After` (RFC 9110 §10.2.3) once `key(c)` has used its tokens.
 */
export function rateLimit(limiter: RateLimiter, key: (c: Context) => string = clientAddress): MiddlewareHandler {
  return async (c, next) => {
    const result = limiter.take(key(c));
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
