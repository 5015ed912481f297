import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { ASSERTION_TYPE, clientAssertion, keyPair, type KeyPair } from '../client-auth/helpers.ts';

/**
 * What the metadata advertises is what the endpoints accept, and nothing else (style anchor §9):
 * each advertised client authentication method gets a registered client of that kind through
 * authentication at its endpoint, and each advertised grant type reaches its grant handler.
 */
describe('advertised = accepted', () => {
  let t: TestApp;
  let metadata: Record<string, string[]>;
  let key: KeyPair;
  before(async () => {
    key = await keyPair('ES256');
    t = await createTestApp({ registration: { enabled: true, perMinute: 1000 } });
    metadata = (await (await t.request('/.well-known/oauth-authorization-server')).json()) as Record<string, string[]>;
  });
  after(() => t.close());

  async function registered(method: string): Promise<{ id: string; secret?: string }> {
    const res = await t.request('/register', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        client_name: `client using ${method}`,
        redirect_uris: ['http://127.0.0.1/cb'],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: method,
        ...(method === 'private_key_jwt' ? { jwks: { keys: [key.publicJwk] } } : {}),
      }),
    });
    assert.equal(res.status, 201);
    const json = (await res.json()) as { client_id: string; client_secret?: string };
    return { id: json.client_id, ...(json.client_secret ? { secret: json.client_secret } : {}) };
  }

  /** A form POST authenticated with `method`. */
  async function post(path: string, method: string, client: { id: string; secret?: string }, params: Record<string, string>): Promise<Response> {
    const form = new URLSearchParams(params);
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
    if (method === 'client_secret_basic') {
      headers.Authorization = 'Basic ' + Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret!)}`).toString('base64');
    } else if (method === 'private_key_jwt') {
      form.set('client_assertion_type', ASSERTION_TYPE);
      form.set('client_assertion', await clientAssertion(t, client.id, { key }));
    } else {
      form.set('client_id', client.id);
      if (method === 'client_secret_post') form.set('client_secret', client.secret!);
    }
    return t.request(path, { method: 'POST', headers, body: form.toString() });
  }

  it('SEC-50 every advertised token_endpoint_auth_method can be registered and authenticates at /token', async () => {
    for (const method of metadata.token_endpoint_auth_methods_supported!) {
      const client = await registered(method);
      const res = await post('/token', method, client, { grant_type: 'refresh_token', refresh_token: 'pcr_unknown' });
      const body = (await res.json()) as { error?: string };
      // Authentication passed: the request failed on the (made-up) refresh token, not on the client.
      assert.equal(body.error, 'invalid_grant', `${method}: ${JSON.stringify(body)}`);
    }
  });

  it('SEC-52 every advertised revocation_endpoint_auth_method is accepted at /revoke', async () => {
    for (const method of metadata.revocation_endpoint_auth_methods_supported!) {
      const res = await post('/revoke', method, await registered(method), { token: 'pcr_unknown' });
      assert.equal(res.status, 200, method);
    }
  });

  it('SEC-53 every advertised introspection_endpoint_auth_method is accepted at /introspect; unauthenticated callers are not', async () => {
    for (const method of metadata.introspection_endpoint_auth_methods_supported!) {
      const res = await post('/introspect', method, await registered(method), { token: 'pcr_unknown' });
      assert.equal(res.status, 200, method);
      assert.deepEqual(await res.json(), { active: false });
    }
    assert.ok(!metadata.introspection_endpoint_auth_methods_supported!.includes('none'));
    const anonymous = await post('/introspect', 'none', await registered('none'), { token: 'pcr_unknown' });
    assert.equal(anonymous.status, 401);
  });

  it('every advertised grant type reaches its handler; others are unsupported_grant_type', async () => {
    const client = await registered('none');
    for (const grant of metadata.grant_types_supported!) {
      const body = (await (await post('/token', 'none', client, { grant_type: grant })).json()) as { error?: string };
      assert.notEqual(body.error, 'unsupported_grant_type', grant);
    }
    for (const grant of ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code']) {
      const body = (await (await post('/token', 'none', client, { grant_type: grant })).json()) as { error?: string };
      assert.equal(body.error, 'unsupported_grant_type', grant);
    }
  });
});
