import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';
import { readCappedBody } from './capped-body.ts';
import type { AppContext } from '../context.ts';

/**
 * Fetching URLs that clients chose (client ID metadata documents, `jwks_uri`) without letting them
 * aim this server at its own network: SSRF (MCP AS-14, BP-08, SEC-51; CIMD §6). Callers go through
 * `client-fetches.ts`, which decides when a URL may be fetched at all (caching, single flight, caps).
 *
 * - https only; no credentials or fragment in the URL;
 * - the host is resolved and EVERY address must be public (a DNS answer mixing a public and a private
 *   address is refused), checked with `ipaddr.js` rather than hand-written parsing;
 * - the connection goes to the address that was checked (DNS rebinding: a second lookup by the HTTP
 *   client could answer differently);
 * - redirects are refused unless the caller asks for them: a caller that trusts a URL for its host or
 *   its exact value (a CIMD `client_id`, a `jwks_uri`) must get the document from that URL, or an open
 *   redirect on a trusted host would let anyone serve it. When asked for, they are followed by hand,
 *   at most three, each hop checked the same way;
 * - the body is capped in size and the whole exchange in time; only JSON is accepted.
 *
 * `dangerouslyAllowPrivateNetworkFetches` lets loopback, private addresses and plain http through,
 * for tests that serve documents from 127.0.0.1.
 *
 * On Cloudflare Workers (`ctx.runtime`) there is no resolver to ask and no socket to pin: a host name
 * is not resolved here, and the request goes out through the platform's fetch, which reaches the
 * public internet only (no private network, no loopback). An address written in the URL itself is
 * still checked. Every other rule (scheme, redirects, size, time, JSON) is the same.
 */

export interface SafeFetchLimits {
  /** Largest body accepted, in bytes. Default 5 KiB: the size the CIMD draft recommends for a document. */
  maxBytes?: number;
  /** Time for the whole exchange, redirects and body included, in ms. Default 5 s. */
  timeoutMs?: number;
}

export interface SafeFetchOptions extends SafeFetchLimits {
  /** The resolver; tests inject one to check the guard against every blocked range. */
  lookup?: HostLookup;
  /**
   * `none` (default): a 3xx answer is a refusal, the document must be at the URL itself.
   * `follow`: up to three redirects to other public URLs; only for a caller that checks `url` in the
   * result, since the trust it places in the original URL does not carry over to where it leads.
   */
  redirects?: 'follow' | 'none';
}

export interface SafeFetchResult {
  value: unknown;
  headers: Headers;
  status: number;
  /** The URL the document came from: the one asked for unless redirects were followed. */
  url: string;
}

/** Resolves a host name to all its addresses, like `dns.lookup(host, { all: true })`. */
export type HostLookup = (hostname: string) => Promise<LookupAddress[]>;

/** `message` is safe to show to the client; `reason` is for the log only (it may name internal addresses). */
export class SafeFetchError extends Error {
  readonly reason: string;
  constructor(message: string, reason: string) {
    super(message);
    this.name = 'SafeFetchError';
    this.reason = reason;
  }
}

export const DEFAULT_MAX_BYTES = 5 * 1024;
export const DEFAULT_TIMEOUT_MS = 5_000;
export const MAX_REDIRECTS = 3;

const defaultLookup: HostLookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export async function safeFetchJson(ctx: Pick<AppContext, 'config' | 'fetch'> & Partial<Pick<AppContext, 'runtime'>>, url: string, limits: SafeFetchOptions = {}): Promise<SafeFetchResult> {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const allowPrivate = ctx.config.dangerouslyAllowPrivateNetworkFetches;
  const lookup = limits.lookup ?? defaultLookup;
  const maxRedirects = limits.redirects === 'follow' ? MAX_REDIRECTS : 0;
  const onWorkers = ctx.runtime === 'workers';
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limits.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  try {
    let current = url;
    for (let hop = 0; ; hop++) {
      const target = await vetFetchTarget(current, { lookup, allowPrivate, resolveNames: !onWorkers });
      const response = target.address === null ? await platformFetch(ctx, target, controller.signal) : await pinnedFetch(ctx, target, controller.signal, target.address);
      if (isRedirect(response.status)) {
        await response.body?.cancel();
        if (maxRedirects === 0) {
          throw new SafeFetchError('The document URL redirects elsewhere; the document must be served at its own URL.', `redirect ${response.status} from ${current} refused`);
        }
        const location = response.headers.get('location');
        if (!location) throw new SafeFetchError('The document URL redirected without a Location.', `redirect ${response.status} without Location from ${current}`);
        if (hop >= maxRedirects) throw new SafeFetchError(`The document URL redirected more than ${MAX_REDIRECTS} times.`, `too many redirects, last ${current}`);
        current = new URL(location, current).href;
        continue;
      }
      if (response.status < 200 || response.status > 299) {
        await response.body?.cancel();
        throw new SafeFetchError(`Fetching the document failed with HTTP ${response.status}.`, `HTTP ${response.status} from ${current}`);
      }
      const contentType = response.headers.get('content-type') ?? '';
      if (!isJsonContentType(contentType)) {
        await response.body?.cancel();
        throw new SafeFetchError('The document is not JSON (its Content-Type must be application/json).', `content-type ${contentType.slice(0, 80)} from ${current}`);
      }
      const text = await readCapped(response, maxBytes);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new SafeFetchError('The document is not valid JSON.', `unparseable JSON from ${current}`);
      }
      return { value, headers: response.headers, status: response.status, url: current };
    }
  } catch (error) {
    if (error instanceof SafeFetchError) throw error;
    if (controller.signal.aborted) throw new SafeFetchError('Fetching the document took too long.', `timeout fetching ${url}`);
    throw new SafeFetchError('The document could not be fetched.', `network error fetching ${url}: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

export interface VettedTarget {
  url: URL;
  /** The checked address the connection must go to; null for a host name left to the platform (Workers). */
  address: string | null;
  family: 4 | 6;
}

/**
 * Checks a URL and its host's addresses; throws `SafeFetchError` unless every rule holds. With
 * `resolveNames: false` (Workers) a host name is not resolved and its target has no address.
 */
export async function vetFetchTarget(value: string, options: { lookup?: HostLookup; allowPrivate: boolean; resolveNames?: boolean }): Promise<VettedTarget> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SafeFetchError('The URL is not valid.', `invalid URL ${value.slice(0, 100)}`);
  }
  const httpAllowed = options.allowPrivate && url.protocol === 'http:';
  if (url.protocol !== 'https:' && !httpAllowed) throw new SafeFetchError('Only https URLs can be fetched.', `scheme ${url.protocol} in ${url.href}`);
  if (url.username || url.password) throw new SafeFetchError('The URL must not contain credentials.', 'userinfo in URL');
  if (value.includes('#')) throw new SafeFetchError('The URL must not contain a fragment.', 'fragment in URL');

  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: LookupAddress[];
  if (options.resolveNames === false && !ipaddr.isValid(host)) return { url, address: null, family: 4 };
  if (ipaddr.isValid(host)) {
    addresses = [{ address: host, family: ipaddr.parse(host).kind() === 'ipv4' ? 4 : 6 }];
  } else {
    try {
      addresses = await (options.lookup ?? defaultLookup)(host);
    } catch (error) {
      throw new SafeFetchError(`The host ${host} could not be resolved.`, `lookup of ${host} failed: ${(error as Error).message}`);
    }
  }
  if (addresses.length === 0) throw new SafeFetchError(`The host ${host} could not be resolved.`, `no addresses for ${host}`);
  if (!options.allowPrivate) {
    // Every address, not just the first: the HTTP client might otherwise pick the private one.
    const blocked = addresses.find((a) => !isPublicAddress(a.address));
    if (blocked) throw new SafeFetchError(`The host ${host} is not on the public internet.`, `${host} resolves to non-public ${blocked.address}`);
  }
  const chosen = addresses[0]!;
  return { url, address: chosen.address, family: chosen.family === 6 ? 6 : 4 };
}

/**
 * Public unicast only. `ipaddr.process` turns an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) into
 * the IPv4 address it carries, so it is judged as that. Every other special range (private, loopback,
 * link-local, unique-local, multicast, CGNAT, unspecified, reserved, benchmarking, NAT64, 6to4, Teredo…)
 * is something other than `unicast` in ipaddr.js and is refused, and so is `::/96` (below).
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).match(IPV4_COMPATIBLE)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/**
 * `::/96`, the deprecated IPv4-compatible IPv6 addresses (RFC 4291 §2.5.5.1): ipaddr.js calls
 * `::7f00:1` unicast, yet some stacks still reach 127.0.0.1 through it, and no public host uses them.
 */
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');

/**
 * The request goes through `ctx.fetch` (tests inject one); with Node's fetch the undici `dispatcher`
 * makes the socket connect to the vetted address whatever DNS says now, while TLS still checks the
 * certificate against the host name.
 */
async function pinnedFetch(ctx: Pick<AppContext, 'config' | 'fetch'>, target: VettedTarget, signal: AbortSignal, address: string): Promise<Response> {
  const dispatcher = new Agent({
    connect: {
      lookup: (_hostname, options, callback) => {
        if ((options as { all?: boolean }).all) callback(null, [{ address, family: target.family }] as never, undefined as never);
        else callback(null, address, target.family);
      },
    },
  });
  const init = { method: 'GET', redirect: 'manual', signal, headers: { accept: 'application/json' }, dispatcher } as RequestInit;
  try {
    const response = await ctx.fetch(target.url.href, init);
    // The body is read after this returns, so the agent closes once it is idle rather than now.
    void dispatcher.close().catch(() => {});
    return response;
  } catch (error) {
    void dispatcher.destroy().catch(() => {});
    throw error;
  }
}

/** Workers: the platform's own fetch, which has no private network to reach and no socket to pin. */
function platformFetch(ctx: Pick<AppContext, 'fetch'>, target: VettedTarget, signal: AbortSignal): Promise<Response> {
  return ctx.fetch(target.url.href, { method: 'GET', redirect: 'manual', signal, headers: { accept: 'application/json' } });
}

const isRedirect = (status: number): boolean => status === 301 || status === 302 || status === 303 || status === 307 || status === 308;

function isJsonContentType(value: string): boolean {
  const type = value.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** Reads at most `maxBytes` (`readCappedBody`), as strict UTF-8. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const body = await readCappedBody(response, maxBytes);
  if (!body.ok) {
    throw new SafeFetchError(`The document is larger than ${maxBytes} bytes.`, body.reason === 'declared' ? `content-length ${body.declared}` : `body over ${maxBytes} bytes`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body.bytes);
  } catch {
    throw new SafeFetchError('The document is not valid UTF-8 JSON.', 'invalid UTF-8');
  }
}
