import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { checkClientIdUrl } from '../../src/authorization/clients/client-id-url.ts';
import { clientFromDocument } from '../../src/authorization/clients/metadata-document.ts';
import { OAuthError } from '../../src/errors/oauth-error.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { clientDocument } from './document-server.ts';

const URL_ID = 'https://app.example.com/oauth/client.json';
const EC_PUBLIC = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' };

let app: TestApp;
before(async () => {
  app = await createTestApp();
});

const refused = (document: unknown, message: RegExp) =>
  assert.throws(() => clientFromDocument(app.ctx, URL_ID, document), (e: unknown) => e instanceof OAuthError && e.code === 'invalid_client' && message.test(e.description));

describe('CL-09 / SEC-30: what a metadata document becomes', () => {
  it('a public client (`none` by default), source cimd, no secret, the document URL as its id', () => {
    const client = clientFromDocument(app.ctx, URL_ID, clientDocument(URL_ID, { token_endpoint_auth_method: undefined }));
    assert.equal(client.clientId, URL_ID);
    assert.equal(client.source, 'cimd');
    assert.equal(client.tokenEndpointAuthMethod, 'none');
    assert.equal(client.secretHash, null);
    assert.deepEqual(client.redirectUris, ['http://127.0.0.1:8765/callback']);
  });

  it('private_key_jwt with an inline JWK Set or a jwks_uri: the keys are carried for client authentication', () => {
    const inline = clientFromDocument(app.ctx, URL_ID, clientDocument(URL_ID, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [EC_PUBLIC] } }));
    assert.equal(inline.tokenEndpointAuthMethod, 'private_key_jwt');
    assert.deepEqual(inline.jwks, { keys: [EC_PUBLIC] });
    const byUrl = clientFromDocument(app.ctx, URL_ID, clientDocument(URL_ID, { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example.com/jwks.json' }));
    assert.equal(byUrl.jwksUri, 'https://app.example.com/jwks.json');
  });

  it('refuses private or symmetric keys, both jwks and jwks_uri, an http jwks_uri, client_secret_basic', () => {
    refused(clientDocument(URL_ID, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...EC_PUBLIC, d: 'secret' }] } }), /only public EC, RSA or OKP keys/);
    refused(clientDocument(URL_ID, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }), /only public EC, RSA or OKP keys/);
    refused(clientDocument(URL_ID, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [] } }), /non-empty keys array/);
    refused(clientDocument(URL_ID, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [EC_PUBLIC] }, jwks_uri: 'https://app.example.com/jwks.json' }), /not both/);
    refused(clientDocument(URL_ID, { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://app.example.com/jwks.json' }), /jwks_uri must be an https URL/);
    refused(clientDocument(URL_ID, { token_endpoint_auth_method: 'client_secret_basic' }), /must be none or private_key_jwt/);
    refused(clientDocument(URL_ID, { client_name: 'Evil\u202Eexe.txt' }), /control or text-direction/);
  });

  it('SEC-29: the keys are judged by the registration rules, so the test-only private-network setting allows an http jwks_uri as it does for /register', async () => {
    const permissive = await createTestApp({ dangerouslyAllowPrivateNetworkFetches: true });
    const jwksUri = 'http://127.0.0.1:8080/jwks.json';
    const client = clientFromDocument(permissive.ctx, URL_ID, clientDocument(URL_ID, { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: jwksUri }));
    assert.equal(client.jwksUri, jwksUri);
    assert.equal(client.jwks, null);
    refused(clientDocument(URL_ID, { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: jwksUri }), /jwks_uri must be an https URL/);
  });
});

describe('SEC-51: which client_ids are metadata document URLs', () => {
  it('https with a path (a query is allowed, as the draft does)', () => {
    assert.equal(checkClientIdUrl('https://app.example.com/c.json', false).ok, true);
    assert.equal(checkClientIdUrl('https://app.example.com/c?v=2', false).ok, true);
  });
  it('opaque ids and http URLs are not documents (http only with the test-only setting)', () => {
    assert.deepEqual(checkClientIdUrl('cl_abc', false), { ok: false, notAUrl: true });
    assert.deepEqual(checkClientIdUrl('http://app.example.com/c.json', false), { ok: false, notAUrl: true });
    assert.equal(checkClientIdUrl('http://127.0.0.1:9/c.json', true).ok, true);
  });
  it('refuses fragments, userinfo, dot segments (plain or encoded) and a bare origin', () => {
    for (const bad of ['https://a.example/c#f', 'https://u@a.example/c', 'https://a.example/./c', 'https://a.example/x/../c', 'https://a.example/%2E%2e/c', 'https://a.example', 'https://a.example/']) {
      const check = checkClientIdUrl(bad, false);
      assert.ok(!check.ok && 'error' in check, bad);
    }
  });
});
