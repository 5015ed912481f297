import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redirectHost } from '../../src/authorization/endpoints/consent.ts';
import { RequestParams } from '../../src/authorization/authorize/params.ts';
import { checkPrompt, parsePrompt } from '../../src/authorization/authorize/prompt.ts';
import { withQuery } from '../../src/authorization/authorize/redirect.ts';
import { canonicalResource } from '../../src/authorization/authorize/resource.ts';
import { describeScopes } from '../../src/authorization/authorize/scope-descriptions.ts';
import { parseScope } from '../../src/resource/scopes.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { sessionCsrfToken, verifySessionCsrf } from '../../src/identity/csrf.ts';
import { readCookie, serializeCookie } from '../../src/identity/cookies.ts';
import type { LoginSessionRecord } from '../../src/storage/types.ts';

describe('authorization request parts', () => {
  it('SEC-27 parameters: empty means absent, a repeat is refused, resource may repeat', () => {
    const params = new RequestParams(new URLSearchParams('scope=&state=a&state=b&resource=x&resource=y&nonce=n'));
    assert.equal(params.one('scope'), undefined);
    assert.equal(params.one('nonce'), 'n');
    assert.throws(() => params.one('state'), { code: 'invalid_request' });
    assert.deepEqual(params.all('resource'), ['x', 'y']);
    assert.deepEqual(params.repeated(['resource']), ['state']);
  });

  it('OAuth 2.1 §4.1.2 response parameters are appended to the redirect URI without re-serialising it', () => {
    assert.equal(withQuery('http://127.0.0.1:1/cb', { code: 'c', state: null, iss: 'http://x' }), 'http://127.0.0.1:1/cb?code=c&iss=http%3A%2F%2Fx');
    assert.equal(withQuery('https://a.example/cb?t=a%20b', { code: 'c' }), 'https://a.example/cb?t=a%20b&code=c');
    assert.equal(withQuery('https://a.example/cb?', { code: 'c' }), 'https://a.example/cb?code=c');
    assert.equal(withQuery('cursor://anysphere.cursor-retrieval/cb', { state: 'a b&c' }), 'cursor://anysphere.cursor-retrieval/cb?state=a+b%26c');
  });

  it('RS-20 resources are compared in canonical form', () => {
    assert.equal(canonicalResource('HTTPS://MCP.Example.COM:443/mcp/'), 'https://mcp.example.com/mcp');
    assert.equal(canonicalResource('https://mcp.example.com/'), 'https://mcp.example.com/');
    assert.equal(canonicalResource('https://mcp.example.com/mcp#x'), null);
    assert.equal(canonicalResource('mcp'), null);
    assert.notEqual(canonicalResource('https://mcp.example.com/MCP'), canonicalResource('https://mcp.example.com/mcp'), 'the path stays case-sensitive');
  });

  it('RFC 6749 §3.3 scope strings split on spaces, duplicates dropped', () => {
    assert.deepEqual(parseScope(' a  b a '), ['a', 'b']);
  });

  it('OIDC Core §3.1.2.1 prompt values', () => {
    assert.deepEqual(parsePrompt('login consent'), { none: false, login: true, consent: true, selectAccount: false });
    assert.deepEqual(parsePrompt('select_account'), { none: false, login: false, consent: false, selectAccount: true });
    assert.deepEqual(parsePrompt(null), { none: false, login: false, consent: false, selectAccount: false });
    assert.equal(checkPrompt(new RequestParams(new URLSearchParams('prompt=consent+login+consent'))), 'consent login');
    assert.equal(checkPrompt(new RequestParams(new URLSearchParams('prompt=select_account'))), 'select_account');
  });

  it('AS-17 HARD-5 the destination shown on the consent page: the host, with the scheme for every non-https one', () => {
    assert.equal(redirectHost('http://127.0.0.1:33418/callback'), 'http://127.0.0.1:33418');
    assert.equal(redirectHost('https://app.example.com/oauth?x=1'), 'app.example.com');
    assert.equal(redirectHost('vscode://vscode.github-authentication/did-authenticate'), 'vscode://vscode.github-authentication');
    assert.equal(redirectHost('web+x://claude.ai/cb'), 'web+x://claude.ai');
    assert.equal(redirectHost('com.example.app:/oauth2redirect'), 'com.example.app:');
  });

  it('scope descriptions: configured ones, then the built-in offline_access and openid', () => {
    const config = resolveConfig({ scopes: [{ name: 'notes:read', description: 'Read your notes' }], defaultScopes: ['notes:read'] });
    assert.deepEqual(describeScopes(config, ['notes:read', 'offline_access', 'openid']), [
      { name: 'notes:read', description: 'Read your notes' },
      { name: 'offline_access', description: 'Stay connected when you are not using it (refresh tokens)' },
      { name: 'openid', description: 'Know your username' },
    ]);
  });
});

describe('identity parts', () => {
  const session: LoginSessionRecord = { idHash: 'h', userId: 'u', csrfSecret: 's'.repeat(43), createdAt: 0, expiresAt: 1 };

  it('session CSRF tokens are bound to the purpose and the request', () => {
    const token = sessionCsrfToken(session, 'consent', 'req1');
    assert.ok(verifySessionCsrf(session, 'consent', 'req1', token));
    assert.ok(!verifySessionCsrf(session, 'consent', 'req2', token));
    assert.ok(!verifySessionCsrf(session, 'logout', 'req1', token));
    assert.ok(!verifySessionCsrf({ ...session, csrfSecret: 't'.repeat(43) }, 'consent', 'req1', token));
    assert.ok(!verifySessionCsrf(session, 'consent', 'req1', undefined));
    assert.ok(!token.includes(session.csrfSecret));
  });

  it('cookies: attributes, and reading one cookie among several', () => {
    assert.equal(serializeCookie('__Host-a', 'v', { secure: true, maxAgeSeconds: 60 }), '__Host-a=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure');
    const request = new Request('http://x/', { headers: { Cookie: 'x=1; portcullis_session=abc; y=2' } });
    assert.equal(readCookie(request, 'portcullis_session'), 'abc');
    assert.equal(readCookie(request, 'session'), undefined);
  });
});
