import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import type { ManualClock } from '../../src/util/clock.ts';
import { E2E_USER, InMemoryOAuthProvider, startRealServer, type RealServer } from '../helpers/e2e.ts';
import { authorizeWithForms, cookieJar, type CookieJar } from '../helpers/oauth-flow.ts';

/**
 * End to end over real sockets: the real app on 127.0.0.1 (random port), the official MCP SDK v2
 * client with an OAuthClientProvider, and the real login and consent pages submitted as a person
 * would. Only time is controlled: the server runs on a ManualClock so the access token can expire.
 */

const { username: USERNAME, password: PASSWORD } = E2E_USER;
const ACCESS_TOKEN_TTL = 60;

interface Exchange {
  method: string;
  path: string;
  status: number;
}

for (const era of ['legacy', 'modern'] as const) {
  describe(`E2E (${era === 'legacy' ? '2025-era session' : '2026-07-28'}): the official MCP SDK client discovers, registers, logs in, calls tools, steps up and refreshes`, () => {
    let real: RealServer;
    let origin: string;
    let clock: ManualClock;
    const provider = new InMemoryOAuthProvider();
    const exchanges: Exchange[] = [];
    let jar: CookieJar;
    let client: Client;
    let transport: StreamableHTTPClientTransport;

    /** The client's fetch: real sockets, with every exchange recorded for assertions. */
    const recordingFetch: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      const response = await fetch(request);
      exchanges.push({ method: request.method, path: new URL(request.url).pathname, status: response.status });
      return response;
    };

    const newClient = () => {
      transport = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: provider, fetch: recordingFetch });
      client = new Client({ name: 'portcullis-e2e', version: '1.0.0' }, era === 'modern' ? { versionNegotiation: { mode: 'auto' } } : {});
    };

    /** Logs in and consents through the real pages; returns the callback parameters after checking state and iss. */
    const completeAuthorization = async (): Promise<URLSearchParams> => {
      const authorizationUrl = provider.authorizationUrls.at(-1);
      assert.ok(authorizationUrl, 'the SDK asked to open an authorization URL');
      const callback = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl, username: USERNAME, password: PASSWORD, jar });
      assert.equal(`${callback.origin}${callback.pathname}`, provider.redirectUrl);
      assert.equal(callback.searchParams.get('error'), null, `authorization failed: ${callback.searchParams.get('error_description')}`);
      assert.equal(callback.searchParams.get('state'), provider.expectedState);
      assert.equal(callback.searchParams.get('iss'), origin, 'RFC 9207 iss names our issuer');
      return callback.searchParams;
    };

    before(async () => {
      // The least-privilege setting, so that the first grant is read-only and the client must step up (RS-12).
      real = await startRealServer({ accessTokenTtl: ACCESS_TOKEN_TTL, defaultScopes: ['tasks:read'] });
      ({ origin, clock } = real);
      jar = cookieJar();
    });

    after(async () => {
      await client?.close().catch(() => {});
      await real.close();
    });

    it('RS-03b/RS-26: a first connect is answered 401, then PRM discovery, AS metadata and dynamic registration lead to an authorization URL', async () => {
      newClient();
      await assert.rejects(client.connect(transport), (e: unknown) => e instanceof UnauthorizedError);
      const seen = exchanges.map((e) => `${e.method} ${e.path} ${e.status}`);
      assert.equal(seen[0], 'POST /mcp 401');
      assert.ok(seen.includes('GET /.well-known/oauth-protected-resource/mcp 200'), seen.join('\n'));
      assert.ok(seen.some((s) => /^GET \/\.well-known\/(oauth-authorization-server|openid-configuration)\S* 200$/.test(s)), seen.join('\n'));
      assert.ok(seen.includes('POST /register 201'), seen.join('\n'));
      assert.equal(provider.registrations, 1);

      const url = provider.authorizationUrls.at(-1)!;
      assert.equal(`${url.origin}${url.pathname}`, `${origin}/authorize`);
      assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(url.searchParams.get('resource'), `${origin}/mcp`, 'RFC 8707 resource = the exact MCP URL');
      assert.ok(url.searchParams.get('scope')?.split(' ').includes('tasks:read'), 'asks for the scope named in the challenge');
    });

    it('AS: logs in and consents through the real HTML forms, then exchanges the code for tokens', async () => {
      await transport.finishAuth(await completeAuthorization());
      assert.ok(provider.tokenSet?.access_token);
      assert.ok(provider.tokenSet?.refresh_token, 'a refresh token, since the client registered the refresh_token grant');
      assert.equal(provider.tokenSet?.token_type.toLowerCase(), 'bearer');
    });

    it('lists and calls tools with the token', async () => {
      newClient();
      await client.connect(transport);
      assert.equal(transport.sessionId !== undefined, era === 'legacy', 'the protocol era under test is the one in use');
      const names = (await client.listTools()).tools.map((t) => t.name);
      // create_task needs tasks:write, which this token lacks: listed only once the client may call it (toolPolicy.filterLists).
      assert.ok(names.includes('whoami') && names.includes('list_tasks') && !names.includes('create_task'), names.join(' '));
      const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as Record<string, unknown>;
      assert.equal(me['username'], USERNAME);
      assert.equal(me['clientId'], provider.client?.client_id);
      assert.ok((me['scopes'] as string[]).includes('tasks:read'));
      assert.ok(!(me['scopes'] as string[]).includes('tasks:write'));
      assert.deepEqual((await client.callTool({ name: 'list_tasks', arguments: {} })).structuredContent, { tasks: [] });
    });

    it('RS-12: a tasks:write tool is refused with 403 insufficient_scope; the client steps up with the union of scopes and the call succeeds', async () => {
      const urlsBefore = provider.authorizationUrls.length;
      await assert.rejects(client.callTool({ name: 'create_task', arguments: { title: 'Buy milk' } }), (e: unknown) => e instanceof UnauthorizedError);
      assert.ok(exchanges.some((e) => e.method === 'POST' && e.path === '/mcp' && e.status === 403), 'the server answered 403');
      assert.equal(provider.authorizationUrls.length, urlsBefore + 1, 'the SDK started a step-up authorization');
      const scopes = provider.authorizationUrls.at(-1)!.searchParams.get('scope')?.split(' ') ?? [];
      assert.ok(scopes.includes('tasks:read') && scopes.includes('tasks:write'), `union of scopes requested: ${scopes.join(' ')}`);

      await transport.finishAuth(await completeAuthorization());
      const created = await client.callTool({ name: 'create_task', arguments: { title: 'Buy milk' } });
      assert.equal(created.isError, undefined);
      assert.equal(((created.structuredContent as { task: { title: string } }).task).title, 'Buy milk');
      const tasks = (await client.callTool({ name: 'list_tasks', arguments: {} })).structuredContent as { tasks: unknown[] };
      assert.equal(tasks.tasks.length, 1);
    });

    it('keeps working after the access token expires, by refreshing (no new login)', async () => {
      const before = { saved: provider.tokensSaved, urls: provider.authorizationUrls.length, access: provider.tokenSet?.access_token };
      clock.advance((ACCESS_TOKEN_TTL + 1) * 1000);
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      assert.equal((result.structuredContent as { username: string }).username, USERNAME);
      assert.ok(exchanges.some((e) => e.method === 'POST' && e.path === '/token' && e.status === 200));
      assert.equal(provider.tokensSaved, before.saved + 1, 'new tokens were saved');
      assert.notEqual(provider.tokenSet?.access_token, before.access);
      assert.equal(provider.authorizationUrls.length, before.urls, 'no new authorization was needed');
    });
  });
}
