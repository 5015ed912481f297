import { NO_STORE } from '../util/no-store.ts';

/**
 * A `tools/call` refused for want of a token (401) or of scope (403), answered so that both kinds of
 * client act on it. The status and `WWW-Authenticate` header stay exactly as the MCP authorization
 * spec has them (a spec client runs discovery or steps up from those); the body becomes the
 * JSON-RPC answer to the call that ChatGPT's Apps SDK reads: a tool error whose
 * `_meta["mcp/www_authenticate"]` carries the same challenge (SEP-1489), from which it starts its
 * OAuth linking. Anything but one `tools/call` with an id (a batch, another method) keeps the challenge as it was.
 */
export function signInResult(challenge: Response, body: unknown): Response {
  const header = challenge.headers.get('WWW-Authenticate');
  if (header === null || (challenge.status !== 401 && challenge.status !== 403)) return challenge;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return challenge;
  const { method, id } = body as { method?: unknown; id?: unknown };
  if (method !== 'tools/call' || (typeof id !== 'string' && typeof id !== 'number')) return challenge;
  const text = challenge.status === 401 ? 'Sign in to use this tool.' : 'This tool needs more access than you granted: sign in again to grant it.';
  const result = { content: [{ type: 'text', text }], isError: true, _meta: { 'mcp/www_authenticate': [header] } };
  return Response.json({ jsonrpc: '2.0', id, result }, { status: challenge.status, headers: { ...NO_STORE, 'WWW-Authenticate': header } });
}
