import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractAccessToken, extractBearer } from '../../src/resource/bearer.ts';

const req = (headers: Record<string, string> = {}, url = 'http://localhost:3000/mcp') => new Request(url, { headers });

describe('Bearer token extraction (RFC 6750 §2, OAuth 2.1 §5.1)', () => {
  it('RFC 6750 §2.1 reads the token from the Authorization header', () => {
    assert.deepEqual(extractBearer(req({ Authorization: 'Bearer abc.DEF-_~+/=' })), { kind: 'bearer', token: 'abc.DEF-_~+/=' });
  });

  it('RFC 7235 §2.1 the scheme is case-insensitive: lowercase bearer is accepted', () => {
    assert.deepEqual(extractBearer(req({ Authorization: 'bearer abc' })), { kind: 'bearer', token: 'abc' });
    assert.deepEqual(extractBearer(req({ Authorization: 'BEARER abc' })), { kind: 'bearer', token: 'abc' });
  });

  it('RS-21 a token in the query string is ignored', () => {
    assert.deepEqual(extractBearer(req({}, 'http://localhost:3000/mcp?access_token=abc')), { kind: 'none' });
  });

  it('another scheme (Basic) counts as no bearer token', () => {
    assert.deepEqual(extractBearer(req({ Authorization: 'Basic dXNlcjpwYXNz' })), { kind: 'none' });
  });

  it('Bearer without a well-formed token68 is malformed', () => {
    assert.deepEqual(extractBearer(req({ Authorization: 'Bearer' })), { kind: 'malformed' });
    assert.deepEqual(extractBearer(req({ Authorization: 'Bearer a b' })), { kind: 'malformed' });
    assert.deepEqual(extractBearer(req({ Authorization: 'Bearer a,Bearer b' })), { kind: 'malformed' });
  });
});

describe('Access token extraction with its scheme (RFC 6750 §2.1, RFC 9449 §7.1)', () => {
  it('RFC 9449 §7.1 reads a DPoP token and says so; the scheme is case-insensitive', () => {
    assert.deepEqual(extractAccessToken(req({ Authorization: 'DPoP abc' })), { kind: 'token', scheme: 'DPoP', token: 'abc' });
    assert.deepEqual(extractAccessToken(req({ Authorization: 'dpop abc' })), { kind: 'token', scheme: 'DPoP', token: 'abc' });
    assert.deepEqual(extractAccessToken(req({ Authorization: 'Bearer abc' })), { kind: 'token', scheme: 'Bearer', token: 'abc' });
    assert.deepEqual(extractAccessToken(req({ Authorization: 'DPoP a b' })), { kind: 'malformed', scheme: 'DPoP' });
    assert.deepEqual(extractAccessToken(req({ Authorization: 'Basic dXNlcjpwYXNz' })), { kind: 'none' });
  });

  it('bearer-only endpoints (userinfo) see no bearer token in a DPoP credential', () => {
    assert.deepEqual(extractBearer(req({ Authorization: 'DPoP abc' })), { kind: 'none' });
  });
});
