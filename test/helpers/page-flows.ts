/**
 * Pieces the page tests share: a loopback callback listener as a native MCP client runs (RFC 8252
 * §7.3), connecting an application through the real pages in Chromium, and using its tokens at the
 * MCP endpoint and /token as the application would.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import type { Storage } from '../../src/storage/types.ts';
import { authorizationRequestUrl, createPkcePair, registerPublicClient, type TestClientOptions } from './oauth-flow.ts';

export interface CallbackListener {
  url: string;
  close(): Promise<void>;
}

/** Answers GET /callback with a plain page, as an MCP client's loopback listener does. */
export async function startCallbackListener(): Promise<CallbackListener> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('Signed in. You can close this window.');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ConnectedClient {
  clientId: string;
  accessToken: string;
  refreshToken: string | undefined;
}

export interface AppToConnect extends Omit<TestClientOptions, 'redirectUris'> {
  scope?: string;
  /** Extra authorization request parameters (prompt=…). */
  extra?: Record<string, string>;
}

/** The authorization request of `clientId`, with a fresh PKCE pair. */
export function authorizationRequest(origin: string, clientId: string, redirectUri: string, scope: string, extra: Record<string, string> = {}) {
  const pkce = createPkcePair();
  const url = authorizationRequestUrl(origin, {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    state: 'st-' + Math.random().toString(36).slice(2),
    scope,
    resource: `${origin}/mcp`,
    ...extra,
  });
  return { url, verifier: pkce.verifier };
}

/** Signs in on the login page if it is showing. */
export async function signInIfAsked(page: Page, username: string, password: string): Promise<void> {
  if (new URL(page.url()).pathname !== '/login') return;
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('form:has(#password) button[type=submit]')]);
}

/**
 * Registers an application, runs its authorization in the browser (signing in when asked, allowing
 * on the consent page) and redeems the code as the application would.
 */
export async function connectApp(
  context: BrowserContext,
  server: { origin: string; storage: Storage },
  callbackUrl: string,
  user: { username: string; password: string },
  app: AppToConnect = {},
): Promise<ConnectedClient> {
  const { scope = 'tasks:read offline_access', extra, ...clientOptions } = app;
  const client = await registerPublicClient(server.storage, { redirectUris: [callbackUrl], ...clientOptions });
  const request = authorizationRequest(server.origin, client.clientId, callbackUrl, scope, extra);
  const page = await context.newPage();
  await page.goto(request.url.href);
  await signInIfAsked(page, user.username, user.password);
  if (new URL(page.url()).pathname === '/consent') await Promise.all([page.waitForURL((u) => u.href.startsWith(callbackUrl)), page.click('button[value=allow]')]);
  const code = new URL(page.url()).searchParams.get('code');
  await page.close();
  if (!code) throw new Error(`no code at ${page.url()}`);
  const tokens = await redeem(server.origin, client.clientId, code, request.verifier, callbackUrl);
  return { clientId: client.clientId, accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
}

export async function redeem(origin: string, clientId: string, code: string, verifier: string, redirectUri: string): Promise<{ access_token: string; refresh_token?: string }> {
  const response = await fetch(`${origin}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: redirectUri }),
  });
  if (response.status !== 200) throw new Error(`token endpoint: ${response.status} ${await response.text()}`);
  return (await response.json()) as { access_token: string; refresh_token?: string };
}

/** The status the MCP endpoint answers a `tools/list` with this access token. */
export async function mcpStatus(origin: string, accessToken: string): Promise<number> {
  const response = await fetch(`${origin}/mcp`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'page-test', version: '1' } } }),
  });
  await response.body?.cancel();
  return response.status;
}

/** The /token answer to a refresh with this refresh token: its status and OAuth error code. */
export async function refreshWith(origin: string, clientId: string, refreshToken: string): Promise<{ status: number; error?: string }> {
  const response = await fetch(`${origin}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }),
  });
  const body = (await response.json()) as { error?: string };
  return { status: response.status, ...(body.error ? { error: body.error } : {}) };
}
