import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addClient, addCode, assertNoSecretsLogged, errorOf, post, setup, type Fixture } from './fixtures.ts';

const FAILED = { status: 401, error: 'invalid_client', description: 'Client authentication failed.' };

/** A token request that fails after client authentication when authentication succeeds (unknown code). */
const probe = { grant_type: 'authorization_code', code: 'pcc_nothing', code_verifier: 'v'.repeat(43) };

/** Client authentication passed iff the request got past it to the grant (invalid_grant, not invalid_client). */
async function authenticated(res: Response): Promise<boolean> {
  const { error } = await errorOf(res);
  assert.ok(error === 'invalid_grant' || error === 'invalid_client', error);
  return error === 'invalid_grant';
}

describe('client authentication at the token endpoint', () => {
  it('SEC-28 RFC 6749 §2.3.1 client_secret_basic credentials are form-urlencoded before base64, and decoded', async () => {
    const t = await setup();
    const secret = 'p@ss:wörd+100% & a=b/c';
    const { client } = await addClient(t, { tokenEndpointAuthMethod: 'client_secret_basic', secret });
    const issued = await addCode(t, client);
    const res = await post(t, '/token', { grant_type: 'authorization_code', code: issued.code, code_verifier: issued.verifier }, { basic: { id: client.clientId, secret } });
    assert.equal(res.status, 200);
    // The same secret sent without the form-encoding is a different secret.
    const raw = 'Basic ' + Buffer.from(`${client.clientId}:${secret}`).toString('base64');
    assert.deepEqual(await errorOf(await post(t, '/token', probe, { headers: { Authorization: raw } })), FAILED);
  });

  it('SEC-28 RFC 6749 §2.3.1 a Basic client may repeat its own client_id in the body', async () => {
    const t = await setup();
    const { client, secret } = await addClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    assert.ok(await authenticated(await post(t, '/token', { ...probe, client_id: client.clientId }, { basic: { id: client.clientId, secret: secret! } })));
  });

  it('SEC-28 OAuth 2.1 §2.4.1 client_secret_post authenticates with client_id and client_secret in the body', async () => {
    const t = await setup();
    const { client, secret } = await addClient(t, { tokenEndpointAuthMethod: 'client_secret_post' });
    assert.ok(await authenticated(await post(t, '/token', { ...probe, client_id: client.clientId, client_secret: secret! })));
    const wrong = await post(t, '/token', { ...probe, client_id: client.clientId, client_secret: secret + 'x' });
    assert.deepEqual(await errorOf(wrong), FAILED);
    assert.equal(wrong.headers.get('WWW-Authenticate'), null, 'no Basic challenge when Basic was not tried');
  });

  it('SEC-28 a client must use the method it registered', async () => {
    const t = await setup();
    const { client: basic, secret: basicSecret } = await addClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const { client: postClient, secret: postSecret } = await addClient(t, { tokenEndpointAuthMethod: 'client_secret_post' });
    const { client: publicClient } = await addClient(t);
    assert.deepEqual(await errorOf(await post(t, '/token', { ...probe, client_id: basic.clientId, client_secret: basicSecret! })), FAILED);
    assert.deepEqual(await errorOf(await post(t, '/token', probe, { basic: { id: postClient.clientId, secret: postSecret! } })), FAILED);
    // A confidential client cannot drop its secret and pass as public.
    assert.deepEqual(await errorOf(await post(t, '/token', { ...probe, client_id: basic.clientId })), FAILED);
    // A public client has no secret to present.
    assert.deepEqual(await errorOf(await post(t, '/token', { ...probe, client_id: publicClient.clientId, client_secret: 'anything' })), FAILED);
    assert.ok(await authenticated(await post(t, '/token', { ...probe, client_id: publicClient.clientId })));
  });

  it('SEC-28 OAuth 2.1 §2.4 a request using more than one authentication method is invalid_request', async () => {
    const t = await setup();
    const { client, secret } = await addClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const both = await post(t, '/token', { ...probe, client_id: client.clientId, client_secret: secret! }, { basic: { id: client.clientId, secret: secret! } });
    assert.equal((await errorOf(both)).error, 'invalid_request');
    const mismatch = await post(t, '/token', { ...probe, client_id: 'someone-else' }, { basic: { id: client.clientId, secret: secret! } });
    assert.equal((await errorOf(mismatch)).error, 'invalid_request');
  });

  it('RFC 6749 §5.2 an unknown client and a wrong secret get the same 401 invalid_client, with a Basic challenge when Basic was tried', async () => {
    const t = await setup();
    const { client, secret } = await addClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const unknown = await post(t, '/token', probe, { basic: { id: 'no-such-client', secret: secret! } });
    const wrong = await post(t, '/token', probe, { basic: { id: client.clientId, secret: 'not-the-secret' } });
    for (const res of [unknown, wrong]) {
      assert.equal(res.headers.get('WWW-Authenticate'), 'Basic realm="http://localhost:3000", charset="UTF-8"');
      assert.equal(res.headers.get('Cache-Control'), 'no-store');
    }
    assert.deepEqual(await errorOf(unknown), FAILED);
    assert.deepEqual(await errorOf(wrong), FAILED);
    const malformed = await post(t, '/token', probe, { headers: { Authorization: 'Basic !!!' } });
    assert.deepEqual(await errorOf(malformed), FAILED);
    assertNoSecretsLogged(t);
  });

  it('RFC 6749 §5.2 a request with no client credentials at all is 401 invalid_client', async () => {
    const t = await setup();
    assert.deepEqual(await errorOf(await post(t, '/token', probe)), FAILED);
    const secretOnly = await post(t, '/token', { ...probe, client_secret: 'x' });
    assert.equal((await errorOf(secretOnly)).error, 'invalid_request');
  });

  it('SEC-28 HARD-1 repeated failed secrets slow the client down (429, not invalid_client, which makes SDKs drop their registration), and the lock passes', async () => {
    const t = await setup();
    const { client, secret } = await addClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const attempt = (s: string) => post(t, '/token', probe, { basic: { id: client.clientId, secret: s } });
    for (let i = 0; i < 5; i++) assert.equal((await attempt('wrong')).status, 401);
    assert.equal((await attempt('wrong')).status, 401); // the sixth failure starts a lock
    const locked = await attempt(secret!);
    assert.equal(locked.status, 429);
    assert.equal((await errorOf(locked)).error, 'rate_limited');
    assert.ok(Number(locked.headers.get('Retry-After')) >= 1);
    t.clock.advance(2000);
    assert.ok(await authenticated(await attempt(secret!)));
    // Success clears the client's count: a single later mistake is not locked.
    assert.equal((await attempt('wrong')).status, 401);
    assert.ok(await authenticated(await attempt(secret!)));
  });

  it('SEC-28 made-up client ids are not counted (they cannot fill the failure table)', async () => {
    const t: Fixture = await setup();
    for (let i = 0; i < 3; i++) await post(t, '/token', probe, { basic: { id: `ghost-${i}`, secret: 'x' } });
    for (let i = 0; i < 3; i++) assert.equal((await t.storage.failures.get(`client-auth:client:ghost-${i}`, t.clock.now())).count, 0);
  });
});
