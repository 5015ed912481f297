/**
 * 2026-07-28 (SEP-2243) requests repeat routing facts of their body in headers: `Mcp-Method` (the
 * JSON-RPC method) and `Mcp-Name` (the `params.name` / `uri` / `taskId` of the methods below), so
 * that intermediaries can route without parsing the body. The gateway's scope decision is made
 * from the body; a header the client set differently would let an upstream or a proxy that routes
 * on it run a tool the scope check never saw. So the gateway never relays the client's copies: it
 * states the values of the body it checked, with the spec's value encoding (plain visible ASCII, or
 * `=?base64?…?=` of the UTF-8). A conforming upstream then sees headers that agree with the body.
 */

/** The methods whose `Mcp-Name` mirrors a `params` field, and which (SEP-2243, SEP-2663). */
const NAME_SOURCE: Readonly<Record<string, string>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri', 'tasks/get': 'taskId', 'tasks/update': 'taskId', 'tasks/cancel': 'taskId' };

export const ROUTING_HEADERS = ['mcp-method', 'mcp-name'] as const;

/** `Mcp-Method` and `Mcp-Name` as the body states them; a field the body does not determine is absent. */
export function routingHeadersOf(body: unknown): { 'mcp-method'?: string; 'mcp-name'?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  const { method, params } = body as { method?: unknown; params?: unknown };
  if (typeof method !== 'string') return {};
  const out: { 'mcp-method'?: string; 'mcp-name'?: string } = { 'mcp-method': encodeHeaderValue(method) };
  const field = Object.hasOwn(NAME_SOURCE, method) ? NAME_SOURCE[method] : undefined;
  const value = field !== undefined && typeof params === 'object' && params !== null ? (params as Record<string, unknown>)[field] : undefined;
  if (typeof value === 'string') out['mcp-name'] = encodeHeaderValue(value);
  return out;
}

const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';

/** The spec's header value encoding: visible ASCII passes as is, anything else is Base64 of its UTF-8 in the sentinel (a lone surrogate encodes as U+FFFD). */
function encodeHeaderValue(value: string): string {
  const plain = value.length > 0 && value === value.trim() && /^[\t\x20-\x7E]*$/.test(value) && !(value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX));
  return plain ? value : `${SENTINEL_PREFIX}${Buffer.from(value, 'utf8').toString('base64')}${SENTINEL_SUFFIX}`;
}
