import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { loginDirectly, startOidcProvider, type OidcProviderFixture } from '../fixtures/oidc-provider.ts';

/** The OpenID Connect provider fixture, as other suites (resource-server mode) will use it. */
describe('test fixture: oidc-provider', () => {
  const RESOURCE = 'http://localhost:3000/mcp';
  let idp: OidcProviderFixture;
  before(async () => {
    idp = await startOidcProvider({
      accounts: [{ sub: 'alice', email: 'alice@example.com', email_verified: true }],
      clients: [{ client_id: 'app', client_secret: 'app-secret-0123456789abcdef', redirect_uris: ['http://127.0.0.1:9/cb'], grant_types: ['authorization_code'], response_types: ['code'] }],
      scopes: ['tasks:read'],
      resourceServers: { [RESOURCE]: { scope: 'tasks:read', audience: RESOURCE, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } } },
    });
  });
  after(() => idp.close());

  it('RFC 8707 RFC 9068 a resource indicator gets a JWT access token for that audience, verifiable with the JWKS', async () => {
    const tokens = await loginDirectly(idp, { clientId: 'app', clientSecret: 'app-secret-0123456789abcdef', redirectUri: 'http://127.0.0.1:9/cb', login: 'alice', scope: 'openid tasks:read', resource: RESOURCE });
    const accessToken = String(tokens.access_token);
    assert.equal(decodeProtectedHeader(accessToken).typ, 'at+jwt');
    const { payload } = await jwtVerify(accessToken, createRemoteJWKSet(new URL(`${idp.issuer}/jwks`)), { issuer: idp.issuer, audience: RESOURCE, typ: 'at+jwt' });
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.scope, 'tasks:read');
    assert.equal(payload.client_id, 'app');
  });

  it('RFC 7636 PKCE is required by default', async () => {
    const url = new URL(`${idp.issuer}/auth`);
    for (const [k, v] of Object.entries({ client_id: 'app', redirect_uri: 'http://127.0.0.1:9/cb', response_type: 'code', scope: 'openid', state: 's' })) url.searchParams.set(k, v);
    const response = await fetch(url, { redirect: 'manual' });
    const back = new URL(response.headers.get('Location')!);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    assert.match(back.searchParams.get('error_description') ?? '', /PKCE/);
  });
});
