import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractAccessToken } from '../../src/resource/bearer.ts';

const req = (headers: Record<string, string> = {}, url = 'http://localhost:3000/mcp') => new Request(url, { headers });

describe('Bearer token extraction (RFC 6750 §2, OAuth 2.1 §5.1)', () => {
  it('RFC 6750 §2.1 reads the token from the Authorization header', () => {
    assert.deepEqual(extractAccessToken(req({ Authorization: 'Bearer abc.DEF-_~+/=' })), { kind: 'token', scheme: 'Bearer', token: 'abc.DEF-_~+/=' });
  });

  it('RFC 7235 §2.1 the scheme is case-insensitive: lowercase bearer is accepted', () => {
    assert.deepEqual(extractAccessToken(req({ Authorization: 'bearer abc' })), { kind: 'token', scheme: 'Bearer', token: 'abc' });
    assert.deepEqual(extractAccessToken(req({ Authorization: 'BEARER abc' })), { kind: 'token', scheme: 'Bearer', token: 'abc' });
  });

  it('RS-21 a token in the query string is ignored', () => {
    assert.deepEqual(extractAccessToken(req({}, 'http://localhost:3000/mcp?access_token=abc')), { kind: 'none' });
  });

  it('another scheme (Basic) counts as no bearer token', () => {
    assert.deepEqual(extractAccessToken(req({ Authorization: 'Basic dXNlcjpwYXNz' })), { kind: 'none' });
  });

  it('Bearer without a well-formed token68 is malformed', () => {
    assert.deepEqual(extractAccessToken(req({ Authorization: 'Bearer' })), { kind: 'malformed', scheme: 'Bearer' });
    assert.deepEqual(extractAccessToken(req({ Authorization: 'Bearer a b' })), { kind: 'malformed', scheme: 'Bearer' });
    assert.deepEqual(extractAccessToken(req({ Authorization: 'Bearer a,Bearer b' })), { kind: 'malformed', scheme: 'Bearer' });
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
});
