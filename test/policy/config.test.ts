import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigInput } from '../../src/config/env.ts';
import { resolveConfig } from '../../src/config/resolve.ts';

const base = { publicUrl: 'http://localhost:3000', database: ':memory:' };

describe('toolPolicy settings', () => {
  it('defaults: no rules, allow, lists filtered, groups from the `groups` claim', () => {
    assert.deepEqual(resolveConfig(base).toolPolicy, { rules: [], public: {}, default: 'allow', filterLists: true, groupsClaim: 'groups' });
  });

  it('environment variables land in their settings', () => {
    const input = loadConfigInput({ PORTCULLIS_TOOL_POLICY_DEFAULT: 'deny', PORTCULLIS_TOOL_POLICY_FILTER_LISTS: 'off', PORTCULLIS_GROUPS_CLAIM: 'roles' }, '');
    assert.deepEqual(resolveConfig({ ...base, ...input }).toolPolicy, { rules: [], public: {}, default: 'deny', filterLists: false, groupsClaim: 'roles' });
    assert.equal(resolveConfig({ ...base, ...loadConfigInput({ PORTCULLIS_GROUPS_CLAIM: 'none' }, '') }).toolPolicy.groupsClaim, false);
    const b2b = loadConfigInput({ STYTCH_PROJECT_ID: 'project-test-11111111-2222-3333-4444-555555555555', STYTCH_DOMAIN: 'https://x.customers.stytch.dev', PORTCULLIS_STYTCH_B2B: 'true' }, '');
    assert.equal(resolveConfig({ ...base, ...b2b }).authorizationServer?.stytchB2b, true);
  });

  it('bad rules are refused at start, naming the setting', () => {
    const bad = (rules: unknown[], pattern: RegExp) => assert.throws(() => resolveConfig({ ...base, toolPolicy: { rules: rules as never } }), pattern);
    bad([{ scopes: ['tasks:read'] }], /toolPolicy\.rules\.0.*names tools, resources or prompts/);
    bad([{ tools: ['x'] }], /toolPolicy\.rules\.0.*requires scopes, groups, organizations or a permission/);
    bad([{ tools: ['x'], scope: ['tasks:read'] }], /toolPolicy\.rules\.0/);
    bad([{ tools: ['x'], scopes: ['tasks:admin'] }], /toolPolicy\.rules\.0\.scopes: tasks:admin is not one of the declared scopes/);
    assert.throws(() => resolveConfig({ ...base, toolPolicy: { default: 'maybe' as 'allow' } }), /toolPolicy\.default/);
    assert.throws(() => resolveConfig({ ...base, authorizationServer: { issuer: 'https://as.example', stytchB2b: true } }), /authorizationServer\.stytchB2b: only used by the stytch verifier/);
  });
});
