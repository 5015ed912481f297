import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { signInAtProvider, startOidcProvider, type OidcProviderFixture } from '../fixtures/oidc-provider.ts';
import { InMemoryOAuthProvider } from '../helpers/e2e.ts';
import { authorizeWithForms, browserFetch, cookieJar } from '../helpers/oauth-flow.ts';
import { freePort, startWorker, type WorkerServer } from './harness.ts';

/**
 * The Worker signing users in at an OpenID Connect provider (seed 2's `IDENTITY_PROVIDER=oauth`
 * names): panva's oidc-provider on 127.0.0.1, reached by the Worker's discovery, token and JWKS
 * fetches through its outbound fetch, and by the browser directly.
 */
describe('Workers: sign-in at an OpenID Connect provider', () => {
  let worker: WorkerServer;
  let idp: OidcProviderFixture;

  before(async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    idp = await startOidcProvider({
      accounts: [{ sub: 'dana-0001', email: 'dana@example.com', email_verified: true, name: 'Dana' }],
      clients: [{ client_id: 'portcullis-worker', client_secret: 'worker-rp-secret-5c1e9a7b3d2f4e6a8c0b1d3f5a7c9e1b', redirect_uris: [`${origin}/callback`], grant_types: ['authorization_code'], response_types: ['code'] }],
    });
    worker = await startWorker({
      port,
      vars: { IDENTITY_PROVIDER: 'oauth', OAUTH_ISSUER: idp.issuer, OAUTH_CLIENT_ID: 'portcullis-worker', OAUTH_CLIENT_SECRET: 'worker-rp-secret-5c1e9a7b3d2f4e6a8c0b1d3f5a7c9e1b' },
      outbound: (request) => (new URL(request.url).origin === idp.issuer ? fetch(request) : undefined),
    });
  });
  after(async () => {
    await worker.close();
    await idp.close();
  });

  it('UP-03 consent → provider login → /callback → code and token → MCP, with the provider reached from the Worker', async () => {
    const provider = new InMemoryOAuthProvider();
    const transport = () => new StreamableHTTPClientTransport(new URL(`${worker.origin}/mcp`), { authProvider: provider });
    await assert.rejects(new Client({ name: 'oidc-workers', version: '1.0.0' }).connect(transport()), (e: unknown) => e instanceof UnauthorizedError);
    const jar = cookieJar();
    const toProvider = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl: provider.authorizationUrls.at(-1)!, username: '', password: '', jar });
    assert.equal(toProvider.origin, idp.issuer);
    const callback = await signInAtProvider(browserFetch((u, i) => fetch(u, i), cookieJar()), toProvider, { login: 'dana-0001' });
    assert.equal(callback.origin + callback.pathname, `${worker.origin}/callback`);
    const answer = await browserFetch((u, i) => fetch(u, i), jar)(callback);
    assert.equal(answer.status, 303, `the callback redirects to the client (got ${answer.status})`);
    const back = new URL(answer.headers.get('Location')!);
    assert.equal(back.searchParams.get('error'), null, back.searchParams.get('error_description') ?? '');
    await transport().finishAuth(back.searchParams);
    const client = new Client({ name: 'oidc-workers', version: '1.0.0' });
    await client.connect(transport());
    const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as { username: string };
    assert.match(me.username, /dana/);
    await client.close();
    assert.ok(worker.outboundRequests.some((r) => r.startsWith(`POST ${idp.issuer}`)), 'the Worker redeemed the provider’s code itself');
  });
});
