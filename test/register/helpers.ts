import type { TestApp } from '../helpers/app.ts';

/** POSTs a JSON registration request (RFC 7591 §3.1). */
export function register(t: TestApp, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return t.request('/register', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** What an MCP client typically sends: a public native client with a loopback redirect. */
export const PUBLIC_CLIENT = {
  client_name: 'Example MCP client',
  redirect_uris: ['http://localhost:33418/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
} as const;
