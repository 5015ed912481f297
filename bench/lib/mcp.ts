import { header, type HttpClient, type HttpResponse } from './http-client.ts';

/** The 2025-era protocol every benchmarked server speaks (Portcullis also serves 2026-07-28). */
export const PROTOCOL_VERSION = '2025-06-18';
export const MCP_PATH = '/mcp';

export function mcpHeaders(token: string | undefined, sessionId?: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    ...(token !== undefined ? { Authorization: `Bearer ${token}` } : {}),
    ...(sessionId !== undefined ? { 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': PROTOCOL_VERSION } : {}),
  };
}

export const initializeBody = (): string =>
  JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'portcullis-bench', version: '1' } } });

export const initializedBody = (): string => JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });

/** `id` may be autocannon's `[<id>]` placeholder, replaced by a unique id per request. */
export const whoamiCallBody = (id: string | number): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'whoami', arguments: {} } });

/** The one JSON-RPC message of a JSON or single-event SSE response. */
export function rpcMessage(response: HttpResponse): { result?: Record<string, unknown>; error?: { code: number; message: string } } {
  if (header(response, 'content-type')?.startsWith('text/event-stream')) {
    const data = response.body.split('\n').find((line) => line.startsWith('data: '));
    if (!data) throw new Error(`no data in SSE response: ${response.body.slice(0, 200)}`);
    return JSON.parse(data.slice(6));
  }
  return JSON.parse(response.body);
}

function expectStatus(response: HttpResponse, status: number, what: string): void {
  if (response.status !== status) throw new Error(`${what}: HTTP ${response.status} ${response.body.slice(0, 300)}`);
}

/** `initialize` + `notifications/initialized`, as a 2025-era client opens a session; returns its id. */
export async function openSession(http: HttpClient, token: string | undefined): Promise<string> {
  const init = await http.send('POST', MCP_PATH, mcpHeaders(token), initializeBody());
  expectStatus(init, 200, 'initialize');
  const sessionId = header(init, 'mcp-session-id');
  if (!sessionId) throw new Error('initialize: no Mcp-Session-Id');
  expectStatus(await http.send('POST', MCP_PATH, mcpHeaders(token, sessionId), initializedBody()), 202, 'notifications/initialized');
  return sessionId;
}

/** Calls `whoami` and returns its structured result; throws unless it is a successful tool result. */
export async function callWhoami(http: HttpClient, token: string | undefined, sessionId: string): Promise<Record<string, unknown>> {
  const response = await http.send('POST', MCP_PATH, mcpHeaders(token, sessionId), whoamiCallBody(2));
  expectStatus(response, 200, 'tools/call whoami');
  const { result, error } = rpcMessage(response);
  if (error || !result || result['isError']) throw new Error(`tools/call whoami failed: ${response.body.slice(0, 300)}`);
  return result['structuredContent'] as Record<string, unknown>;
}

export async function closeSession(http: HttpClient, token: string | undefined, sessionId: string): Promise<void> {
  const response = await http.send('DELETE', MCP_PATH, mcpHeaders(token, sessionId));
  if (response.status !== 200 && response.status !== 204) throw new Error(`DELETE session: HTTP ${response.status}`);
}
