import type { MiddlewareHandler } from 'hono';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/** One IP address or CIDR range, as ipaddr.js parses it. */
const isAddressOrRange = (value: string): boolean => ipaddr.isValid(value) || ipaddr.isValidCIDR(value);

export const trustedProxiesSchema = z
  .array(z.string().refine(isAddressOrRange, 'expected an IP address or a CIDR range such as 10.0.0.0/8'))
  .default([])
  .describe(
    'PORTCULLIS_TRUSTED_PROXIES (comma-separated). Addresses or CIDR ranges of your reverse proxies. A request whose socket comes from one of them is keyed, for rate limits and the login and client-authentication back-off, by the nearest `X-Forwarded-For` hop that is not a trusted proxy. Empty (the default): forwarded headers are never read, and behind a proxy every client shares the proxy\'s address.',
  );

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

const parse = (value: string): ipaddr.IPv4 | ipaddr.IPv6 | null => {
  if (!ipaddr.isValid(value)) return null;
  const address = ipaddr.parse(value);
  // ::ffff:10.0.0.1 is 10.0.0.1.
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
};

/**
 * Resolves the caller's address once per request (read with `clientAddress(c)` from rate-limit.ts).
 * Forwarded headers are believed only from a configured proxy, and only up to the first hop that is
 * not one: anything to the left of it was written by the client and could be anything.
 */
export function resolveClientAddress(trustedProxies: readonly string[]): MiddlewareHandler {
  const ranges: Range[] = trustedProxies.map((p) => (ipaddr.isValidCIDR(p) ? ipaddr.parseCIDR(p) : [parse(p)!, parse(p)!.kind() === 'ipv4' ? 32 : 128]));
  const trusted = (value: string): boolean => {
    const address = parse(value);
    return address !== null && ranges.some(([range, bits]) => address.kind() === range.kind() && address.match(range, bits));
  };
  return async (c, next) => {
    if (ranges.length > 0) {
      const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
      const socket = env?.incoming?.socket?.remoteAddress;
      if (socket && trusted(socket)) {
        const hops = (c.req.header('X-Forwarded-For') ?? '').split(',').map((h) => h.trim()).filter(Boolean);
        let client = socket;
        for (let i = hops.length - 1; i >= 0; i--) {
          const hop = hops[i]!;
          if (parse(hop) === null) break;
          client = hop;
          if (!trusted(hop)) break;
        }
        c.set('clientAddress' as never, client as never);
      }
    }
    await next();
  };
}
