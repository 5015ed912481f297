import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { E2E_USER, InMemoryOAuthProvider } from '../helpers/e2e.ts';
import { authorizeWithForms, cookieJar } from '../helpers/oauth-flow.ts';
import { assertCompleted, discover, register, runClientFlow } from './client-flow.ts';
import { ephemeralPort, startClientsHarness, type ClientsHarness } from './harness.ts';
import { CLAUDE_CODE } from './profiles.ts';

/**
 * Claude Code identifies itself by a client ID metadata document whose only redirect URI is a loopback
 * one without a port (`http://localhost/callback`), then listens on an ephemeral port and sends
 * `http://localhost:<port>/callback`. RFC 8252 §7.3: the server must let a loopback port vary (AS-23);
 * an AS that matches the port strictly breaks it (claude-code#47185).
 */
describe('Claude Code: CIMD with a port-less loopback redirect URI, authorized on an ephemeral port', () => {
  let h: ClientsHarness;
  before(async () => {
    h = await startClientsHarness();
  });
  after(() => h.close());

  it('AS-23 / RFC 8252 §7.3 the ephemeral port is accepted, the code redeemed with client_id alone, refreshed, tools listed', async () => {
    const run = await runClientFlow(h, CLAUDE_CODE);
    assertCompleted(h, run);
    const clientId = new URL(run.registered.client.client_id);
    assert.equal(clientId.protocol, 'https:');
    assert.equal(clientId.pathname, '/oauth/claude-code-client-metadata');
    assert.equal(h.documents.hits('/oauth/claude-code-client-metadata'), 1, 'fetched once, then cached');
    const sent = new URL(run.authorization.redirectUri);
    assert.equal(sent.hostname, 'localhost');
    assert.notEqual(sent.port, '', 'the request names a port the document does not');
    assert.equal(run.authorization.callback.port, sent.port, 'the code comes back to the port the client listens on');
  });

  it('a second run of the same install listens on another port and is accepted too', async () => {
    const first = await runClientFlow(h, CLAUDE_CODE);
    const second = await runClientFlow(h, CLAUDE_CODE, { discovery: first.discovery, registered: first.registered });
    assertCompleted(h, second);
    assert.notEqual(new URL(second.authorization.redirectUri).port, new URL(first.authorization.redirectUri).port);
  });

  // Last: it moves the server's clock past the access token's lifetime.
  it('with the MCP SDK v2 client Claude Code is built on (strict iss and issuer checks): authorizes on an ephemeral port, calls tools, refreshes when the token expires', async () => {
    const d = await discover(h, CLAUDE_CODE);
    const published = await register(h, CLAUDE_CODE, d.as);
    const provider = new InMemoryOAuthProvider({ clientMetadataUrl: published.client.client_id, redirectUrl: `http://localhost:${await ephemeralPort()}/callback`, clientName: CLAUDE_CODE.name });
    const transport = () => new StreamableHTTPClientTransport(new URL(h.mcpUrl), { authProvider: provider });
    await assert.rejects(new Client({ name: 'claude-code', version: '1.0.0' }).connect(transport()), (e: unknown) => e instanceof UnauthorizedError);
    assert.equal(provider.client?.client_id, published.client.client_id, 'no dynamic registration: the document URL is the client_id');
    const authorizationUrl = provider.authorizationUrls.at(-1)!;
    assert.equal(authorizationUrl.searchParams.get('client_id'), published.client.client_id);
    assert.equal(authorizationUrl.searchParams.get('redirect_uri'), provider.redirectUrl);

    const callback = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl, ...E2E_USER, jar: cookieJar() });
    await transport().finishAuth(callback.searchParams);
    const client = new Client({ name: 'claude-code', version: '1.0.0' });
    await client.connect(transport());
    try {
      assert.ok((await client.listTools()).tools.some((t) => t.name === 'create_task'));
      const saved = provider.tokensSaved;
      h.real.clock.advance((h.real.portcullis.ctx.config.accessTokenTtl + 1) * 1000);
      const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as { username: string; clientId: string };
      assert.equal(me.username, E2E_USER.username);
      assert.equal(me.clientId, published.client.client_id);
      assert.equal(provider.tokensSaved, saved + 1, 'the expired token was refreshed');
      assert.equal(provider.authorizationUrls.length, 1, 'without a new authorization');
    } finally {
      await client.close();
    }
  });
});
