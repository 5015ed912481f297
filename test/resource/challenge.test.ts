import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerChallengeHeader, bearerChallengeResponse, quoteHeaderValue } from '../../src/resource/challenge.ts';
import { parseChallenge } from './fixtures.ts';

const PRM = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';

describe('Bearer challenges (RFC 6750 §3, RFC 9728 §5.1)', () => {
  it('RFC 7230 §3.2.6 quoted-string escapes quotes and backslashes and drops control characters', () => {
    assert.equal(quoteHeaderValue('plain'), '"plain"');
    assert.equal(quoteHeaderValue('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"');
    assert.equal(quoteHeaderValue('a\r\nSet-Cookie: x=1'), '"aSet-Cookie: x=1"');
  });

  it('RFC 6750 §3.1 a request without credentials gets resource_metadata and scope but no error attribute', () => {
    const header = bearerChallengeHeader({ scopes: ['tasks:read'], resourceMetadata: PRM, errorDescription: 'ignored without an error' });
    const { scheme, params } = parseChallenge(header);
    assert.equal(scheme, 'Bearer');
    assert.deepEqual(params, { scope: 'tasks:read', resource_metadata: PRM });
  });

  it('RS-12 insufficient_scope names every scope, space-separated, in one challenge', () => {
    const header = bearerChallengeHeader({ error: 'insufficient_scope', errorDescription: 'needs "more"', scopes: ['tasks:write', 'notes:read'], resourceMetadata: PRM });
    assert.deepEqual(parseChallenge(header).params, {
      error: 'insufficient_scope',
      error_description: 'needs "more"',
      scope: 'tasks:write notes:read',
      resource_metadata: PRM,
    });
  });

  it('RS-16 offline_access never appears in a challenge scope', () => {
    const header = bearerChallengeHeader({ scopes: ['offline_access', 'tasks:read'], resourceMetadata: PRM });
    assert.equal(parseChallenge(header).params['scope'], 'tasks:read');
    assert.ok(!header.includes('offline_access'));
  });

  it('RFC 6750 §3.1 statuses: 401 without credentials and for invalid_token, 403 for insufficient_scope; never cached', async () => {
    const none = bearerChallengeResponse({ resourceMetadata: PRM });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('Cache-Control'), 'no-store');
    assert.equal(((await none.json()) as { error?: string }).error, undefined);
    const invalid = bearerChallengeResponse({ error: 'invalid_token', errorDescription: 'nope', resourceMetadata: PRM });
    assert.equal(invalid.status, 401);
    assert.deepEqual(await invalid.json(), { error: 'invalid_token', error_description: 'nope' });
    const scope = bearerChallengeResponse({ error: 'insufficient_scope', errorDescription: 'more', scopes: ['a'], resourceMetadata: PRM });
    assert.equal(scope.status, 403);
    assert.deepEqual(await scope.json(), { error: 'insufficient_scope', error_description: 'more' });
  });
});
