import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectiveScopes, missingScopes, parseScope, resourceScopes } from '../../src/resource/scopes.ts';

describe('Scope hierarchy (MCP RS-15)', () => {
  it('RS-15 tasks:write implies tasks:read', () => {
    assert.deepEqual(missingScopes(['tasks:write'], ['tasks:read']), []);
    assert.deepEqual(missingScopes(['tasks:read'], ['tasks:write']), ['tasks:write']);
  });

  it('RS-15 implications apply transitively and never the other way round', () => {
    const rules = { admin: ['write'], write: ['read'] };
    assert.deepEqual([...effectiveScopes(['admin'], rules)].sort(), ['admin', 'read', 'write']);
    assert.deepEqual(missingScopes(['read'], ['read', 'write', 'admin'], rules), ['write', 'admin']);
  });

  it('RFC 6749 §3.3 scope is space-delimited; duplicates and empty items are dropped', () => {
    assert.deepEqual(parseScope('a  b a '), ['a', 'b']);
    assert.deepEqual(parseScope(undefined), []);
  });

  it('RS-16 offline_access is not a resource scope', () => {
    assert.deepEqual(resourceScopes(['tasks:read', 'offline_access', 'openid']), ['tasks:read']);
  });
});
