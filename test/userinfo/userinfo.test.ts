import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { craftProof, createDpopClientKey, dpopAuth, type DpopClientKey } from '../dpop/dpop-client.ts';
import { addClient, addCode, post, redeem, setup, type Fixture, type TokenBody } from '../token/fixtures.ts';

async function accessToken(t: Fixture, scopes: string[]) {
  const { client } = await addClient(t);
  const issued = await addCode(t, client, { scopes });
  return { issued, token: (await redeem(t, client, issued)).access_token };
}

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

describe('/userinfo', () => {
  it('OIDC Core §5.3 GET and POST with an openid access token answer sub and preferred_username', async () => {
    const t = await setup();
    const { token } = await accessToken(t, ['openid', 'tasks:read']);
    for (const method of ['GET', 'POST']) {
      const res = await t.request('/userinfo', { method, ...bearer(token) });
      assert.equal(res.status, 200, method);
      assert.equal(res.headers.get('Cache-Control'), 'no-store');
      assert.deepEqual(await res.json(), { sub: t.user.id, preferred_username: 'alice' });
    }
  });

  it('RFC 6750 §3.1 no token: 401 with a Bearer challenge and no error code', async () => {
    const t = await setup();
    const res = await t.request('/userinfo');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('WWW-Authenticate'), 'Bearer realm="http://localhost:3000"');
  });

  it('RFC 6750 §3.1 an invalid, expired or revoked token: 401 invalid_token', async () => {
    const t = await setup();
    const { issued, token } = await accessToken(t, ['openid']);
    const expect401 = async (res: Response) => {
      assert.equal(res.status, 401);
      assert.match(res.headers.get('WWW-Authenticate') ?? '', /^Bearer realm="http:\/\/localhost:3000", error="invalid_token"/);
    };
    await expect401(await t.request('/userinfo', bearer('garbage')));
    await expect401(await t.request('/userinfo', { headers: { Authorization: 'Bearer a b' } }));
    await t.ctx.grants.revoke(issued.grantId, t.clock.now());
    await expect401(await t.request('/userinfo', bearer(token)));
    const other = await accessToken(t, ['openid']);
    t.clock.advance(t.ctx.config.accessTokenTtl * 1000 + 1000);
    await expect401(await t.request('/userinfo', bearer(other.token)));
  });

  it('RFC 6750 §3.1 a token without the openid scope: 403 insufficient_scope naming openid', async () => {
    const t = await setup();
    const { token } = await accessToken(t, ['tasks:read']);
    const res = await t.request('/userinfo', bearer(token));
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('WWW-Authenticate'), 'Bearer realm="http://localhost:3000", error="insufficient_scope", error_description="This endpoint needs the openid scope.", scope="openid"');
  });
});

describe('/userinfo with DPoP-bound tokens (RFC 9449 §7)', () => {
  /** A DPoP-bound token from the real token endpoint: the code redeemed with a proof by `key`. */
  async function dpopToken(t: Fixture, key: DpopClientKey): Promise<string> {
    const { client } = await addClient(t);
    const issued = await addCode(t, client, { scopes: ['openid'] });
    const proof = await craftProof(key, { htu: t.ctx.capabilities.endpoints.token });
    const res = await post(t, '/token', { grant_type: 'authorization_code', code: issued.code, code_verifier: issued.verifier, client_id: client.clientId }, { headers: { DPoP: proof } });
    const body = (await res.json()) as TokenBody;
    assert.equal(body.token_type, 'DPoP', JSON.stringify(body));
    return body.access_token;
  }
  const userinfoUrl = (t: Fixture) => t.ctx.capabilities.endpoints.userinfo;

  it('§7.1 a bound token with a proof for this request answers; a replay of that proof does not', async () => {
    const t = await setup();
    const key = await createDpopClientKey();
    const token = await dpopToken(t, key);
    const proof = await craftProof(key, { htm: 'GET', htu: userinfoUrl(t), accessToken: token });
    const res = await t.request('/userinfo', { headers: dpopAuth(token, proof) });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { sub: string }).sub, t.user.id);
    const replayed = await t.request('/userinfo', { headers: dpopAuth(token, proof) });
    assert.equal(replayed.status, 401);
    assert.match(replayed.headers.get('WWW-Authenticate') ?? '', /^DPoP .*error="invalid_dpop_proof".*algs="/);
  });

  it('§7.2 a bound token presented as Bearer is refused with a DPoP challenge', async () => {
    const t = await setup();
    const token = await dpopToken(t, await createDpopClientKey());
    const res = await t.request('/userinfo', bearer(token));
    assert.equal(res.status, 401);
    assert.match(res.headers.get('WWW-Authenticate') ?? '', /^DPoP .*error="invalid_token"/);
  });

  it('§7.1 no proof, a proof for another URL or method, or by another key: refused', async () => {
    const t = await setup();
    const key = await createDpopClientKey();
    const token = await dpopToken(t, key);
    const refusedWith = async (headers: Record<string, string>) => {
      const res = await t.request('/userinfo', { headers });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('WWW-Authenticate') ?? '', /^DPoP /);
    };
    await refusedWith({ Authorization: `DPoP ${token}` });
    await refusedWith(dpopAuth(token, await craftProof(key, { htm: 'GET', htu: t.ctx.capabilities.endpoints.token, accessToken: token })));
    await refusedWith(dpopAuth(token, await craftProof(key, { htm: 'POST', htu: userinfoUrl(t), accessToken: token })));
    await refusedWith(dpopAuth(token, await craftProof(await createDpopClientKey(), { htm: 'GET', htu: userinfoUrl(t), accessToken: token })));
  });

  it('§7.1 an unbound (bearer) token under the DPoP scheme is refused; with dpopRequired a bearer token is too', async () => {
    const t = await setup();
    const key = await createDpopClientKey();
    const { token } = await accessToken(t, ['openid']);
    const res = await t.request('/userinfo', { headers: dpopAuth(token, await craftProof(key, { htm: 'GET', htu: userinfoUrl(t), accessToken: token })) });
    assert.equal(res.status, 401);
    const strict = await setup({ dpopRequired: true });
    const none = await strict.request('/userinfo');
    assert.match(none.headers.get('WWW-Authenticate') ?? '', /^DPoP realm=/);
  });
});
