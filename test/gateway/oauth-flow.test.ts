import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { startHttpUpstream, type HttpUpstream } from '../fixtures/upstream/http-server.ts';
import { E2E_USER, InMemoryOAuthProvider, startRealServer, type RealServer } from '../helpers/e2e.ts';
import { authorizeWithForms, cookieJar } from '../helpers/oauth-flow.ts';
import { GATEWAY_CREDENTIAL } from './helpers.ts';

/**
 * Issue 4 end to end: the official SDK client with an OAuthClientProvider, through the gateway on a
 * real socket, to a real HTTP MCP server — discovery, registration, login and consent on the real
 * pages, tokens, a step-up for a tool mapped to a further scope, and a refresh. The upstream knows
 * nothing of OAuth: it sees the gateway's credential and who the user is.
 */

const ACCESS_TOKEN_TTL = 60;
const textOf = (result: { content?: unknown }) => ((result.content as Array<{ text?: string }> | undefined)?.[0]?.text ?? '');

describe('E2E: the official SDK client logs in through the gateway and uses an HTTP upstream', () => {
  let upstream: HttpUpstream;
  let server: RealServer;
  let client: Client | undefined;
  const provider = new InMemoryOAuthProvider();
  const jar = cookieJar();
  let mcpUrl: URL;

  const completeAuthorization = async (): Promise<URLSearchParams> => {
    const authorizationUrl = provider.authorizationUrls.at(-1)!;
    const callback = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl, username: E2E_USER.username, password: E2E_USER.password, jar });
    assert.equal(callback.searchParams.get('error'), null, callback.searchParams.get('error_description') ?? '');
    assert.equal(callback.searchParams.get('state'), provider.expectedState);
    return callback.searchParams;
  };
  const newTransport = () => new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });

  before(async () => {
    upstream = await startHttpUpstream({ requiredAuthorization: `Bearer ${GATEWAY_CREDENTIAL}` });
    server = await startRealServer({
      accessTokenTtl: ACCESS_TOKEN_TTL,
      serverName: 'Fixture tools',
      scopes: [
        { name: 'mcp', description: 'Use the fixture tools' },
        { name: 'tools:slow', description: 'Run the slow tools' },
      ],
      defaultScopes: ['mcp'],
      upstream: { url: upstream.url, bearerToken: GATEWAY_CREDENTIAL, toolScopes: { slow: ['tools:slow'] } },
    });
    mcpUrl = new URL(`${server.origin}/mcp`);
  });
  after(async () => {
    await client?.close().catch(() => {});
    await server.close();
    await upstream.close();
  });

  it('RS-03b/RS-26 discovery and registration lead to an authorization URL for the gateway scope', async () => {
    await assert.rejects(new Client({ name: 'gateway-e2e', version: '1' }).connect(newTransport()), (e: unknown) => e instanceof UnauthorizedError);
    const url = provider.authorizationUrls.at(-1)!;
    assert.equal(`${url.origin}${url.pathname}`, `${server.origin}/authorize`);
    assert.equal(url.searchParams.get('resource'), mcpUrl.href);
    assert.ok(url.searchParams.get('scope')?.split(' ').includes('mcp'));
    assert.equal(upstream.requests.length, 0, 'nothing reached the upstream before the user logged in');
  });

  it("logs in and consents on the real pages; the upstream's tools are listed and called with the user's identity", async () => {
    const first = newTransport();
    await first.finishAuth(await completeAuthorization());
    client = new Client({ name: 'gateway-e2e', version: '1' });
    await client.connect(newTransport());
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    // `slow` needs a scope this token lacks: tools/list shows only what it may call (toolPolicy.filterLists).
    assert.ok(names.includes('echo') && !names.includes('slow'));
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'e2e' } })), 'echo: e2e');

    const alice = await server.portcullis.ctx.storage.users.byUsername(E2E_USER.username);
    const last = upstream.requests.at(-1)!;
    assert.equal(last.headers['authorization'], `Bearer ${GATEWAY_CREDENTIAL}`);
    assert.ok(!JSON.stringify(upstream.requests).includes(provider.tokenSet!.access_token), 'RS-19 the access token never reached the upstream');
    assert.equal(last.headers['x-portcullis-subject'], alice?.id);
    assert.equal(last.headers['x-portcullis-client'], provider.client?.client_id);
  });

  it('RS-12 a tool mapped to a further scope is refused with 403; the client steps up and the call goes through', async () => {
    const before = provider.authorizationUrls.length;
    await assert.rejects(client!.callTool({ name: 'slow', arguments: { delayMs: 1 } }), (e: unknown) => e instanceof UnauthorizedError);
    assert.equal(provider.authorizationUrls.length, before + 1, 'the SDK started a step-up authorization');
    const scopes = provider.authorizationUrls.at(-1)!.searchParams.get('scope')?.split(' ') ?? [];
    assert.ok(scopes.includes('mcp') && scopes.includes('tools:slow'), scopes.join(' '));
    await newTransport().finishAuth(await completeAuthorization());
    assert.equal(textOf(await client!.callTool({ name: 'slow', arguments: { delayMs: 1 } })), 'done after 1 ms');
  });

  it('keeps working after the access token expires, by refreshing (no new login)', async () => {
    const urls = provider.authorizationUrls.length;
    const access = provider.tokenSet?.access_token;
    server.clock.advance((ACCESS_TOKEN_TTL + 1) * 1000);
    assert.equal(textOf(await client!.callTool({ name: 'echo', arguments: { text: 'after refresh' } })), 'echo: after refresh');
    assert.notEqual(provider.tokenSet?.access_token, access);
    assert.equal(provider.authorizationUrls.length, urls);
  });
});
