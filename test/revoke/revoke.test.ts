import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT, generateKeyPair } from 'jose';
import { LocalTokenVerifier } from '../../src/resource/verify-local.ts';
import { addClient, addCode, assertNoSecretsLogged, errorOf, post, redeem, refresh, setup, type Fixture } from '../token/fixtures.ts';

async function granted(t: Fixture) {
  const { client } = await addClient(t);
  const issued = await addCode(t, client);
  const tokens = await redeem(t, client, issued);
  return { client, issued, tokens };
}

async function revoked(t: Fixture, grantId: string): Promise<boolean> {
  return (await t.storage.grants.get(grantId))?.revokedAt !== null;
}

describe('POST /revoke', () => {
  it('RFC 7009 §2.1 revoking a refresh token revokes its grant: the refresh token and the access tokens stop working', async () => {
    const t = await setup();
    const { client, issued, tokens } = await granted(t);
    const res = await post(t, '/revoke', { token: tokens.refresh_token!, token_type_hint: 'refresh_token', client_id: client.clientId });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('Cache-Control'), 'no-store');
    assert.ok(await revoked(t, issued.grantId));
    assert.equal((await errorOf(await refresh(t, client, tokens.refresh_token!))).error, 'invalid_grant');
    assert.deepEqual(await new LocalTokenVerifier(t.ctx).verify(tokens.access_token), { ok: false, reason: 'grant_not_live' });
    assert.ok(t.logger.records().some((r) => r['msg'] === 'token.revoked' && r['grant_id'] === issued.grantId && r['token_type'] === 'refresh_token'));
    assertNoSecretsLogged(t);
  });

  it('RFC 7009 §2.1 revoking one of our access tokens revokes its grant, refresh token included', async () => {
    const t = await setup();
    const { client, issued, tokens } = await granted(t);
    const res = await post(t, '/revoke', { token: tokens.access_token, token_type_hint: 'access_token', client_id: client.clientId });
    assert.equal(res.status, 200);
    assert.ok(await revoked(t, issued.grantId));
    assert.equal((await errorOf(await refresh(t, client, tokens.refresh_token!))).error, 'invalid_grant');
  });

  it('RFC 7009 §2.1 the token_type_hint is only a hint: a wrong or unknown hint still revokes', async () => {
    const t = await setup();
    const { client, issued, tokens } = await granted(t);
    const res = await post(t, '/revoke', { token: tokens.refresh_token!, token_type_hint: 'access_token', client_id: client.clientId });
    assert.equal(res.status, 200);
    assert.ok(await revoked(t, issued.grantId));
    const second = await granted(t);
    assert.equal((await post(t, '/revoke', { token: second.tokens.access_token, token_type_hint: 'something_else', client_id: second.client.clientId })).status, 200);
    assert.ok(await revoked(t, second.issued.grantId));
  });

  it('RFC 7009 §2.2 SEC-52 unknown, malformed, expired and forged tokens all get 200 and change nothing', async () => {
    const t = await setup();
    const { client, issued, tokens } = await granted(t);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ client_id: client.clientId, gid: issued.grantId, sub: t.user.id, scope: 'x', jti: 'j' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: t.ctx.keys.activeKid })
      .setIssuer(t.ctx.config.issuer)
      .setAudience(t.ctx.config.resource)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    for (const token of ['pcr_' + 'A'.repeat(43), 'not a token', 'a.b.c', forged]) {
      const res = await post(t, '/revoke', { token, client_id: client.clientId });
      assert.equal(res.status, 200, token);
      assert.equal(await res.text(), '');
    }
    assert.equal(await revoked(t, issued.grantId), false);
    // An expired access token has nothing left to revoke: its grant lives on.
    t.clock.advance(t.ctx.config.accessTokenTtl * 1000 + 1000);
    assert.equal((await post(t, '/revoke', { token: tokens.access_token, client_id: client.clientId })).status, 200);
    assert.equal(await revoked(t, issued.grantId), false);
    assert.equal((await refresh(t, client, tokens.refresh_token!)).status, 200);
  });

  it('SEC-52 a token issued to another client is not revoked, and the answer is still 200', async () => {
    const t = await setup();
    const victim = await granted(t);
    const { client: other } = await addClient(t);
    assert.equal((await post(t, '/revoke', { token: victim.tokens.refresh_token!, client_id: other.clientId })).status, 200);
    assert.equal((await post(t, '/revoke', { token: victim.tokens.access_token, client_id: other.clientId })).status, 200);
    assert.equal(await revoked(t, victim.issued.grantId), false);
  });

  it('SEC-52 RFC 7009 §2.1 the client authenticates as at the token endpoint', async () => {
    const t = await setup();
    const { client, secret } = await addClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const issued = await addCode(t, client);
    const tokenRes = await post(t, '/token', { grant_type: 'authorization_code', code: issued.code, code_verifier: issued.verifier }, { basic: { id: client.clientId, secret: secret! } });
    const tokens = (await tokenRes.json()) as { refresh_token: string };
    t.secrets.add(tokens.refresh_token);
    const wrong = await post(t, '/revoke', { token: tokens.refresh_token }, { basic: { id: client.clientId, secret: 'wrong' } });
    assert.deepEqual(await errorOf(wrong), { status: 401, error: 'invalid_client', description: 'Client authentication failed.' });
    assert.match(wrong.headers.get('WWW-Authenticate') ?? '', /^Basic realm=/);
    const anonymous = await post(t, '/revoke', { token: tokens.refresh_token });
    assert.equal(anonymous.status, 401);
    const asPublic = await post(t, '/revoke', { token: tokens.refresh_token, client_id: client.clientId });
    assert.equal(asPublic.status, 401, 'a confidential client cannot revoke without its secret');
    assert.equal(await revoked(t, issued.grantId), false);
    assert.equal((await post(t, '/revoke', { token: tokens.refresh_token }, { basic: { id: client.clientId, secret: secret! } })).status, 200);
    assert.ok(await revoked(t, issued.grantId));
    assertNoSecretsLogged(t);
  });

  it('SEC-27 /revoke needs a POSTed form with a token', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    assert.equal((await errorOf(await post(t, '/revoke', { client_id: client.clientId }))).error, 'invalid_request');
    const get = await t.request('/revoke?token=x');
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('Cache-Control'), 'no-store');
  });
});
