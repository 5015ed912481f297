import { encodeRoutingHeaderValue, routingFactsOf } from '../../policy/routing-headers.ts';

/**
 * The gateway's copies of the 2026-07-28 routing headers (`Mcp-Method`, `Mcp-Name`). The endpoint
 * has already refused a request whose headers disagree with its body (src/policy/routing-headers.ts);
 * the gateway still never relays the client's copies but states the values of the body it checked,
 * in the spec's value encoding, so a conforming upstream sees headers that agree with the body.
 */

export const ROUTING_HEADERS = ['mcp-method', 'mcp-name'] as const;

/** `Mcp-Method` and `Mcp-Name` as the body states them; a field the body does not determine is absent. */
export function routingHeadersOf(body: unknown): { 'mcp-method'?: string; 'mcp-name'?: string } {
  const { method, name } = routingFactsOf(body);
  return {
    ...(method !== undefined ? { 'mcp-method': encodeRoutingHeaderValue(method) } : {}),
    ...(name !== undefined ? { 'mcp-name': encodeRoutingHeaderValue(name) } : {}),
  };
}
