import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { addClient, addCode, assertNoSecretsLogged, errorOf, post, remember, setup, type Fixture, type TokenBody } from '../token/fixtures.ts';

/** A confidential client with tokens from a redeemed code. */
async function confidential(t: Fixture, method: 'client_secret_basic' | 'client_secret_post' = 'client_secret_basic') {
  const { client, secret } = await addClient(t, { tokenEndpointAuthMethod: method });
  const issued = await addCode(t, client);
  const auth = method === 'client_secret_basic' ? { basic: { id: client.clientId, secret: secret! } } : {};
  const creds: Record<string, string> = method === 'client_secret_post' ? { client_id: client.clientId, client_secret: secret! } : {};
  const res = await post(t, '/token', { grant_type: 'authorization_code', code: issued.code, code_verifier: issued.verifier, ...creds }, auth);
  const tokens = (await res.json()) as TokenBody;
  remember(t, tokens);
  const introspect = (token: string) => post(t, '/introspect', { token, ...creds }, auth);
  const refreshAs = (refreshToken: string) => post(t, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken, ...creds }, auth);
  return { client, issued, tokens, introspect, refreshAs };
}

const INACTIVE = { active: false };

describe('POST /introspect', () => {
  it('RFC 7662 §2.2 SEC-53 a live access token: active with scope, client_id, sub, aud, iss, exp, iat, jti, token_type, username', async () => {
    const t = await setup();
    const { client, tokens, introspect } = await confidential(t);
    const res = await introspect(tokens.access_token);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('Cache-Control'), 'no-store');
    const claims = decodeJwt(tokens.access_token);
    assert.deepEqual(await res.json(), {
      active: true,
      scope: 'tasks:read offline_access',
      client_id: client.clientId,
      sub: t.user.id,
      aud: t.ctx.config.resource,
      iss: t.ctx.config.issuer,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      token_type: 'Bearer',
      username: 'alice',
    });
    assertNoSecretsLogged(t);
  });

  it('RFC 7662 §2.2 a live refresh token is active; once rotated it is not', async () => {
    const t = await setup();
    const { client, tokens, introspect, refreshAs } = await confidential(t, 'client_secret_post');
    const body = (await (await introspect(tokens.refresh_token!)).json()) as Record<string, unknown>;
    assert.equal(body['active'], true);
    assert.equal(body['token_type'], 'refresh_token');
    assert.equal(body['client_id'], client.clientId);
    assert.equal(body['sub'], t.user.id);
    assert.equal(body['scope'], 'tasks:read offline_access');
    assert.equal(body['exp'], Math.floor((t.clock.now() + t.ctx.config.refreshTokenIdleTtl * 1000) / 1000));
    const rotated = await refreshAs(tokens.refresh_token!);
    assert.equal(rotated.status, 200);
    remember(t, (await rotated.json()) as TokenBody);
    assert.deepEqual(await (await introspect(tokens.refresh_token!)).json(), INACTIVE);
  });

  it('RFC 7662 §2.2 anything not live is exactly {"active": false}: unknown, garbage, expired, revoked, idle', async () => {
    const t = await setup();
    const { issued, tokens, introspect } = await confidential(t);
    for (const token of ['pcr_' + 'A'.repeat(43), 'garbage', 'a.b.c']) assert.deepEqual(await (await introspect(token)).json(), INACTIVE);
    t.clock.advance(t.ctx.config.accessTokenTtl * 1000 + 1);
    assert.deepEqual(await (await introspect(tokens.access_token)).json(), INACTIVE, 'expired access token');
    assert.equal(((await (await introspect(tokens.refresh_token!)).json()) as { active: boolean }).active, true);
    await t.storage.grants.revoke(issued.grantId, t.clock.now());
    assert.deepEqual(await (await introspect(tokens.refresh_token!)).json(), INACTIVE, 'revoked grant');

    const other = await confidential(t);
    assert.equal(((await (await other.introspect(other.tokens.access_token)).json()) as { active: boolean }).active, true);
    await t.ctx.grants.revoke(other.issued.grantId, t.clock.now());
    assert.deepEqual(await (await other.introspect(other.tokens.access_token)).json(), INACTIVE, 'access token of a revoked grant');

    const idle = await confidential(t);
    t.clock.advance(t.ctx.config.refreshTokenIdleTtl * 1000);
    assert.deepEqual(await (await idle.introspect(idle.tokens.refresh_token!)).json(), INACTIVE, 'idle refresh token');
  });

  it('SEC-53 a client may only see tokens issued to itself', async () => {
    const t = await setup();
    const mine = await confidential(t);
    const theirs = await confidential(t);
    assert.deepEqual(await (await mine.introspect(theirs.tokens.access_token)).json(), INACTIVE);
    assert.deepEqual(await (await mine.introspect(theirs.tokens.refresh_token!)).json(), INACTIVE);
  });

  it('SEC-53 RFC 7662 §2.1 introspection requires confidential client authentication', async () => {
    const t = await setup();
    const { client, tokens } = await confidential(t);
    const { client: publicClient } = await addClient(t);
    const failed = { status: 401, error: 'invalid_client', description: 'Client authentication failed.' };
    assert.deepEqual(await errorOf(await post(t, '/introspect', { token: tokens.access_token })), failed);
    assert.deepEqual(await errorOf(await post(t, '/introspect', { token: tokens.access_token, client_id: publicClient.clientId })), failed);
    const wrong = await post(t, '/introspect', { token: tokens.access_token }, { basic: { id: client.clientId, secret: 'wrong' } });
    assert.deepEqual(await errorOf(wrong), failed);
    assert.match(wrong.headers.get('WWW-Authenticate') ?? '', /^Basic /);
    assert.equal(wrong.headers.get('Cache-Control'), 'no-store');
    assert.equal((await t.request('/introspect')).status, 405);
    assertNoSecretsLogged(t);
  });
});
