import type { UpstreamSettings } from '../../config/upstream.ts';
import { ROUTING_HEADERS, routingHeadersOf } from './routing-headers.ts';

/**
 * Which headers cross the gateway, in each direction. Both directions are allow-lists: a header
 * the gateway does not know is dropped, so nothing a client sends (its token, cookies, a forged
 * identity header) reaches the upstream by accident, and nothing the upstream sends (cookies, its
 * own auth challenges, hop-by-hop fields) reaches the client.
 */

/** Client → upstream: Streamable HTTP's own headers, content negotiation and trace context. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'content-type', 'last-event-id', 'mcp-protocol-version', 'traceparent', 'tracestate', 'baggage'];
/**
 * Other `Mcp-*` headers are forwarded too: 2026-07-28 requests carry per-tool `Mcp-Param-*` headers
 * that the upstream cross-checks against the body's arguments (scopes never depend on arguments).
 * Not so `Mcp-Method` and `Mcp-Name`: the scope decision is made from the body, so those are
 * restated from it (see ./routing-headers.ts), never relayed as the client sent them.
 * `Mcp-Session-Id` is the gateway's own handle and is always replaced (see `upstreamSessionId`).
 */
const MCP_HEADER = /^mcp-/i;

/** Upstream → client: what a Streamable HTTP client reads. */
const RELAYED_RESPONSE_HEADERS = ['content-type', 'cache-control', 'mcp-protocol-version', 'retry-after', 'allow'];

/** RFC 9110 §7.6.1: hop-by-hop fields, plus any field named in `Connection`. Never relayed either way. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);

function connectionListed(headers: Pick<Headers, 'get'>): Set<string> {
  return new Set((headers.get('connection') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
}

/**
 * A header value may only carry visible ASCII and spaces (RFC 9110 §5.5). Identity values are
 * percent-encoded exactly where they leave that range (and at `%`), so `decodeURIComponent` always
 * returns the original and the ordinary ids (`usr_…`, client ids, scopes) pass unchanged.
 */
export function headerSafe(value: string): string {
  // A lone surrogate cannot be percent-encoded (URIError → a 500): it becomes U+FFFD first, as
  // `String.prototype.toWellFormed` would (not in this project's TypeScript lib yet).
  return value.replace(LONE_SURROGATE, '\uFFFD').replace(/[^\x20-\x24\x26-\x7E]/gu, (c) => encodeURIComponent(c));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export interface UpstreamRequestHeadersInput {
  client: Headers;
  /** Who is calling; the anonymous owner (empty subject and client, src/mcp/session-table.ts) for nobody. */
  principal: { subject: string; clientId: string; scopes: readonly string[] };
  settings: Pick<UpstreamSettings, 'bearerToken' | 'secretHeaders' | 'identityHeaders'>;
  /** The upstream's own session id for the gateway session the client named, if any. */
  upstreamSessionId?: string;
  /** The parsed POST body the scopes were checked against: the source of `Mcp-Method` / `Mcp-Name`. */
  body?: unknown;
}

/**
 * The headers of the request to the upstream. The client's `Authorization` is never among them
 * (MCP RS-19, BP-07: the client's token is for this server only); the gateway authenticates with
 * its own credential and states who is calling in the identity headers, set last so that nothing a
 * client sent can stand in for them.
 */
export function upstreamRequestHeaders({ client, principal, settings, upstreamSessionId, body }: UpstreamRequestHeadersInput): Headers {
  const out = new Headers();
  const listed = connectionListed(client);
  for (const [name, value] of client) {
    if (HOP_BY_HOP.has(name) || listed.has(name) || name === 'mcp-session-id') continue;
    if (FORWARDED_REQUEST_HEADERS.includes(name) || MCP_HEADER.test(name)) out.set(name, value);
  }
  // Only restated when the client sent them (it speaks the revision that has them); none invented.
  const routing = routingHeadersOf(body);
  for (const name of ROUTING_HEADERS) {
    if (!out.has(name)) continue;
    const stated = routing[name];
    if (stated === undefined) out.delete(name);
    else out.set(name, stated);
  }
  if (upstreamSessionId !== undefined) out.set('Mcp-Session-Id', upstreamSessionId);
  // Compressed SSE would be held back by the upstream's compressor until a block fills.
  out.set('Accept-Encoding', 'identity');

  for (const [name, value] of Object.entries(settings.secretHeaders)) out.set(name, value);
  if (settings.bearerToken !== undefined) out.set('Authorization', `Bearer ${settings.bearerToken}`);
  if (settings.identityHeaders) {
    const { subject, client: clientHeader, scopes } = settings.identityHeaders;
    if (principal.subject === '' && principal.clientId === '') {
      // Nobody (a caller without a token, public tools): no identity headers at all, and none a
      // client sent under those names (an `Mcp-*` one would otherwise be forwarded) either.
      for (const name of [subject, clientHeader, scopes]) out.delete(name);
      return out;
    }
    out.set(subject, headerSafe(principal.subject));
    out.set(clientHeader, headerSafe(principal.clientId));
    out.set(scopes, headerSafe(principal.scopes.join(' ')));
  }
  return out;
}

/** The headers of the response to the client; `sessionId` is the gateway's handle for the upstream session. */
export function clientResponseHeaders(upstream: Pick<Headers, 'get'>, sessionId: string | undefined): Headers {
  const out = new Headers();
  const listed = connectionListed(upstream);
  for (const name of RELAYED_RESPONSE_HEADERS) {
    if (listed.has(name)) continue;
    const value = upstream.get(name);
    if (value !== null) out.set(name, value);
  }
  if (sessionId !== undefined) out.set('Mcp-Session-Id', sessionId);
  if (out.get('content-type')?.toLowerCase().startsWith('text/event-stream')) {
    // A reverse proxy in front of the gateway must not buffer the stream either.
    out.set('Cache-Control', 'no-cache, no-transform');
    out.set('X-Accel-Buffering', 'no');
  }
  return out;
}
