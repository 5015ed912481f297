/**
 * 2026-07-28 (SEP-2243) requests repeat routing facts of their body in headers: `Mcp-Method` (the
 * JSON-RPC method) and `Mcp-Name` (the `params.name` / `uri` / `taskId` of the methods below), so
 * intermediaries can route without parsing the body. Policy is decided from the body; a header
 * that says otherwise could make a server or proxy that routes on it run what policy never saw.
 * So a header that disagrees with the body is refused (the spec's MUST, HTTP 400 with `-32020`
 * HeaderMismatch), before any policy is applied.
 */

/** The methods whose `Mcp-Name` mirrors a `params` field, and which (SEP-2243, SEP-2663). */
export const MCP_NAME_SOURCE: Readonly<Record<string, string>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri', 'tasks/get': 'taskId', 'tasks/update': 'taskId', 'tasks/cancel': 'taskId' };

/** SEP-2243's HeaderMismatch error code, answered with HTTP 400. */
export const HEADER_MISMATCH_CODE = -32020;

const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';

/** The body's `method` and, for the methods above, the value `Mcp-Name` mirrors; nothing for a batch or non-message. */
export function routingFactsOf(body: unknown): { method?: string; name?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  const { method, params } = body as { method?: unknown; params?: unknown };
  if (typeof method !== 'string') return {};
  const field = Object.hasOwn(MCP_NAME_SOURCE, method) ? MCP_NAME_SOURCE[method] : undefined;
  const value = field !== undefined && typeof params === 'object' && params !== null ? (params as Record<string, unknown>)[field] : undefined;
  return typeof value === 'string' ? { method, name: value } : { method };
}

/** The spec's header value encoding: visible ASCII passes as is, anything else is Base64 of its UTF-8 in the sentinel. */
export function encodeRoutingHeaderValue(value: string): string {
  const plain = value.length > 0 && value === value.trim() && /^[\t\x20-\x7E]*$/.test(value) && !(value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX));
  if (plain) return value;
  // A lone surrogate encodes as U+FFFD (TextEncoder's rule).
  const bytes = new TextEncoder().encode(value);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `${SENTINEL_PREFIX}${btoa(binary)}${SENTINEL_SUFFIX}`;
}

/** A header value decoded (the sentinel form to its UTF-8 text); undefined when the sentinel is not valid Base64 of UTF-8. */
export function decodeRoutingHeaderValue(value: string): string | undefined {
  const trimmed = value.trim();
  if (!(trimmed.startsWith(SENTINEL_PREFIX) && trimmed.endsWith(SENTINEL_SUFFIX))) return trimmed;
  try {
    const binary = atob(trimmed.slice(SENTINEL_PREFIX.length, -SENTINEL_SUFFIX.length));
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

/**
 * Why the request's `Mcp-Method` / `Mcp-Name` headers disagree with its body, or null when they
 * agree or are absent (a 2025-era client sends neither). A header present where the body has
 * nothing to mirror (a batch, a method without a name) disagrees too.
 */
export function routingHeaderMismatch(headers: Pick<Headers, 'get'>, body: unknown): string | null {
  const methodHeader = headers.get('Mcp-Method');
  const nameHeader = headers.get('Mcp-Name');
  if (methodHeader === null && nameHeader === null) return null;
  const facts = routingFactsOf(body);
  if (methodHeader !== null && decodeRoutingHeaderValue(methodHeader) !== facts.method) return 'the Mcp-Method header does not match the method in the body';
  if (nameHeader !== null && decodeRoutingHeaderValue(nameHeader) !== facts.name) return 'the Mcp-Name header does not match the name in the body';
  return null;
}
