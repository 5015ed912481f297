import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, ClientCredentialsProvider, PrivateKeyJwtProvider, StreamableHTTPClientTransport, type OAuthClientProvider } from '@modelcontextprotocol/client';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createUser } from '../../src/identity/users.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { mcpHeaders } from '../mcp/wire.ts';
import { ASSERTION_TYPE, basic, clientAssertion, keyPair, postForm, storeClient, type KeyPair, type StoredClient } from '../client-auth/helpers.ts';

/**
 * The client_credentials grant (MCP client-credentials extension CC-01..CC-07, OAuth 2.1 §4.2):
 * pre-registered confidential clients get audience-bound tokens for themselves, with no refresh
 * token and a subject no resource server can take for a user.
 */
describe('client_credentials grant', () => {
  let t: TestApp;
  let secretClient: StoredClient;
  let key: KeyPair;
  let jwtClient: StoredClient;

  before(async () => {
    t = await createTestApp({ resources: ['https://api.example/v1'] });
    secretClient = await storeClient(t, { scope: 'tasks:read tasks:write' });
    key = await keyPair('ES256');
    jwtClient = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
  });
  after(() => t.close());

  const viaBasic = (params: Record<string, string | undefined> = {}, c = secretClient) =>
    postForm(t, '/token', { grant_type: 'client_credentials', ...params }, basic(c.client.clientId, c.secret!));

  async function error(res: Response): Promise<string | undefined> {
    return ((await res.json()) as { error?: string }).error;
  }

  it('CC-05 client_secret_basic: an access token bound to the MCP resource, no refresh token, no-store', async () => {
    const res = await viaBasic();
    assert.equal(res.status, 200);
    assert.match(res.headers.get('Cache-Control') ?? '', /no-store/);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.refresh_token, undefined, 'OAuth 2.1 §4.2.3: no refresh token');
    assert.equal(body.scope, 'tasks:read tasks:write', 'no scope asked: the registered scopes');
    const claims = decodeJwt(body.access_token as string);
    assert.equal(decodeProtectedHeader(body.access_token as string).typ, 'at+jwt');
    assert.equal(claims.aud, t.ctx.config.resource);
    assert.equal(claims.client_id, secretClient.client.clientId);
    assert.equal(claims.iss, t.ctx.config.issuer);
  });

  it('CC-07/SEC-32 the token acts for the client: sub is client:<id> with sub_type client, never a user id', async () => {
    const claims = decodeJwt(((await (await viaBasic()).json()) as { access_token: string }).access_token);
    assert.equal(claims.sub, `client:${secretClient.client.clientId}`);
    assert.equal(claims.sub_type, 'client');
    assert.equal(await t.storage.users.byId(claims.sub!), null);
  });

  it('CC-03 client_secret_post and private_key_jwt authenticate the grant too (CC-08 the EXT-CC wire format: client_credentials with client_assertion)', async () => {
    const postClient = await storeClient(t, { tokenEndpointAuthMethod: 'client_secret_post' });
    const post = await postForm(t, '/token', { grant_type: 'client_credentials', client_id: postClient.client.clientId, client_secret: postClient.secret! });
    assert.equal(post.status, 200);
    // A client uses the method it registered: this one registered client_secret_basic.
    const wrongMethod = await postForm(t, '/token', { grant_type: 'client_credentials', client_id: secretClient.client.clientId, client_secret: secretClient.secret! });
    assert.equal(wrongMethod.status, 401);
    const jwt = await postForm(t, '/token', {
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await clientAssertion(t, jwtClient.client.clientId, { key }),
    });
    assert.equal(jwt.status, 200);
    const scope = ((await jwt.json()) as { scope: string }).scope;
    assert.deepEqual(scope, t.ctx.config.defaultScopes.join(' '), 'a client that registered no scopes gets the default scopes');
  });

  it('CC-05/RFC 8707 resource: our MCP URL (any spelling) or a configured resource; anything else is invalid_target', async () => {
    const ok = await viaBasic({ resource: `${t.ctx.config.resource}/` });
    assert.equal(decodeJwt(((await ok.json()) as { access_token: string }).access_token).aud, t.ctx.config.resource);
    const other = await viaBasic({ resource: 'https://api.example/v1' });
    assert.equal(decodeJwt(((await other.json()) as { access_token: string }).access_token).aud, 'https://api.example/v1');
    const bad = await viaBasic({ resource: 'https://evil.example/mcp' });
    assert.equal(bad.status, 400);
    assert.equal(await error(bad), 'invalid_target');
  });

  it('CC-05 scope must lie within the registered scopes; unknown, unregistered, openid and offline_access are invalid_scope', async () => {
    const narrow = await storeClient(t, { scope: 'tasks:read' });
    const ok = await viaBasic({ scope: 'tasks:read' }, narrow);
    assert.equal(((await ok.json()) as { scope: string }).scope, 'tasks:read');
    for (const scope of ['tasks:write', 'tasks:read tasks:write', 'nonsense', 'offline_access', 'openid tasks:read']) {
      const res = await viaBasic({ scope }, narrow);
      assert.equal(res.status, 400, scope);
      assert.equal(await error(res), 'invalid_scope', scope);
    }
  });

  it('CC-02 only pre-registered confidential clients with the grant may use it: others get unauthorized_client', async () => {
    const withoutGrant = await storeClient(t, { grantTypes: ['authorization_code'] });
    assert.equal(await error(await viaBasic({}, withoutGrant)), 'unauthorized_client');
    const dynamic = await storeClient(t, { source: 'dcr' });
    assert.equal(await error(await viaBasic({}, dynamic)), 'unauthorized_client');
    const publicClient = await storeClient(t, { tokenEndpointAuthMethod: 'none' });
    const res = await postForm(t, '/token', { grant_type: 'client_credentials', client_id: publicClient.client.clientId });
    assert.equal(await error(res), 'unauthorized_client');
  });

  it('CC-02 dynamic registration cannot register the client_credentials grant', async () => {
    const res = await t.request('/register', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://m2m.example/cb'], grant_types: ['authorization_code', 'client_credentials'], token_endpoint_auth_method: 'client_secret_basic' }),
    });
    assert.equal(res.status, 400);
    assert.equal(await error(res), 'invalid_client_metadata');
  });

  it('CC-04 metadata lists client_credentials in grant_types_supported', async () => {
    const doc = (await (await t.request('/.well-known/oauth-authorization-server')).json()) as { grant_types_supported: string[] };
    assert.ok(doc.grant_types_supported.includes('client_credentials'));
  });

  it('SEC-52 revoking a client_credentials token (or removing the client) stops it at the MCP endpoint', async () => {
    const c = await storeClient(t);
    const call = (token: string) =>
      t.request(t.ctx.config.mcpPath, {
        method: 'POST',
        headers: mcpHeaders({ Authorization: `Bearer ${token}` }),
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
    const first = ((await (await viaBasic({}, c)).json()) as { access_token: string }).access_token;
    const second = ((await (await viaBasic({}, c)).json()) as { access_token: string }).access_token;
    assert.notEqual((await call(first)).status, 401);
    assert.equal((await postForm(t, '/revoke', { token: first }, basic(c.client.clientId, c.secret!))).status, 200);
    assert.equal((await call(first)).status, 401, 'the revoked token no longer works');
    assert.notEqual((await call(second)).status, 401, 'each issuance is its own grant: the other token still works');
    await t.storage.clients.remove(c.client.clientId);
    t.clock.advance(10_000); // past the grant-status cache
    assert.equal((await call(second)).status, 401, 'removing the client ends its tokens');
  });
});

/** The official SDK client, in process: its providers fetch the token, then call tools. */
async function connect(t: TestApp, provider: OAuthClientProvider): Promise<Client> {
  const fetchInProcess: typeof fetch = async (input, init) => t.app.fetch(new Request(input as string | URL, init));
  const client = new Client({ name: 'machine', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(t.ctx.config.resource), { authProvider: provider, fetch: fetchInProcess }));
  return client;
}

function toolJson(result: unknown): Record<string, unknown> {
  const content = (result as { content: { type: string; text: string }[] }).content;
  return JSON.parse(content[0]!.text) as Record<string, unknown>;
}

describe('E2E client_credentials with the official SDK client', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('CC-01 ClientCredentialsProvider: 401 → discovery → token → whoami shows a client subject, not a user', async () => {
    const c = await storeClient(t, { scope: 'tasks:read tasks:write' });
    const client = await connect(t, new ClientCredentialsProvider({ clientId: c.client.clientId, clientSecret: c.secret!, expectedIssuer: t.ctx.config.issuer, scope: 'tasks:read tasks:write' }));
    try {
      const who = toolJson(await client.callTool({ name: 'whoami', arguments: {} }));
      assert.equal(who.subject, `client:${c.client.clientId}`);
      assert.equal(who.subjectType, 'client');
      assert.equal(who.username, null);
      assert.equal(who.clientId, c.client.clientId);
    } finally {
      await client.close();
    }
  });

  it('CC-07 the task tools give a client its own list, never a user\'s', async () => {
    const user = await createUser(t.storage, { username: 'bob', password: 'a long enough password' }, { now: t.clock.now(), random: t.ctx.random });
    await t.storage.tasks.create({ id: 'bob-task', userId: user.id, title: 'Bob only', done: false, createdAt: t.clock.now(), completedAt: null });
    const c = await storeClient(t, { scope: 'tasks:read tasks:write' });
    const client = await connect(t, new ClientCredentialsProvider({ clientId: c.client.clientId, clientSecret: c.secret!, expectedIssuer: t.ctx.config.issuer, scope: 'tasks:read tasks:write' }));
    try {
      await client.callTool({ name: 'create_task', arguments: { title: 'nightly report' } });
      const listed = toolJson(await client.callTool({ name: 'list_tasks', arguments: {} })) as { tasks: { title: string }[] };
      assert.deepEqual(listed.tasks.map((x) => x.title), ['nightly report']);
      assert.deepEqual((await t.storage.tasks.list(user.id)).map((x) => x.title), ['Bob only']);
      assert.deepEqual((await t.storage.tasks.list(`client:${c.client.clientId}`)).map((x) => x.title), ['nightly report']);
    } finally {
      await client.close();
    }
  });

  it('SEC-29 PrivateKeyJwtProvider: the SDK signs a client assertion and calls a tool', async () => {
    const key = await keyPair('ES256');
    const c = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    const client = await connect(t, new PrivateKeyJwtProvider({ clientId: c.client.clientId, privateKey: key.privateJwk as Record<string, unknown>, algorithm: 'ES256', expectedIssuer: t.ctx.config.issuer }));
    try {
      const who = toolJson(await client.callTool({ name: 'whoami', arguments: {} }));
      assert.equal(who.subject, `client:${c.client.clientId}`);
    } finally {
      await client.close();
    }
  });
});
