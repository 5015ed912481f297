/**
 * What the client gets when the upstream cannot serve it: a JSON-RPC error, with the id of the
 * request when there was exactly one, and an HTTP status that says whose fault it is (502: the
 * upstream failed or refused the gateway; 504: it did not answer in time). The text never names
 * the upstream (seed 2 defect 15: its URL is the operator's business, not the client's).
 */

/** JSON-RPC's "server error" range (-32000…-32099), as the SDK uses it for transport failures. */
const UPSTREAM_ERROR_CODE = -32000;

export const UPSTREAM_MESSAGES = {
  unavailable: 'Bad Gateway: the upstream MCP server is unavailable.',
  refused: 'Bad Gateway: the upstream MCP server refused the gateway.',
  exited: 'Bad Gateway: the upstream MCP server exited.',
  timeout: 'Gateway Timeout: the upstream MCP server did not answer in time.',
} as const;

export function requestIdOf(body: unknown): string | number | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const { id, method } = body as { id?: unknown; method?: unknown };
  return typeof method === 'string' && (typeof id === 'string' || typeof id === 'number') ? id : null;
}

export function upstreamError(status: 502 | 504, message: string, body: unknown): Response {
  return Response.json(
    { jsonrpc: '2.0', error: { code: UPSTREAM_ERROR_CODE, message }, id: requestIdOf(body) },
    { status, headers: { 'Cache-Control': 'no-store' } },
  );
}
