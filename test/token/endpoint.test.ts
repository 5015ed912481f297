import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseForm } from '../../src/authorization/form.ts';
import { addClient, addCode, assertNoSecretsLogged, errorOf, post, redeem, refresh, setup } from './fixtures.ts';

describe('token endpoint requests', () => {
  it('SEC-27 OAuth 2.1 §3.2 GET /token is 405 invalid_request with Allow: POST and no-store', async () => {
    const t = await setup();
    const res = await t.request('/token?grant_type=authorization_code');
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('Allow'), 'POST');
    assert.equal(res.headers.get('Cache-Control'), 'no-store');
    assert.equal((await errorOf(res)).error, 'invalid_request');
  });

  it('SEC-27 a body that is not application/x-www-form-urlencoded is invalid_request', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const res = await t.request('/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_type: 'authorization_code', client_id: client.clientId }),
    });
    assert.equal(res.status, 400);
    assert.equal((await errorOf(res)).error, 'invalid_request');
  });

  it('SEC-27 OAuth 2.1 §3.2 a repeated parameter is invalid_request, even with one value empty', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const issued = await addCode(t, client);
    const body = `grant_type=authorization_code&code=${issued.code}&code=${issued.code}&code_verifier=${issued.verifier}&client_id=${client.clientId}`;
    const res = await t.request('/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });
    assert.deepEqual(await errorOf(res), { status: 400, error: 'invalid_request', description: 'The code parameter must not be repeated.' });
    assert.throws(() => parseForm('scope=&scope=a'), /must not be repeated/);
    // Nothing was consumed by the refused request.
    await redeem(t, client, issued);
  });

  it('SEC-27 OAuth 2.1 §3.2 empty parameters count as absent and unknown parameters are ignored', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const issued = await addCode(t, client);
    const empty = await post(t, '/token', { grant_type: 'authorization_code', code: '', code_verifier: issued.verifier, client_id: client.clientId });
    assert.deepEqual(await errorOf(empty), { status: 400, error: 'invalid_request', description: 'The code parameter is required.' });
    await redeem(t, client, issued, { redirect_uri: '', resource: '', unknown_extension: 'whatever' });
  });

  it('RFC 6749 §5.2 an unsupported or missing grant_type', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    // jwt-bearer is off without a trusted enterprise IdP.
    for (const grantType of ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
      const res = await post(t, '/token', { grant_type: grantType, client_id: client.clientId });
      assert.deepEqual(await errorOf(res), { status: 400, error: 'unsupported_grant_type', description: 'This server does not support that grant_type.' });
    }
    const missing = await post(t, '/token', { client_id: client.clientId });
    assert.equal((await errorOf(missing)).error, 'invalid_request');
  });

  it('SEC-31 every token endpoint response, success or error, is no-store JSON', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const { client: confidential } = await addClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const issued = await addCode(t, client);
    const ok = await post(t, '/token', { grant_type: 'authorization_code', code: issued.code, code_verifier: issued.verifier, client_id: client.clientId });
    const { refresh_token: refreshToken } = (await ok.clone().json()) as { refresh_token: string };
    t.secrets.add(refreshToken);
    t.secrets.add((await ok.clone().json() as { access_token: string }).access_token);
    const responses = [
      ok,
      await refresh(t, client, refreshToken),
      await post(t, '/token', { grant_type: 'authorization_code', code: issued.code, code_verifier: issued.verifier, client_id: client.clientId }),
      await post(t, '/token', { grant_type: 'password', client_id: client.clientId }),
      await post(t, '/token', { grant_type: 'authorization_code' }),
      await post(t, '/token', { grant_type: 'authorization_code' }, { basic: { id: confidential.clientId, secret: 'wrong' } }),
      await post(t, '/token', { grant_type: 'refresh_token', refresh_token: 'pcr_x', client_id: client.clientId, scope: 'admin' }),
      await t.request('/token'),
      await t.request('/token', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' }),
    ];
    for (const res of responses) {
      assert.equal(res.headers.get('Cache-Control'), 'no-store', `${res.status}`);
      assert.equal(res.headers.get('Pragma'), 'no-cache', `${res.status}`);
      assert.match(res.headers.get('Content-Type') ?? '', /^application\/json/);
    }
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 400, 400, 401, 401, 400, 405, 400]);
    assertNoSecretsLogged(t);
  });
});
