import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { startServer, tempDatabase, type RunningServer } from '../cli/helpers.ts';
import { InMemoryOAuthProvider } from '../helpers/e2e.ts';
import { authorizeWithForms, cookieJar, createPkcePair } from '../helpers/oauth-flow.ts';
import { parseChallenge } from '../resource/fixtures.ts';

/**
 * Two real Portcullis processes, both started by the CLI on 127.0.0.1 with their own SQLite files:
 * #2 is a standalone authorization server that also issues tokens for #1 (`PORTCULLIS_RESOURCES`);
 * #1 runs in resource-only mode (`start --authorization-server <#2>`). The official MCP SDK v2 client
 * connects to #1 and is sent to #2 for everything OAuth, as an MCP client would be sent to Stytch.
 */

/** Ports for both servers, known before either starts, since each names the other in its settings. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Stops a child started by `startServer`, gracefully first. */
async function stop(server: RunningServer | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null) return;
  server.child.kill('SIGTERM');
  await server.exited().catch(() => server.child.kill('SIGKILL'));
}

describe('E2E: a second Portcullis process as the standalone authorization server of a resource-only Portcullis', () => {
  const asDb = tempDatabase();
  const rsDb = tempDatabase();
  let as: RunningServer & { match: RegExpMatchArray };
  let rs: RunningServer;
  let asOrigin: string;
  let rsOrigin: string;
  let rsMcp: string;
  let admin: { username: string; password: string };
  const provider = new InMemoryOAuthProvider();
  const jar = cookieJar();
  const exchanges: string[] = [];
  let client: Client;
  let transport: StreamableHTTPClientTransport;

  /** The client's fetch: real sockets, every exchange recorded as `METHOD origin+path status`. */
  const recordingFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const response = await fetch(request);
    const url = new URL(request.url);
    exchanges.push(`${request.method} ${url.origin}${url.pathname} ${response.status}`);
    return response;
  };

  before(async () => {
    const [rsPort, asPort] = await freePorts(2);
    asOrigin = `http://127.0.0.1:${asPort}`;
    rsOrigin = `http://127.0.0.1:${rsPort}`;
    rsMcp = `${rsOrigin}/mcp`;
    as = await startServer(
      { PORT: String(asPort), PORTCULLIS_PUBLIC_URL: asOrigin, PORTCULLIS_DATABASE: asDb.database, PORTCULLIS_RESOURCES: rsMcp },
      /username\s+(\S+)\n\s+password\s+(\S+)\n[\s\S]*More commands:/,
    );
    admin = { username: as.match[1]!, password: as.match[2]! };
    rs = await startServer({ PORT: String(rsPort), PORTCULLIS_PUBLIC_URL: rsOrigin, PORTCULLIS_DATABASE: rsDb.database }, /More commands:/, 30_000, ['--authorization-server', asOrigin]);
  });

  after(async () => {
    await client?.close().catch(() => {});
    await Promise.all([stop(rs), stop(as)]);
    asDb.cleanup();
    rsDb.cleanup();
  });

  it('resource-only start: the banner names the authorization server it trusts; no administrator, no password, no signing key', async () => {
    const out = rs.stdout();
    assert.match(out, new RegExp(`MCP server URL\\s+${rsMcp}\\n`));
    assert.match(out, new RegExp(`Tokens from\\s+${asOrigin}\\s+\\(JWT access tokens`));
    assert.doesNotMatch(out, /password|administrator/i);
    const storage = await openSqliteStorage(rsDb.database);
    try {
      assert.equal(await storage.users.count(), 0);
      assert.deepEqual(await storage.signingKeys.list(), []);
    } finally {
      await storage.close();
    }
  });

  it('resource-only start: no authorization server endpoints on #1, and its PRM names #2 (RS-02, RS-26)', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/authorize', '/token', '/register', '/login', '/jwks']) {
      const response = await fetch(`${rsOrigin}${path}`, { method: path === '/token' || path === '/register' ? 'POST' : 'GET' });
      assert.equal(response.status, 404, path);
      await response.body?.cancel();
    }
    const prm = (await (await fetch(`${rsOrigin}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>;
    assert.deepEqual(prm['authorization_servers'], [asOrigin]);
    assert.equal(prm['resource'], rsMcp);
  });

  it('the SDK client: 401 at #1 → PRM names #2 → #2 metadata → registration at #2 → an authorization URL at #2 for #1\'s MCP URL', async () => {
    transport = new StreamableHTTPClientTransport(new URL(rsMcp), { authProvider: provider, fetch: recordingFetch });
    client = new Client({ name: 'portcullis-two-process-e2e', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await assert.rejects(client.connect(transport), (e: unknown) => e instanceof UnauthorizedError);
    assert.equal(exchanges[0], `POST ${rsMcp} 401`);
    assert.ok(exchanges.includes(`GET ${rsOrigin}/.well-known/oauth-protected-resource/mcp 200`), exchanges.join('\n'));
    assert.ok(exchanges.some((e) => e.startsWith(`GET ${asOrigin}/.well-known/`) && e.endsWith(' 200')), exchanges.join('\n'));
    assert.ok(exchanges.includes(`POST ${asOrigin}/register 201`), exchanges.join('\n'));
    assert.ok(!exchanges.some((e) => e.includes(`${rsOrigin}/register`) || e.includes(`${rsOrigin}/.well-known/oauth-authorization-server`)), 'nothing OAuth is asked of #1');

    const url = provider.authorizationUrls.at(-1)!;
    assert.equal(`${url.origin}${url.pathname}`, `${asOrigin}/authorize`);
    assert.equal(url.searchParams.get('resource'), rsMcp, 'RFC 8707: the token is asked for #1');
  });

  it('login and consent at #2 with its real forms (the consent page names #1), the code exchanged at #2, and tools/call at #1 succeeds', async () => {
    let consentPage = '';
    const callback = await authorizeWithForms({
      fetch: (u, i) => fetch(u, i),
      authorizationUrl: provider.authorizationUrls.at(-1)!,
      ...admin,
      jar,
      onPage: (page) => {
        if (page.url.pathname.startsWith('/consent')) consentPage = page.html;
      },
    });
    assert.ok(consentPage.includes(rsMcp), 'the consent page shows which server gets access');
    assert.equal(callback.searchParams.get('iss'), asOrigin);
    await transport.finishAuth(callback.searchParams);
    assert.ok(exchanges.includes(`POST ${asOrigin}/token 200`), exchanges.join('\n'));
    const claims = decodeJwt(provider.tokenSet!.access_token);
    assert.equal(claims.aud, rsMcp, 'RFC 8707: aud is #1\'s MCP URL');
    assert.equal(claims.iss, asOrigin);

    transport = new StreamableHTTPClientTransport(new URL(rsMcp), { authProvider: provider, fetch: recordingFetch });
    client = new Client({ name: 'portcullis-two-process-e2e', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(transport);
    const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as Record<string, unknown>;
    assert.equal(me['subject'], claims.sub);
    assert.equal(me['clientId'], provider.client?.client_id);
    assert.equal(me['username'], null, '#1 keeps no accounts: the user is #2\'s');
    assert.deepEqual((await client.callTool({ name: 'list_tasks', arguments: {} })).structuredContent, { tasks: [] });
  });

  it('RS-08/RS-18: a token #2 issued for its own MCP endpoint is refused by #1 with 401 invalid_token (no token passthrough, BP-07)', async () => {
    const registration = await fetch(`${asOrigin}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'Another client', redirect_uris: ['http://127.0.0.1:53999/callback'], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(registration.status, 201);
    const { client_id: clientId } = (await registration.json()) as { client_id: string };
    const pkce = createPkcePair();
    const authorizationUrl = new URL(`${asOrigin}/authorize`);
    for (const [name, value] of Object.entries({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: 'http://127.0.0.1:53999/callback',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      scope: 'tasks:read',
      state: 'other',
      resource: `${asOrigin}/mcp`,
    })) authorizationUrl.searchParams.set(name, value);
    const callback = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl, ...admin, jar });
    const token = await fetch(`${asOrigin}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: pkce.verifier, client_id: clientId }),
    });
    const { access_token: accessToken } = (await token.json()) as { access_token: string };
    assert.equal(decodeJwt(accessToken).aud, `${asOrigin}/mcp`);

    const refused = await fetch(rsMcp, {
      method: 'POST',
      headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(refused.status, 401);
    const { params } = parseChallenge(refused.headers.get('WWW-Authenticate'));
    assert.equal(params['error'], 'invalid_token');
    assert.equal(params['resource_metadata'], `${rsOrigin}/.well-known/oauth-protected-resource/mcp`);
  });

  it('RS-08 the other way round: the token for #1 is refused by #2\'s own MCP endpoint', async () => {
    const refused = await fetch(`${asOrigin}/mcp`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${provider.tokenSet!.access_token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(refused.status, 401);
    assert.equal(parseChallenge(refused.headers.get('WWW-Authenticate')).params['error'], 'invalid_token');
  });
});
