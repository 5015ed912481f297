import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { issueAccessToken } from '../../src/authorization/access-token.ts';
import { LocalTokenVerifier } from '../../src/resource/verify-local.ts';
import { post as mcpPost, toolCallMessage } from '../mcp/wire.ts';
import { addClient, addCode, assertNoSecretsLogged, post, redeem, remember, setup, type Fixture, type TokenBody } from '../token/fixtures.ts';

/**
 * The built-in authorization server's own /revoke and /introspect recognise every access token it
 * issued, whichever of its resources (`resources`, RFC 8707) the token is for; the MCP endpoint still
 * accepts only tokens for itself.
 */

const OTHER = 'https://tasks.example.com/mcp';
const UNLISTED = 'https://elsewhere.example.com/mcp';

/** A client (public unless a method is given) holding tokens for OTHER. */
async function tokensForOther(t: Fixture, method: 'none' | 'client_secret_basic' = 'none') {
  const { client, secret } = await addClient(t, { tokenEndpointAuthMethod: method });
  const issued = await addCode(t, client, { resource: OTHER });
  const auth = secret ? { basic: { id: client.clientId, secret } } : {};
  const res = await post(t, '/token', { grant_type: 'authorization_code', code: issued.code, code_verifier: issued.verifier, resource: OTHER, ...(secret ? {} : { client_id: client.clientId }) }, auth);
  const tokens = (await res.json()) as TokenBody;
  assert.equal(res.status, 200, JSON.stringify(tokens));
  remember(t, tokens);
  assert.equal(decodeJwt(tokens.access_token).aud, OTHER);
  return { client, issued, tokens, auth };
}

const opened: Fixture[] = [];
afterEach(async () => {
  for (const t of opened.splice(0)) await t.close();
});

const grantRevoked = async (t: Fixture, grantId: string) => (await t.storage.grants.get(grantId))?.revokedAt !== null;

describe('the authorization server\'s /revoke and /introspect for tokens issued for another resource (resources, RFC 8707)', () => {
  it('SEC-52 RFC 7009 §2.1 /revoke revokes the grant of an access token issued for another listed resource', async () => {
    const t = await setup({ resources: [OTHER] });
    const { client, issued, tokens } = await tokensForOther(t);
    const res = await post(t, '/revoke', { token: tokens.access_token, client_id: client.clientId });
    assert.equal(res.status, 200);
    assert.ok(await grantRevoked(t, issued.grantId), 'the grant behind the token for the other server is revoked');
    assert.ok(t.logger.records().some((r) => r['msg'] === 'token.revoked' && r['grant_id'] === issued.grantId && r['token_type'] === 'access_token'));
    const introspector = new LocalTokenVerifier(t.ctx, { audience: 'every issued resource' });
    assert.deepEqual(await introspector.verify(tokens.access_token), { ok: false, reason: 'grant_not_live' });
    assertNoSecretsLogged(t);
  });

  it('SEC-52 a token our keys signed for a resource that is not on the list is still ignored by /revoke', async () => {
    const t = await setup({ resources: [OTHER] });
    const { client } = await addClient(t);
    const issued = await addCode(t, client);
    await redeem(t, client, issued);
    const { token } = await issueAccessToken(t.ctx, { subject: t.user.id, clientId: client.clientId, scopes: ['tasks:read'], resource: UNLISTED, grantId: issued.grantId });
    t.secrets.add(token);
    assert.equal((await post(t, '/revoke', { token, client_id: client.clientId })).status, 200);
    assert.equal(await grantRevoked(t, issued.grantId), false);
  });

  it('SEC-53 RFC 7662 §2.2 /introspect reports an access token issued for another listed resource active, with that aud', async () => {
    const t = await setup({ resources: [OTHER] });
    const { client, issued, tokens, auth } = await tokensForOther(t, 'client_secret_basic');
    const body = (await (await post(t, '/introspect', { token: tokens.access_token }, auth)).json()) as Record<string, unknown>;
    assert.equal(body['active'], true, JSON.stringify(body));
    assert.equal(body['aud'], OTHER);
    assert.equal(body['client_id'], client.clientId);
    assert.equal(body['sub'], t.user.id);
    await t.ctx.grants.revoke(issued.grantId, t.clock.now());
    assert.deepEqual(await (await post(t, '/introspect', { token: tokens.access_token }, auth)).json(), { active: false }, 'once its grant is revoked');
    assertNoSecretsLogged(t);
  });

  it('RS-08/RS-18 the MCP endpoint still refuses the token for the other resource (401 invalid_token) while /introspect calls it active', async () => {
    const t = await setup({ resources: [OTHER] });
    opened.push(t);
    const { tokens, auth } = await tokensForOther(t, 'client_secret_basic');
    const introspected = (await (await post(t, '/introspect', { token: tokens.access_token }, auth)).json()) as { active: boolean };
    assert.equal(introspected.active, true);
    const response = await mcpPost(t, toolCallMessage('whoami'), { Authorization: `Bearer ${tokens.access_token}` });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('WWW-Authenticate') ?? '', /error="invalid_token"/);
    const atTheMcpEndpoint = await new LocalTokenVerifier(t.ctx).verify(tokens.access_token);
    assert.equal(atTheMcpEndpoint.ok ? 'accepted' : atTheMcpEndpoint.reason, 'wrong_audience');
  });
});
