import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { TestApp } from '../helpers/app.ts';

/** Raw Streamable HTTP messages, for tests that assert on the HTTP exchange itself. */

export const LEGACY_VERSION = '2025-06-18';

export function initializeMessage(id: number | string = 1) {
  return { jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: { name: 'raw-test', version: '1' } } };
}

export function toolCallMessage(name: string, args: Record<string, unknown> = {}, id: number | string = 2) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } };
}

export function mcpHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...extra };
}

/** What the helpers need of an app: `createTestApp()`'s, or {@link onApp} for a custom one. */
export type AppUnderTest = Pick<TestApp, 'request' | 'ctx'>;

/** A custom Hono app (e.g. an MCP endpoint with test tools) over a test app's context. */
export function onApp(app: { fetch(request: Request): Response | Promise<Response> }, ctx: TestApp['ctx']): AppUnderTest {
  return { ctx, request: async (path, init) => app.fetch(new Request(new URL(path, ctx.config.issuer), init)) };
}

export function post(t: AppUnderTest, body: unknown, headers: Record<string, string> = {}, path = t.ctx.config.mcpPath): Promise<Response> {
  return t.request(path, { method: 'POST', headers: mcpHeaders(headers), body: JSON.stringify(body) });
}

/** Opens a 2025-era session with `initialize` + `notifications/initialized`; returns its id. */
export async function openLegacySession(t: AppUnderTest, auth: Record<string, string>): Promise<string> {
  const init = await post(t, initializeMessage(), auth);
  if (init.status !== 200) throw new Error(`initialize failed: ${init.status} ${await init.text()}`);
  await init.body?.cancel();
  const sessionId = init.headers.get('Mcp-Session-Id');
  if (!sessionId) throw new Error('no Mcp-Session-Id');
  const ack = await post(t, { jsonrpc: '2.0', method: 'notifications/initialized' }, { ...auth, 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': LEGACY_VERSION });
  if (ack.status !== 202) throw new Error(`notifications/initialized failed: ${ack.status}`);
  return sessionId;
}

/** Headers for a request inside a 2025-era session. */
export function inSession(auth: Record<string, string>, sessionId: string): Record<string, string> {
  return { ...auth, 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': LEGACY_VERSION };
}

/** Reads the one JSON-RPC message of a JSON or single-event SSE response. */
export async function rpcResult(response: Response): Promise<{ result?: Record<string, unknown>; error?: { code: number; message: string } }> {
  const text = await response.text();
  if (response.headers.get('Content-Type')?.startsWith('text/event-stream')) {
    const data = text.split('\n').find((l) => l.startsWith('data: '));
    if (!data) throw new Error(`no data in SSE response: ${text}`);
    return JSON.parse(data.slice(6));
  }
  return JSON.parse(text);
}

/** The official SDK client talking to the in-process app, on either protocol era; `null`: without a token (public tools). */
export async function connectClient(t: TestApp, token: string | null, era: 'legacy' | 'modern'): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const fetchInProcess: typeof fetch = async (input, init) => t.app.fetch(new Request(input as string | URL, init));
  const client = new Client({ name: 'portcullis-test', version: '1' }, era === 'modern' ? { versionNegotiation: { mode: 'auto' } } : {});
  const transport = new StreamableHTTPClientTransport(new URL(t.ctx.config.resource), {
    fetch: fetchInProcess,
    requestInit: { headers: token === null ? {} : { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return { client, transport };
}
