import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';

const KNOWN = new Set([
  'invalid_request', 'unauthorized_client', 'access_denied', 'unsupported_response_type', 'invalid_scope', 'server_error',
  'temporarily_unavailable', 'invalid_client', 'invalid_grant', 'unsupported_grant_type', 'invalid_token', 'insufficient_scope',
  'invalid_redirect_uri', 'invalid_client_metadata', 'invalid_target', 'rate_limited', 'not_found',
]);
const formPost = (body: string, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
  body,
});

/** Client mistakes of every kind, each answered by an RFC error object and never by a 500. */
const MISTAKES: Array<[string, string, RequestInit]> = [
  ['token: no grant_type', '/token', formPost('')],
  ['token: repeated parameter', '/token', formPost('grant_type=refresh_token&grant_type=refresh_token')],
  ['token: JSON body', '/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"grant_type":"refresh_token"}' }],
  ['token: malformed Basic header', '/token', formPost('grant_type=refresh_token&refresh_token=x', { Authorization: 'Basic %%%not-base64' })],
  ['token: unknown client', '/token', formPost('grant_type=refresh_token&refresh_token=x&client_id=ghost')],
  ['token: refresh without token', '/token', formPost('grant_type=refresh_token&client_id=ghost')],
  ['register: not JSON', '/register', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{nope' }],
  ['register: JSON array', '/register', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '[]' }],
  ['register: redirect_uris not a list', '/register', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"redirect_uris":"http://127.0.0.1/cb"}' }],
  ['register: huge client_name', '/register', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], client_name: 'x'.repeat(100_000) }) }],
  ['revoke: no token', '/revoke', formPost('client_id=ghost')],
  ['introspect: garbage credentials', '/introspect', formPost('token=x', { Authorization: 'Basic Og==' })],
  ['userinfo: garbage bearer', '/userinfo', { headers: { Authorization: 'Bearer not.a.jwt' } }],
  ['mcp: no token', '/mcp', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }],
];

describe('cross-cutting: the error envelope', () => {
  let app: TestApp;
  before(async () => {
    app = await createTestApp();
  });

  for (const [name, path, init] of MISTAKES) {
    it(`RFC 6749 §5.2 ${name}: a 4xx with {error, error_description} and nothing internal`, async () => {
      const response = await app.request(path, init);
      assert.ok(response.status >= 400 && response.status < 500, `${name} answered ${response.status}`);
      assert.match(response.headers.get('Content-Type') ?? '', /application\/json/);
      const body = (await response.json()) as Record<string, unknown>;
      if (path !== '/mcp' || 'error' in body) assert.ok(KNOWN.has(String(body.error)), `unknown error code ${String(body.error)}`);
      assert.equal(typeof body.error_description, 'string');
      assert.doesNotMatch(JSON.stringify(body), /at .+\.ts:\d+|ZodError|SQLITE|stack/i, 'no internal detail leaks');
    });
  }

  it('an unknown exception becomes a generic 500 server_error and a log line, never its message', async () => {
    const broken = await createTestApp();
    broken.storage.clients.get = async () => {
      throw new Error('secret internal detail');
    };
    const response = await broken.request('/token', formPost('grant_type=refresh_token&refresh_token=x&client_id=someone'));
    assert.equal(response.status, 500);
    assert.deepEqual(await response.json(), { error: 'server_error', error_description: 'The server could not complete the request.' });
    assert.ok(broken.logger.lines.some((l) => l.includes('secret internal detail')), 'the detail went to the log');
  });
});
