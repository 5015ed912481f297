import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, SignJWT } from 'jose';
import { resolveConfig } from '../../src/config/resolve.ts';
import { loadConfigInput } from '../../src/config/env.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { connectClient } from '../mcp/wire.ts';
import { basic, JWT_BEARER, keyPair, postForm, signJwt, storeClient, unsignedJwt, type KeyPair, type StoredClient } from '../client-auth/helpers.ts';

const IDP = 'https://idp.example.com';
const ID_JAG_TYP = 'oauth-id-jag+jwt';

/**
 * Enterprise-managed authorization (MCP EMA-01..EMA-11): an in-test enterprise IdP signs ID-JAGs with
 * a real key; the token endpoint exchanges them (RFC 7523 §2.1 JWT bearer grant) for access tokens
 * bound to the ID-JAG's resource with the intersection of scopes, and refuses every malformed one.
 */
describe('ID-JAG (jwt-bearer grant)', () => {
  let t: TestApp;
  let idp: KeyPair;
  let client: StoredClient;

  before(async () => {
    idp = await keyPair('ES256', 'idp-1');
    t = await createTestApp({ trustedIdentityProviders: [{ issuer: IDP, jwks: { keys: [idp.publicJwk] } }], resources: ['https://api.example/v1'] });
    client = await storeClient(t, { grantTypes: [JWT_BEARER] });
  });
  after(() => t.close());

  /** An ID-JAG as the IdP would issue it for `client`, with overrides. */
  function idJag(claims: Record<string, unknown> = {}, options: { key?: KeyPair; header?: Record<string, unknown> } = {}): Promise<string> {
    return signJwt(
      { iss: IDP, sub: 'employee-42', aud: t.ctx.config.issuer, client_id: client.client.clientId, resource: t.ctx.config.resource, scope: 'tasks:read tasks:write' },
      { key: options.key ?? idp, claims, header: { typ: ID_JAG_TYP, ...options.header }, now: t.clock.now() },
    );
  }

  const exchange = (assertion: string, params: Record<string, string | undefined> = {}, c = client) =>
    postForm(t, '/token', { grant_type: JWT_BEARER, assertion, ...params }, basic(c.client.clientId, c.secret!));

  async function expectError(res: Response, error: string, status = 400): Promise<void> {
    const body = (await res.json()) as { error?: string };
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.error, error);
  }

  it('EMA-01 metadata lists the jwt-bearer grant and the ID-JAG grant profile', async () => {
    const doc = (await (await t.request('/.well-known/oauth-authorization-server')).json()) as Record<string, string[]>;
    assert.ok(doc.grant_types_supported!.includes(JWT_BEARER));
    assert.deepEqual(doc.authorization_grant_profiles_supported, ['urn:ietf:params:oauth:grant-profile:id-jag']);
  });

  it('EMA-07/EMA-08 exchange: a token bound to the resource with requested ∩ ID-JAG scopes, no refresh token, for the linked user (EMA-10 linked by issuer and sub)', async () => {
    const res = await exchange(await idJag(), { scope: 'tasks:read' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('Cache-Control') ?? '', /no-store/);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.scope, 'tasks:read');
    assert.equal(body.refresh_token, undefined);
    const claims = decodeJwt(body.access_token as string);
    assert.equal(claims.aud, t.ctx.config.resource);
    assert.equal(claims.client_id, client.client.clientId);
    assert.equal(claims.scope, 'tasks:read');
    // EMA-10: linked by (issuer, sub); the same employee maps to the same local user next time.
    const [link] = await t.storage.externalIdentities.listForUser(claims.sub!);
    assert.deepEqual([link?.provider, link?.issuer, link?.subject], ['id-jag', IDP, 'employee-42']);
    const again = decodeJwt(((await (await exchange(await idJag())).json()) as { access_token: string }).access_token);
    assert.equal(again.sub, claims.sub);
    assert.equal(again.scope, 'tasks:read tasks:write', 'no scope requested: the ID-JAG scopes');
  });

  it('EMA-07 a resource from the resources setting binds the token to that resource', async () => {
    const body = (await (await exchange(await idJag({ resource: 'https://api.example/v1' }))).json()) as { access_token: string };
    assert.equal(decodeJwt(body.access_token).aud, 'https://api.example/v1');
  });

  it('EMA-08 requested scopes outside the ID-JAG are dropped; an empty intersection is invalid_scope', async () => {
    const narrow = await exchange(await idJag({ scope: 'tasks:read' }), { scope: 'tasks:read tasks:write' });
    assert.equal(((await narrow.json()) as { scope: string }).scope, 'tasks:read');
    await expectError(await exchange(await idJag({ scope: 'tasks:read' }), { scope: 'tasks:write' }), 'invalid_scope');
    await expectError(await exchange(await idJag(), { scope: 'offline_access' }), 'invalid_scope');
  });

  it('EMA-08 an ID-JAG without scope sets no limit of its own: the requested scopes are issued', async () => {
    const res = await exchange(await idJag({ scope: undefined }), { scope: 'tasks:write' });
    assert.equal(((await res.json()) as { scope: string }).scope, 'tasks:write');
  });

  it('EMA-11 aud with a trailing slash is accepted', async () => {
    assert.equal((await exchange(await idJag({ aud: `${t.ctx.config.issuer}/` }))).status, 200);
  });

  it('EMA-03 typ must be oauth-id-jag+jwt: a plain JWT or an access token type is invalid_grant', async () => {
    for (const typ of ['JWT', 'at+jwt', undefined]) {
      await expectError(await exchange(await idJag({}, { header: { typ } })), 'invalid_grant');
    }
  });

  it('EMA-04 signature: an untrusted issuer, an unknown key, HS256 and alg none are invalid_grant', async () => {
    await expectError(await exchange(await idJag({ iss: 'https://evil-idp.example' })), 'invalid_grant');
    const stranger = await keyPair('ES256', 'idp-1');
    await expectError(await exchange(await idJag({}, { key: stranger })), 'invalid_grant');
    const now = Math.floor(t.clock.now() / 1000);
    const claims = { iss: IDP, sub: 'employee-42', aud: t.ctx.config.issuer, client_id: client.client.clientId, resource: t.ctx.config.resource, iat: now, exp: now + 60, jti: 'x' };
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: ID_JAG_TYP, kid: 'idp-1' }).sign(new TextEncoder().encode('guessable-shared-secret-0123456789'));
    await expectError(await exchange(hs), 'invalid_grant');
    await expectError(await exchange(unsignedJwt(claims, { typ: ID_JAG_TYP })), 'invalid_grant');
    await expectError(await exchange('not.a.jwt'), 'invalid_grant');
  });

  it('EMA-05 aud must be our issuer', async () => {
    for (const aud of ['https://other-as.example', t.ctx.config.resource, `${t.ctx.config.issuer}/token`]) {
      await expectError(await exchange(await idJag({ aud })), 'invalid_grant');
    }
  });

  it('EMA-05 resource must be one of ours (invalid_grant); a resource parameter must agree with it (invalid_target)', async () => {
    await expectError(await exchange(await idJag({ resource: 'https://elsewhere.example/mcp' })), 'invalid_grant');
    await expectError(await exchange(await idJag({ resource: undefined })), 'invalid_grant');
    await expectError(await exchange(await idJag(), { resource: 'https://api.example/v1' }), 'invalid_target');
    assert.equal((await exchange(await idJag(), { resource: t.ctx.config.resource })).status, 200);
  });

  it('EMA-02 the ID-JAG client_id must be the authenticated client', async () => {
    const other = await storeClient(t, { grantTypes: [JWT_BEARER] });
    await expectError(await exchange(await idJag(), {}, other), 'invalid_grant');
    await expectError(await exchange(await idJag({ client_id: undefined })), 'invalid_grant');
  });

  it('EMA-02 the client must authenticate and be registered for the grant; a public client may not use it', async () => {
    const withoutGrant = await storeClient(t);
    await expectError(await exchange(await idJag({ client_id: withoutGrant.client.clientId }), {}, withoutGrant), 'unauthorized_client');
    const publicClient = await storeClient(t, { tokenEndpointAuthMethod: 'none', grantTypes: [JWT_BEARER] });
    const res = await postForm(t, '/token', { grant_type: JWT_BEARER, client_id: publicClient.client.clientId, assertion: await idJag({ client_id: publicClient.client.clientId }) });
    await expectError(res, 'unauthorized_client');
    const wrongSecret = await postForm(t, '/token', { grant_type: JWT_BEARER, assertion: await idJag() }, basic(client.client.clientId, 'pcs_wrong'));
    await expectError(wrongSecret, 'invalid_client', 401);
  });

  it('EMA-06 validity window: expired, iat in the future, too long-lived, missing exp or iat are invalid_grant', async () => {
    const now = Math.floor(t.clock.now() / 1000);
    await expectError(await exchange(await idJag({ iat: now - 600, exp: now - 31 })), 'invalid_grant');
    await expectError(await exchange(await idJag({ iat: now + 120, exp: now + 300 })), 'invalid_grant');
    await expectError(await exchange(await idJag({ exp: now + 3600 })), 'invalid_grant');
    await expectError(await exchange(await idJag({ exp: undefined })), 'invalid_grant');
    await expectError(await exchange(await idJag({ iat: undefined })), 'invalid_grant');
    // Within the 30 s skew.
    assert.equal((await exchange(await idJag({ iat: now - 300, exp: now - 20 }))).status, 200);
  });

  it('EMA-06 jti: required, and a replayed ID-JAG is refused', async () => {
    await expectError(await exchange(await idJag({ jti: undefined })), 'invalid_grant');
    const once = await idJag();
    assert.equal((await exchange(once)).status, 200);
    await expectError(await exchange(once), 'invalid_grant');
  });

  it('EMA-04 sub is required', async () => {
    await expectError(await exchange(await idJag({ sub: undefined })), 'invalid_grant');
  });

  it('EMA-04 / EMA-10 sub must be a non-empty string (RFC 7519 §4.1.2): a number, object, array or empty sub is invalid_grant', async () => {
    for (const sub of [42, { id: 'employee-42' }, ['employee-42'], '', true]) {
      await expectError(await exchange(await idJag({ sub })), 'invalid_grant');
    }
  });

  it('EMA-07 the issued token works at the MCP endpoint: whoami names the linked user', async () => {
    const body = (await (await exchange(await idJag({ sub: 'employee-7', email: 'dana@corp.example' }), { scope: 'tasks:read' })).json()) as { access_token: string };
    const { client: mcp } = await connectClient(t, body.access_token, 'modern');
    try {
      const result = (await mcp.callTool({ name: 'whoami', arguments: {} })) as { content: { text: string }[] };
      const who = JSON.parse(result.content[0]!.text) as Record<string, unknown>;
      assert.equal(who.subjectType, 'user');
      assert.equal(who.username, 'dana@corp.example', 'a new user is named after the e-mail claim');
      assert.equal(who.subject, decodeJwt(body.access_token).sub);
    } finally {
      await mcp.close();
    }
  });

  it('EMA-09 no ID-JAG ever reaches the log', async () => {
    const assertion = await idJag();
    await exchange(assertion);
    await exchange(assertion);
    const logged = t.logger.lines.join('\n');
    assert.ok(!logged.includes(assertion.split('.')[2]!), 'an ID-JAG signature was logged');
    assert.ok(!logged.includes(assertion.split('.')[1]!), 'an ID-JAG payload was logged');
  });
});

describe('ID-JAG with the IdP keys at a JWKS URL', () => {
  it('EMA-04 keys are fetched with the app fetch and refetched when a new kid appears (after the cooldown)', async () => {
    const first = await keyPair('ES256', 'rot-1');
    const second = await keyPair('ES256', 'rot-2');
    let served = [first.publicJwk];
    let fetches = 0;
    const fetchJwks: typeof fetch = async (input) => {
      assert.equal(String(input), `${IDP}/jwks`);
      fetches++;
      return new Response(JSON.stringify({ keys: served }), { headers: { 'Content-Type': 'application/json' } });
    };
    const t = await createTestApp({ trustedIdentityProviders: [{ issuer: IDP, jwksUri: `${IDP}/jwks` }] }, { fetch: fetchJwks });
    try {
      const client = await storeClient(t, { grantTypes: [JWT_BEARER] });
      const jag = (key: KeyPair) =>
        signJwt(
          { iss: IDP, sub: 'e-1', aud: t.ctx.config.issuer, client_id: client.client.clientId, resource: t.ctx.config.resource, scope: 'tasks:read' },
          { key, header: { typ: ID_JAG_TYP }, now: t.clock.now() },
        );
      const exchange = async (key: KeyPair) => postForm(t, '/token', { grant_type: JWT_BEARER, assertion: await jag(key) }, basic(client.client.clientId, client.secret!));
      assert.equal((await exchange(first)).status, 200);
      assert.equal(fetches, 1);
      served = [first.publicJwk, second.publicJwk];
      t.clock.advance(31_000);
      assert.equal((await exchange(second)).status, 200, 'rotated key found by refetching');
      assert.equal(fetches, 2);
    } finally {
      await t.close();
    }
  });
});

describe('ID-JAG off by default', () => {
  it('EMA-01 without a trusted IdP the grant is neither advertised nor accepted', async () => {
    const t = await createTestApp();
    try {
      const doc = (await (await t.request('/.well-known/oauth-authorization-server')).json()) as Record<string, unknown>;
      assert.ok(!(doc.grant_types_supported as string[]).includes(JWT_BEARER));
      assert.equal(doc.authorization_grant_profiles_supported, undefined);
      const c = await storeClient(t);
      const res = await postForm(t, '/token', { grant_type: JWT_BEARER, assertion: 'x.y.z' }, basic(c.client.clientId, c.secret!));
      assert.equal(((await res.json()) as { error: string }).error, 'unsupported_grant_type');
    } finally {
      await t.close();
    }
  });
});

describe('trusted identity provider settings', () => {
  it('PORTCULLIS_TRUSTED_IDP_ISSUER and PORTCULLIS_TRUSTED_IDP_JWKS_URL configure one provider', () => {
    const input = loadConfigInput({ PORTCULLIS_TRUSTED_IDP_ISSUER: IDP, PORTCULLIS_TRUSTED_IDP_JWKS_URL: `${IDP}/jwks` }, undefined);
    assert.deepEqual(resolveConfig(input).trustedIdentityProviders, [{ issuer: IDP, jwksUri: `${IDP}/jwks` }]);
  });

  it('a provider needs exactly one of jwksUri and jwks, https URLs, public keys only, and a unique issuer', async () => {
    const k = await keyPair('ES256');
    for (const [providers, message] of [
      [[{ issuer: IDP }], /exactly one of jwksUri and jwks/],
      [[{ issuer: IDP, jwksUri: `${IDP}/jwks`, jwks: { keys: [k.publicJwk] } }], /exactly one/],
      [[{ issuer: 'http://idp.example.com', jwksUri: `${IDP}/jwks` }], /issuer.*https/],
      [[{ issuer: IDP, jwksUri: 'http://idp.example.com/jwks' }], /jwksUri.*https/],
      [[{ issuer: IDP, jwks: { keys: [k.privateJwk] } }], /public keys only/],
      [[{ issuer: IDP, jwksUri: `${IDP}/a` }, { issuer: IDP, jwksUri: `${IDP}/b` }], /listed twice/],
    ] as const) {
      assert.throws(() => resolveConfig({ trustedIdentityProviders: providers as never }), message);
    }
  });
});
