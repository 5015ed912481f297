import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { E2E_USER, InMemoryOAuthProvider, startRealServer, type RealServer } from '../helpers/e2e.ts';
import { authorizeWithForms, cookieJar } from '../helpers/oauth-flow.ts';

/**
 * The v1 SDK client (`@modelcontextprotocol/sdk`) is what mcp-remote, the MCP Inspector and most
 * desktop clients of 2025 are built on: its whole OAuth flow, 2025-era sessions, step-up and refresh,
 * against the real server over real sockets.
 */
const ACCESS_TOKEN_TTL = 60;

describe('E2E: the v1 SDK client (as in mcp-remote and the Inspector) logs in, calls tools, re-authorizes for more scope and refreshes', () => {
  let real: RealServer;
  const provider = new InMemoryOAuthProvider();
  const jar = cookieJar();
  const statuses: string[] = [];
  let client: Client;
  let transport: StreamableHTTPClientTransport;

  const recordingFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const response = await fetch(request);
    statuses.push(`${request.method} ${new URL(request.url).pathname} ${response.status}`);
    return response;
  };
  const connect = async () => {
    transport = new StreamableHTTPClientTransport(new URL(`${real.origin}/mcp`), { authProvider: provider, fetch: recordingFetch });
    client = new Client({ name: 'v1-e2e', version: '1.0.0' });
    await client.connect(transport);
  };
  /** Signs in and allows on the real pages, then hands the code to the transport as a desktop client's callback would. */
  const completeAuthorization = async () => {
    const callback = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl: provider.authorizationUrls.at(-1)!, ...E2E_USER, jar });
    assert.equal(callback.searchParams.get('state'), provider.expectedState);
    assert.equal(callback.searchParams.get('iss'), real.origin);
    await transport.finishAuth(callback.searchParams.get('code')!);
  };

  before(async () => {
    // Least privilege, so that the first grant is read-only and the client re-authorizes for more (RS-12).
    real = await startRealServer({ accessTokenTtl: ACCESS_TOKEN_TTL, defaultScopes: ['tasks:read'] });
  });
  after(async () => {
    await client?.close().catch(() => {});
    await real.close();
  });

  it('RS-03b: 401 → PRM → AS metadata → DCR → authorization URL with PKCE S256 and resource', async () => {
    await assert.rejects(connect(), (e: unknown) => e instanceof UnauthorizedError);
    assert.equal(statuses[0], 'POST /mcp 401');
    assert.ok(statuses.includes('GET /.well-known/oauth-protected-resource/mcp 200'), statuses.join('\n'));
    assert.ok(statuses.includes('POST /register 201'), statuses.join('\n'));
    const url = provider.authorizationUrls.at(-1)!;
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(url.searchParams.get('resource'), `${real.origin}/mcp`);
  });

  it('signs in, consents, exchanges the code and calls tools in a session', async () => {
    await completeAuthorization();
    assert.ok(provider.tokenSet?.refresh_token);
    await connect();
    assert.ok(transport.sessionId, 'a 2025-era session');
    const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as { username: string };
    assert.equal(me.username, E2E_USER.username);
  });

  it('RS-12: a write tool is refused with 403 naming the scopes; re-authorizing with them makes it work', async () => {
    await assert.rejects(client.callTool({ name: 'create_task', arguments: { title: 'Water plants' } }));
    assert.ok(statuses.includes('POST /mcp 403'));
    // v1 SDK 1.32 answers a 403 insufficient_scope by refreshing, which cannot widen scope (OAuth 2.1
    // §4.3.1), so it gives up. Forgetting the tokens, as its users do, re-authorizes with the scopes
    // the challenge named.
    provider.tokenSet = undefined;
    const before = provider.authorizationUrls.length;
    await assert.rejects(client.callTool({ name: 'create_task', arguments: { title: 'Water plants' } }), (e: unknown) => e instanceof UnauthorizedError);
    assert.equal(provider.authorizationUrls.length, before + 1, 'a new authorization was started');
    const scopes = provider.authorizationUrls.at(-1)!.searchParams.get('scope')?.split(' ') ?? [];
    assert.ok(scopes.includes('tasks:read') && scopes.includes('tasks:write'), `the challenge's scopes: ${scopes.join(' ')}`);
    await completeAuthorization();
    await connect();
    const created = await client.callTool({ name: 'create_task', arguments: { title: 'Water plants' } });
    assert.equal((created.structuredContent as { task: { title: string } }).task.title, 'Water plants');
  });

  it('AS-20: after the access token expires it refreshes (rotating the refresh token) and carries on', async () => {
    const oldRefresh = provider.tokenSet?.refresh_token;
    real.clock.advance((ACCESS_TOKEN_TTL + 1) * 1000);
    const result = await client.callTool({ name: 'list_tasks', arguments: {} });
    assert.equal((result.structuredContent as { tasks: unknown[] }).tasks.length, 1);
    assert.ok(statuses.includes('POST /token 200'));
    assert.notEqual(provider.tokenSet?.refresh_token, oldRefresh, 'the refresh token rotated');
  });
});
