import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CLIENT_AUTH_BACKOFF } from '../../src/authorization/clients/authenticate.ts';
import { decodeJwt, SignJWT } from 'jose';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import {
  ASSERTION_TYPE,
  basic,
  clientAssertion,
  keyPair,
  postForm,
  startJwksServer,
  storeClient,
  unsignedJwt,
  type JwksServer,
  type KeyPair,
  type StoredClient,
} from './helpers.ts';

/**
 * private_key_jwt client authentication (RFC 7523 §2.2 and §3; MCP SEC-29, CC-03, CC-04, CC-06) at the
 * token, revocation and introspection endpoints, with real keys: every acceptance and every
 * rejection the RFC and the requirement list name.
 */
describe('private_key_jwt client authentication', () => {
  let t: TestApp;
  let key: KeyPair;
  let other: KeyPair;
  let jwtClient: StoredClient;

  before(async () => {
    t = await createTestApp();
    key = await keyPair('ES256');
    other = await keyPair('ES256');
    jwtClient = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
  });
  after(() => t.close());
  // Each test starts with a clean failure count: the rejections below must be verdicts on the
  // assertion, not the back-off that earlier ones would otherwise have started (HARD-1).
  beforeEach(() => t.clock.advance(CLIENT_AUTH_BACKOFF.windowMs + 1));

  const token = (assertion: string, extra: Record<string, string | undefined> = {}, headers: Record<string, string> = {}) =>
    postForm(t, '/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, ...extra }, headers);

  async function expectRejected(res: Response, status = 401, error = 'invalid_client'): Promise<void> {
    const body = (await res.json()) as { error?: string; error_description?: string };
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.error, error);
    if (error === 'invalid_client') assert.equal(body.error_description, 'Client authentication failed.', 'refused by the assertion checks, not by the back-off');
  }

  it('SEC-29/CC-03 a valid assertion authenticates; client_id may be left out (taken from sub)', async () => {
    const res = await token(await clientAssertion(t, jwtClient.client.clientId, { key }));
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { access_token: string };
    assert.equal(decodeJwt(body.access_token).client_id, jwtClient.client.clientId);
  });

  it('SEC-29 client_id, when sent, must be the assertion subject', async () => {
    const same = await token(await clientAssertion(t, jwtClient.client.clientId, { key }), { client_id: jwtClient.client.clientId });
    assert.equal(same.status, 200);
    const another = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [other.publicJwk] } });
    await expectRejected(await token(await clientAssertion(t, jwtClient.client.clientId, { key }), { client_id: another.client.clientId }));
  });

  it('CC-06 aud: the issuer, the issuer with a trailing slash and the token endpoint URL are accepted', async () => {
    for (const aud of [t.ctx.config.issuer, `${t.ctx.config.issuer}/`, `${t.ctx.config.issuer}/token`]) {
      const res = await token(await clientAssertion(t, jwtClient.client.clientId, { key, claims: { aud } }));
      assert.equal(res.status, 200, aud);
    }
  });

  it('CC-06 wrong aud is rejected (another server, the resource, the revocation endpoint)', async () => {
    for (const aud of ['https://other-as.example', t.ctx.config.resource, `${t.ctx.config.issuer}/revoke`]) {
      await expectRejected(await token(await clientAssertion(t, jwtClient.client.clientId, { key, claims: { aud } })));
    }
  });

  it('CC-06 an expired assertion is rejected (beyond the 30 s tolerance); one just inside the tolerance passes', async () => {
    const now = Math.floor(t.clock.now() / 1000);
    await expectRejected(await token(await clientAssertion(t, jwtClient.client.clientId, { key, claims: { iat: now - 300, exp: now - 31 } })));
    const res = await token(await clientAssertion(t, jwtClient.client.clientId, { key, claims: { iat: now - 300, exp: now - 20 } }));
    assert.equal(res.status, 200);
  });

  it('CC-06 rec: exp too far ahead (lifetime cap) and a missing exp are rejected', async () => {
    const now = Math.floor(t.clock.now() / 1000);
    await expectRejected(await token(await clientAssertion(t, jwtClient.client.clientId, { key, claims: { exp: now + 3600 } })));
    await expectRejected(await token(await clientAssertion(t, jwtClient.client.clientId, { key, claims: { exp: undefined } })));
    await expectRejected(await token(await clientAssertion(t, jwtClient.client.clientId, { key, claims: { iat: now + 120, exp: now + 240 } })), 401);
  });

  it('RFC 7523 §3 item 7: a missing jti is rejected; a replayed jti is rejected', async () => {
    await expectRejected(await token(await clientAssertion(t, jwtClient.client.clientId, { key, claims: { jti: undefined } })));
    const once = await clientAssertion(t, jwtClient.client.clientId, { key, claims: { jti: 'only-once' } });
    assert.equal((await token(once)).status, 200);
    await expectRejected(await token(once));
    // A fresh assertion reusing the jti is a replay too.
    await expectRejected(await token(await clientAssertion(t, jwtClient.client.clientId, { key, claims: { jti: 'only-once' } })));
  });

  it('RFC 7523 §3: iss and sub must both be the client_id', async () => {
    const id = jwtClient.client.clientId;
    await expectRejected(await token(await clientAssertion(t, id, { key, claims: { iss: 'someone-else' } })));
    await expectRejected(await token(await clientAssertion(t, id, { key, claims: { iss: undefined } })));
    // A sub naming another client: that client's keys do not verify it.
    const victim = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [other.publicJwk] } });
    await expectRejected(await token(await clientAssertion(t, victim.client.clientId, { key, claims: { iss: id } })));
  });

  it('SEC-29 signatures: a key the client did not register, HS256 and alg none are rejected', async () => {
    const id = jwtClient.client.clientId;
    await expectRejected(await token(await clientAssertion(t, id, { key: other, header: { kid: key.kid } })));
    const now = Math.floor(t.clock.now() / 1000);
    const claims = { iss: id, sub: id, aud: t.ctx.config.issuer, iat: now, exp: now + 60, jti: 'hs' };
    // HS256 keyed with the public key's coordinates: the classic algorithm-confusion attempt.
    const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: key.kid }).sign(new TextEncoder().encode(String(key.publicJwk.x)));
    await expectRejected(await token(hs256));
    await expectRejected(await token(unsignedJwt({ ...claims, jti: 'none' })));
  });

  it('SEC-29 the client must be registered for private_key_jwt; a secret client cannot switch to an assertion', async () => {
    const secretClient = await storeClient(t, { tokenEndpointAuthMethod: 'client_secret_basic', jwks: { keys: [key.publicJwk] } });
    await expectRejected(await token(await clientAssertion(t, secretClient.client.clientId, { key })));
    await expectRejected(await token(await clientAssertion(t, 'cl_unknown', { key })));
  });

  it('SEC-28 two authentication methods at once are refused: Basic + assertion, client_secret + assertion', async () => {
    const secretClient = await storeClient(t);
    const assertion = await clientAssertion(t, jwtClient.client.clientId, { key });
    await expectRejected(await token(assertion, {}, basic(secretClient.client.clientId, secretClient.secret!)), 400, 'invalid_request');
    await expectRejected(await token(assertion, { client_id: jwtClient.client.clientId, client_secret: 'x' }), 400, 'invalid_request');
  });

  it('RFC 7523 §2.2: a wrong client_assertion_type, a missing assertion, or one that is no JWT is refused', async () => {
    const assertion = await clientAssertion(t, jwtClient.client.clientId, { key });
    await expectRejected(await postForm(t, '/token', { grant_type: 'client_credentials', client_assertion_type: 'urn:example:saml', client_assertion: assertion }));
    await expectRejected(await postForm(t, '/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE }), 400, 'invalid_request');
    await expectRejected(await token('not-a-jwt'));
  });

  it('SEC-52/SEC-53 private_key_jwt authenticates at /introspect and /revoke', async () => {
    const issued = (await (await token(await clientAssertion(t, jwtClient.client.clientId, { key }))).json()) as { access_token: string };
    const introspect = async () =>
      (await (
        await postForm(t, '/introspect', { token: issued.access_token, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(t, jwtClient.client.clientId, { key }) })
      ).json()) as { active: boolean; sub?: string };
    const live = await introspect();
    assert.equal(live.active, true);
    assert.equal(live.sub, `client:${jwtClient.client.clientId}`);
    const revoke = await postForm(t, '/revoke', { token: issued.access_token, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(t, jwtClient.client.clientId, { key }) });
    assert.equal(revoke.status, 200);
    assert.equal((await introspect()).active, false);
  });

  it('CC-04 metadata advertises private_key_jwt with asymmetric signing algorithms at all three endpoints', async () => {
    const doc = (await (await t.request('/.well-known/oauth-authorization-server')).json()) as Record<string, string[]>;
    for (const field of ['token_endpoint_auth_methods_supported', 'revocation_endpoint_auth_methods_supported', 'introspection_endpoint_auth_methods_supported']) {
      assert.ok(doc[field]!.includes('private_key_jwt'), field);
    }
    for (const field of ['token_endpoint_auth_signing_alg_values_supported', 'revocation_endpoint_auth_signing_alg_values_supported', 'introspection_endpoint_auth_signing_alg_values_supported']) {
      const algs = doc[field]!;
      for (const alg of ['ES256', 'RS256', 'PS256', 'EdDSA']) assert.ok(algs.includes(alg), `${field} ${alg}`);
      assert.ok(!algs.some((a) => a.startsWith('HS') || a === 'none'), field);
    }
  });

  it('RS256 and EdDSA client keys work too', async () => {
    for (const alg of ['RS256', 'EdDSA']) {
      const k = await keyPair(alg);
      const c = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [k.publicJwk] } });
      assert.equal((await token(await clientAssertion(t, c.client.clientId, { key: k }))).status, 200, alg);
    }
  });

  it('EMA-09/SEC no assertion ever reaches the log', async () => {
    const assertion = await clientAssertion(t, jwtClient.client.clientId, { key });
    await token(assertion);
    await token(assertion);
    const logged = t.logger.lines.join("\n");
    assert.ok(!logged.includes(assertion.split('.')[2]!), 'the signature of an assertion was logged');
  });
});

describe('private_key_jwt with keys at a jwks_uri', () => {
  let t: TestApp;
  let jwks: JwksServer;
  let a: KeyPair;
  let b: KeyPair;
  let c: StoredClient;

  before(async () => {
    a = await keyPair('ES256', 'key-a');
    b = await keyPair('ES256', 'key-b');
    jwks = await startJwksServer([a.publicJwk]);
    t = await createTestApp({ dangerouslyAllowPrivateNetworkFetches: true }, { fetch: globalThis.fetch });
    c = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: jwks.url });
  });
  after(async () => {
    await t.close();
    await jwks.close();
  });

  const token = async (k: KeyPair) =>
    postForm(t, '/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(t, c.client.clientId, { key: k }) });

  it('SEC-29 keys are fetched once and cached; an unknown kid refetches, but at most once per cooldown', async () => {
    assert.equal((await token(a)).status, 200);
    assert.equal((await token(a)).status, 200);
    assert.equal(jwks.fetches, 1, 'cached');

    // The client rotates in key b. Within the cooldown an unknown kid does not trigger a fetch.
    jwks.keys = [a.publicJwk, b.publicJwk];
    assert.equal((await token(b)).status, 401);
    assert.equal(jwks.fetches, 1, 'no fetch inside the cooldown');

    t.clock.advance(31_000);
    assert.equal((await token(b)).status, 200, 'unknown kid after the cooldown: refetched and accepted');
    assert.equal(jwks.fetches, 2);

    // A made-up kid right after a fetch costs no request.
    const made = await keyPair('ES256', 'made-up');
    assert.equal((await token(made)).status, 401);
    assert.equal(jwks.fetches, 2);
  });

  it('SEC-29 an unreachable jwks_uri fails authentication with 401, not a 500', async () => {
    const gone = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'http://127.0.0.1:1/jwks.json' });
    const res = await postForm(t, '/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(t, gone.client.clientId, { key: a }) });
    assert.equal(res.status, 401);
  });
});

describe('SEC-29 the SSRF guard applies to jwks_uri', () => {
  it('AS-14: a jwks_uri that redirects is not followed, so an open redirect on the client\'s host cannot supply its keys', async () => {
    const attacker = await keyPair('ES256');
    const fetched: string[] = [];
    // Public IP literals need no DNS; the injected fetch plays the internet.
    const fakeInternet = (async (input: string | URL | Request) => {
      const url = String(input instanceof Request ? input.url : input);
      fetched.push(url);
      if (url === 'https://93.184.216.34/redirect?to=keys') return new Response(null, { status: 302, headers: { location: 'https://93.184.216.35/keys.json' } });
      return new Response(JSON.stringify({ keys: [attacker.publicJwk] }), { headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const t = await createTestApp({}, { fetch: fakeInternet });
    try {
      const c = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'https://93.184.216.34/redirect?to=keys' });
      const res = await postForm(t, '/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(t, c.client.clientId, { key: attacker }) });
      assert.equal(res.status, 401);
      assert.deepEqual(fetched, ['https://93.184.216.34/redirect?to=keys']);
    } finally {
      await t.close();
    }
  });

  it('a loopback jwks_uri is not fetched without the test-only setting', async () => {
    const k = await keyPair('ES256');
    const server = await startJwksServer([k.publicJwk]);
    const t = await createTestApp({}, { fetch: globalThis.fetch });
    try {
      const c = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: server.url });
      const res = await postForm(t, '/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(t, c.client.clientId, { key: k }) });
      assert.equal(res.status, 401);
      assert.equal(server.fetches, 0);
    } finally {
      await t.close();
      await server.close();
    }
  });
});

describe('dynamic registration of private_key_jwt clients', () => {
  let t: TestApp;
  let k: KeyPair;
  before(async () => {
    t = await createTestApp();
    k = await keyPair('ES256');
  });
  after(() => t.close());

  const register = (body: Record<string, unknown>) =>
    t.request('/register', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'JWT app', redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'private_key_jwt', ...body }),
    });

  it('RFC 7591 §2 jwks or jwks_uri is stored and echoed; no client_secret is issued', async () => {
    const res = await register({ jwks: { keys: [k.publicJwk] } });
    assert.equal(res.status, 201);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.client_secret, undefined);
    assert.deepEqual(body.jwks, { keys: [k.publicJwk] });
    const stored = await t.storage.clients.get(body.client_id as string);
    assert.deepEqual(stored?.jwks, { keys: [k.publicJwk] });
    const byUrl = (await (await register({ jwks_uri: 'https://app.example/jwks.json' })).json()) as Record<string, unknown>;
    assert.equal(byUrl.jwks_uri, 'https://app.example/jwks.json');
  });

  it('RFC 7591 §2: no keys, both jwks and jwks_uri, private or symmetric keys, or a non-https jwks_uri are refused', async () => {
    for (const body of [
      {},
      { jwks: { keys: [k.publicJwk] }, jwks_uri: 'https://app.example/jwks.json' },
      { jwks: { keys: [k.privateJwk] } },
      { jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } },
      { jwks: { keys: [] } },
      { jwks_uri: 'http://app.example/jwks.json' },
    ]) {
      const res = await register(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_client_metadata');
    }
  });
});
