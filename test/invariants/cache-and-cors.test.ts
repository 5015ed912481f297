import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';

const FOREIGN = 'https://inspector.example';
const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'Content-Type': 'application/json', Origin: FOREIGN }, body: JSON.stringify(body) });
const form = (body: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: FOREIGN },
  body: new URLSearchParams(body),
});

/** Credential responses, success and error alike (SEC-31, RFC 6749 §5.1, RFC 7591 §3.2.1). */
const CREDENTIAL_RESPONSES: Array<[string, string, RequestInit?]> = [
  ['token error', '/token', form({ grant_type: 'authorization_code', code: 'x', client_id: 'nope' })],
  ['token unsupported grant', '/token', form({ grant_type: 'password' })],
  ['register success', '/register', json({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' })],
  ['register error', '/register', json({ redirect_uris: ['http://evil.example/cb'] })],
  ['introspect unauthenticated', '/introspect', form({ token: 'x' })],
  ['userinfo without token', '/userinfo'],
  ['authorize error page', '/authorize?client_id=unknown'],
  ['login page', '/login'],
  ['account page (sign-in redirect)', '/account'],
  ['landing page', '/', { headers: { Accept: 'text/html' } }],
  ['landing JSON', '/'],
];

describe('cross-cutting: caching and CORS on every endpoint', () => {
  let app: TestApp;
  before(async () => {
    app = await createTestApp();
  });

  for (const [name, path, init] of CREDENTIAL_RESPONSES) {
    it(`SEC-31 ${name}: Cache-Control: no-store`, async () => {
      const response = await app.request(path, init);
      assert.match(response.headers.get('Cache-Control') ?? '', /no-store/, `${path} answered ${response.status}`);
    });
  }

  /** SEC-24: metadata, JWKS, token and registration are readable from browser-based clients. */
  const READABLE = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource', '/jwks'];
  for (const path of READABLE) {
    it(`SEC-24 ${path} is CORS-readable and exposes WWW-Authenticate`, async () => {
      const response = await app.request(path, { headers: { Origin: FOREIGN } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('Access-Control-Allow-Origin'), FOREIGN);
      assert.match(response.headers.get('Access-Control-Expose-Headers') ?? '', /WWW-Authenticate/i);
    });
  }

  for (const path of ['/token', '/register', '/revoke']) {
    it(`SEC-24 ${path} answers a CORS preflight`, async () => {
      const response = await app.request(path, { method: 'OPTIONS', headers: { Origin: FOREIGN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } });
      assert.equal(response.status, 204);
      assert.equal(response.headers.get('Access-Control-Allow-Origin'), FOREIGN);
      assert.equal(response.headers.get('Access-Control-Allow-Credentials'), null, 'never with credentials');
    });
  }

  for (const path of ['/authorize?client_id=x', '/login', '/consent', '/account']) {
    it(`SEC-24 ${path} is never CORS-readable`, async () => {
      const response = await app.request(path, { headers: { Origin: FOREIGN } });
      assert.equal(response.headers.get('Access-Control-Allow-Origin'), null);
      const preflight = await app.request(path, { method: 'OPTIONS', headers: { Origin: FOREIGN, 'Access-Control-Request-Method': 'POST' } });
      assert.equal(preflight.headers.get('Access-Control-Allow-Origin'), null);
    });
  }
});
