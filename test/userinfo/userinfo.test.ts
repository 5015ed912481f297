import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addClient, addCode, redeem, setup, type Fixture } from '../token/fixtures.ts';

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
