import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { E2E_USER, InMemoryOAuthProvider, startRealServer, type RealServer } from '../helpers/e2e.ts';
import { authorizeWithForms, cookieJar } from '../helpers/oauth-flow.ts';

/**
 * MCP AS-35 (2025-03-26 authorization): a client of that revision knows no protected resource
 * metadata. It looks for authorization server metadata at the MCP server's origin root, and without
 * it uses `/authorize`, `/token` and `/register` there. Our issuer is the MCP origin, so both work.
 *
 * The client is the v1 SDK (`@modelcontextprotocol/sdk`), made a 2025-03-26 client by its fetch: it
 * speaks protocol 2025-03-26 (in `initialize` and the `MCP-Protocol-Version` header) and every
 * protected-resource-metadata URL answers 404, as for a client that never heard of PRM, so the SDK
 * takes its 2025-03-26 fallbacks. With `hideRootMetadata` the root metadata answers 404 too.
 */
const LEGACY = '2025-03-26';
const PRM = /^\/\.well-known\/oauth-protected-resource/;
const ROOT_METADATA = /^\/\.well-known\/(oauth-authorization-server|openid-configuration)/;

function legacyClientFetch(exchanges: string[], options: { hideRootMetadata: boolean }): typeof fetch {
  return async (input, init) => {
    const original = new Request(input, init);
    const path = new URL(original.url).pathname;
    const label = (status: number) => `${original.method} ${path} ${status}`;
    if (PRM.test(path) || (options.hideRootMetadata && ROOT_METADATA.test(path))) {
      exchanges.push(label(404) + ' (hidden)');
      return new Response('Not Found', { status: 404 });
    }
    const headers = new Headers(original.headers);
    if (headers.has('mcp-protocol-version')) headers.set('mcp-protocol-version', LEGACY);
    let body: string | undefined;
    if (original.method === 'POST') {
      body = await original.text();
      if (path === '/mcp' && body.includes('"initialize"')) {
        const message = JSON.parse(body) as { params?: { protocolVersion?: string } };
        if (message.params) message.params.protocolVersion = LEGACY;
        body = JSON.stringify(message);
      }
    }
    const response = await fetch(original.url, { method: original.method, headers, body });
    exchanges.push(label(response.status));
    return response;
  };
}

for (const hideRootMetadata of [false, true]) {
  describe(`AS-35: a 2025-03-26 client without PRM ${hideRootMetadata ? 'and without root metadata uses the default /authorize, /token, /register' : 'finds the authorization server metadata at the MCP origin root'}`, () => {
    let real: RealServer;
    const provider = new InMemoryOAuthProvider();
    const exchanges: string[] = [];
    let client: Client | undefined;
    const clientFetch = legacyClientFetch(exchanges, { hideRootMetadata });
    const transport = () => new StreamableHTTPClientTransport(new URL(`${real.origin}/mcp`), { authProvider: provider, fetch: clientFetch });

    before(async () => {
      real = await startRealServer();
    });
    after(async () => {
      await client?.close().catch(() => {});
      await real.close();
    });

    it('completes the whole OAuth flow and calls a tool in a 2025-03-26 session', async () => {
      client = new Client({ name: 'legacy-0326', version: '1.0.0' });
      await assert.rejects(client.connect(transport()), (e: unknown) => e instanceof UnauthorizedError);
      const log = () => exchanges.join('\n');
      assert.ok(exchanges.some((e) => PRM.test(e.split(' ')[1]!) && e.endsWith('(hidden)')), log());
      if (hideRootMetadata) {
        assert.ok(exchanges.includes('GET /.well-known/oauth-authorization-server 404 (hidden)'), log());
      } else {
        assert.ok(exchanges.includes('GET /.well-known/oauth-authorization-server 200'), `root metadata found:\n${log()}`);
      }
      assert.ok(exchanges.includes('POST /register 201'), log());

      const authorizationUrl = provider.authorizationUrls.at(-1)!;
      assert.equal(authorizationUrl.origin + authorizationUrl.pathname, `${real.origin}/authorize`);
      // AS-35: PKCE is required in 2025-03-26 too.
      assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');

      const callback = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl, ...E2E_USER, jar: cookieJar() });
      assert.equal(callback.searchParams.get('error'), null, callback.searchParams.get('error_description') ?? '');
      await transport().finishAuth(callback.searchParams.get('code')!);
      assert.ok(exchanges.includes('POST /token 200'), log());
      assert.ok(provider.tokenSet?.access_token);

      client = new Client({ name: 'legacy-0326', version: '1.0.0' });
      const session = transport();
      await client.connect(session);
      assert.equal(session.protocolVersion, LEGACY, 'the session speaks 2025-03-26');
      const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as { username: string };
      assert.equal(me.username, E2E_USER.username);
    });
  });
}

describe('AS-35: the root metadata names the default endpoint paths on the MCP origin', () => {
  let real: RealServer;
  before(async () => {
    real = await startRealServer();
  });
  after(() => real.close());

  it('issuer is the MCP origin and the endpoints are /authorize, /token and /register there', async () => {
    const response = await fetch(`${real.origin}/.well-known/oauth-authorization-server`, { headers: { 'MCP-Protocol-Version': LEGACY } });
    assert.equal(response.status, 200);
    const metadata = (await response.json()) as Record<string, string>;
    assert.equal(metadata.issuer, real.origin);
    assert.equal(metadata.authorization_endpoint, `${real.origin}/authorize`);
    assert.equal(metadata.token_endpoint, `${real.origin}/token`);
    assert.equal(metadata.registration_endpoint, `${real.origin}/register`);
  });
});
