import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { setup as flowSetup, PASSWORD, USERNAME, type Fixture as FlowFixture } from '../authorize/setup.ts';
import { authorizeWithForms } from '../helpers/oauth-flow.ts';
import { inSession, openLegacySession, post as mcpPost, rpcResult, toolCallMessage } from '../mcp/wire.ts';
import { parseChallenge } from '../resource/fixtures.ts';
import { addClient, addCode, redeem, refresh, remember, setup, type Fixture, type TokenBody } from './fixtures.ts';

/**
 * Least privilege (RFC 9700 §2.3, SEC-41) and down-scoping (MCP AS-34): tokens carry the scopes
 * asked for and consented to, never more; the authorization server may issue fewer, and says so in
 * the token response (RFC 6749 §5.1); the MCP endpoint accepts a down-scoped token for what it covers.
 */

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const app of opened.splice(0)) await app.close();
});

/** The real /authorize → login → consent → /token flow; returns the token response. */
async function tokensThroughTheFlow(f: FlowFixture, scope: string | undefined): Promise<TokenBody> {
  const back = await authorizeWithForms({ fetch: f.fetch, authorizationUrl: f.url({ scope }), username: USERNAME, password: PASSWORD });
  const code = back.searchParams.get('code');
  assert.ok(code, back.href);
  const form = new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: f.pkce.verifier, client_id: f.client.clientId, redirect_uri: f.client.redirectUris[0]! });
  const response = await f.app.request('/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  const body = (await response.json()) as TokenBody;
  assert.equal(response.status, 200, JSON.stringify(body));
  return body;
}

const scopeOf = (jwt: string): string => String(decodeJwt(jwt)['scope']);

describe('least privilege and down-scoping (SEC-41, AS-34)', () => {
  it('SEC-41 with the least-privilege setting (defaultScopes: tasks:read) and no scope requested, only tasks:read is granted, not every scope the server offers', async () => {
    const f = await flowSetup({ config: { defaultScopes: ['tasks:read'] } });
    opened.push(f.app);
    const offered = ((await (await f.app.request('/.well-known/oauth-authorization-server')).json()) as { scopes_supported: string[] }).scopes_supported;
    assert.ok(offered.includes('tasks:write'), 'the server does offer more');
    const body = await tokensThroughTheFlow(f, undefined);
    assert.equal(body.scope, 'tasks:read');
    assert.equal(scopeOf(body.access_token), 'tasks:read');
  });

  it('RFC 6749 §3.3 by default (defaultScopes unset) a request naming no scope gets every declared scope, and the token response says so', async () => {
    const f = await flowSetup();
    opened.push(f.app);
    const body = await tokensThroughTheFlow(f, undefined);
    assert.equal(body.scope, 'tasks:read tasks:write');
    assert.equal(scopeOf(body.access_token), 'tasks:read tasks:write');
  });

  it('RFC 6749 §3.3 a Codex-like request for openid profile email tasks:read completes; the token response names only what was granted', async () => {
    const f = await flowSetup();
    opened.push(f.app);
    const body = await tokensThroughTheFlow(f, 'openid profile email tasks:read');
    assert.equal(body.scope, 'openid profile email tasks:read');
    assert.equal(scopeOf(body.access_token), 'openid profile email tasks:read');
    assert.ok(body.id_token, 'openid is honoured: an ID token is issued');
    const claims = JSON.parse(Buffer.from(body.id_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(typeof claims.preferred_username, 'string', 'profile: the username');
  });

  it('RFC 6749 §3.3 a scope this server does not offer is left out of the grant, and the token response says what was granted', async () => {
    const f = await flowSetup();
    opened.push(f.app);
    const body = await tokensThroughTheFlow(f, 'tasks:write admin:everything');
    assert.equal(body.scope, 'tasks:write');
    assert.equal(scopeOf(body.access_token), 'tasks:write');
  });

  it('SEC-41 a token carries the scopes the request named, not everything a DCR client registered', async () => {
    const f = await flowSetup({ client: { scope: 'tasks:read tasks:write offline_access', source: 'dcr' } });
    opened.push(f.app);
    const body = await tokensThroughTheFlow(f, 'tasks:read');
    assert.equal(body.scope, 'tasks:read');
    assert.equal(scopeOf(body.access_token), 'tasks:read');
  });

  it('AS-34 RFC 6749 §5.1 a refresh asking for fewer scopes gets a down-scoped access token, and the response names its scope', async () => {
    const t = await setup();
    opened.push(t);
    const { client } = await addClient(t);
    const issued = await addCode(t, client, { scopes: ['tasks:read', 'tasks:write', 'offline_access'] });
    const full = await redeem(t, client, issued);
    assert.equal(scopeOf(full.access_token), 'tasks:read tasks:write offline_access');
    const response = await refresh(t, client, full.refresh_token!, { scope: 'tasks:read' });
    const narrowed = (await response.json()) as TokenBody;
    assert.equal(response.status, 200, JSON.stringify(narrowed));
    remember(t, narrowed);
    assert.equal(narrowed.scope, 'tasks:read');
    assert.equal(scopeOf(narrowed.access_token), 'tasks:read');
  });

  it('AS-34 the MCP endpoint accepts a down-scoped token for what it covers and answers 403 insufficient_scope for the rest', async () => {
    const t = await setup();
    opened.push(t);
    const { client } = await addClient(t);
    const issued = await addCode(t, client, { scopes: ['tasks:read', 'tasks:write', 'offline_access'] });
    const full = await redeem(t, client, issued);
    const narrowed = (await (await refresh(t, client, full.refresh_token!, { scope: 'tasks:read' })).json()) as TokenBody;
    remember(t, narrowed);
    const auth = { Authorization: `Bearer ${narrowed.access_token}` };
    const session = inSession(auth, await openLegacySession(t, auth));
    const read = await mcpPost(t, toolCallMessage('list_tasks'), session);
    assert.equal(read.status, 200);
    const listed = await rpcResult(read);
    assert.equal(listed.error, undefined);
    assert.notEqual(listed.result?.['isError'], true, 'list_tasks ran');
    const write = await mcpPost(t, toolCallMessage('create_task', { title: 'not allowed' }), session);
    assert.equal(write.status, 403);
    const challenge = parseChallenge(write.headers.get('WWW-Authenticate'));
    assert.equal(challenge.params['error'], 'insufficient_scope');
    assert.equal(challenge.params['scope'], 'tasks:write');
    assert.deepEqual(await t.storage.tasks.list(t.user.id), [], 'nothing was created');
  });
});
