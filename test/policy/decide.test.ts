import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createToolPolicy } from '../../src/policy/decide.ts';
import { compilePattern } from '../../src/policy/patterns.ts';
import type { PolicyCaller } from '../../src/policy/types.ts';
import type { PermissionPolicy } from '../../src/resource/types.ts';

const caller = (scopes: string[], extra: Partial<PolicyCaller> = {}): PolicyCaller => ({ subject: 'usr_1', scopes, ...extra });
const tool = (name: string) => ({ kind: 'tool' as const, name });

/** A permission source like Stytch RBAC's: read:notes reads, manage:notes does anything. */
const notesPermissions: PermissionPolicy = {
  async scopesGranting({ resourceId, action }) {
    if (resourceId !== 'notes') return [];
    return action === 'read' ? ['read:notes', 'manage:notes'] : ['manage:notes'];
  },
};

describe('tool policy: name patterns', () => {
  it('* matches any run of characters, the rest is literal and the whole name must match', () => {
    assert.equal(compilePattern('tasks_*')('tasks_delete'), true);
    assert.equal(compilePattern('tasks_*')('tasks_'), true);
    assert.equal(compilePattern('tasks_*')('my_tasks_delete'), false);
    assert.equal(compilePattern('*_admin')('user_admin'), true);
    assert.equal(compilePattern('a.b')('axb'), false, 'a dot is literal');
    assert.equal(compilePattern('*')('anything at all'), true);
    assert.equal(compilePattern('exact')('exact'), true);
    assert.equal(compilePattern('exact')('exactly'), false);
  });
});

describe('tool policy: decisions', () => {
  it('no rules: allowed, and the server-declared scopes still apply (step-up naming them)', async () => {
    const policy = createToolPolicy({ declaredScopes: (t) => (t.name === 'create_task' ? ['tasks:write'] : []) });
    assert.deepEqual(await policy.decide(caller([]), tool('whoami')), { effect: 'allow' });
    assert.deepEqual(await policy.decide(caller(['tasks:read']), tool('create_task')), { effect: 'step-up', scopes: ['tasks:write'] });
    assert.deepEqual(await policy.decide(caller(['tasks:write']), tool('create_task')), { effect: 'allow' });
  });

  it('RS-13b a scope rule by wildcard: the step-up names every scope the target needs, from every rule naming it', async () => {
    const policy = createToolPolicy({
      rules: [{ tools: ['delete_*'], scopes: ['admin'] }, { tools: ['*'], scopes: ['mcp'] }],
      declaredScopes: (t) => (t.name === 'delete_task' ? ['tasks:write'] : []),
    });
    assert.deepEqual(await policy.decide(caller(['mcp']), tool('delete_task')), { effect: 'step-up', scopes: ['tasks:write', 'admin', 'mcp'] });
    assert.deepEqual(await policy.decide(caller(['mcp', 'admin', 'tasks:write']), tool('delete_task')), { effect: 'allow' });
    assert.deepEqual(await policy.decide(caller(['mcp']), tool('list_tasks')), { effect: 'allow' });
    assert.deepEqual(policy.scopesFor(tool('delete_task')), ['tasks:write', 'admin', 'mcp'], 'what a 401 asks for');
  });

  it('RS-15 the scope hierarchy counts: a broader scope satisfies a narrower one', async () => {
    const policy = createToolPolicy({ rules: [{ tools: ['list_tasks'], scopes: ['tasks:read'] }], scopeImplications: { 'tasks:write': ['tasks:read'] } });
    assert.deepEqual(await policy.decide(caller(['tasks:write']), tool('list_tasks')), { effect: 'allow' });
  });

  it('a group rule: members pass, others are denied outright even with every scope (no scope would help)', async () => {
    const policy = createToolPolicy({ rules: [{ tools: ['admin_*'], groups: ['admins', 'ops'], scopes: ['tasks:write'] }] });
    assert.equal(policy.usesGroups, true);
    assert.deepEqual(await policy.decide(caller(['tasks:write'], { groups: ['ops'] }), tool('admin_reset')), { effect: 'allow' });
    assert.deepEqual(await policy.decide(caller([], { groups: ['ops'] }), tool('admin_reset')), { effect: 'step-up', scopes: ['tasks:write'] });
    const outsider = await policy.decide(caller(['tasks:write'], { groups: ['staff'] }), tool('admin_reset'));
    assert.equal(outsider.effect, 'deny');
    assert.equal((await policy.decide(caller(['tasks:write']), tool('admin_reset'))).effect, 'deny', 'no groups at all');
  });

  it('an organization rule (Stytch B2B): only tokens scoped to a listed organization pass', async () => {
    const policy = createToolPolicy({ rules: [{ tools: ['billing'], organizations: ['organization-test-a'] }] });
    assert.deepEqual(await policy.decide(caller([], { organizationId: 'organization-test-a' }), tool('billing')), { effect: 'allow' });
    assert.equal((await policy.decide(caller([], { organizationId: 'organization-test-b' }), tool('billing'))).effect, 'deny');
    assert.equal((await policy.decide(caller([]), tool('billing'))).effect, 'deny');
  });

  it('a permission rule decides as authorization_check: a token scope granting it passes; else the narrowest granting scope; none at all: deny', async () => {
    const policy = createToolPolicy({
      rules: [{ tools: ['read_note'], permission: { resource: 'notes', action: 'read' } }, { tools: ['delete_note'], permission: { resource: 'notes', action: 'delete' } }, { tools: ['fly'], permission: { resource: 'planes', action: 'fly' } }],
      permissions: notesPermissions,
    });
    assert.deepEqual(await policy.decide(caller(['read:notes']), tool('read_note')), { effect: 'allow' });
    assert.deepEqual(await policy.decide(caller(['manage:notes']), tool('delete_note')), { effect: 'allow' });
    assert.deepEqual(await policy.decide(caller(['read:notes']), tool('delete_note')), { effect: 'step-up', scopes: ['manage:notes'] });
    assert.deepEqual(await policy.decide(caller([]), tool('read_note')), { effect: 'step-up', scopes: ['read:notes'] });
    assert.equal((await policy.decide(caller(['manage:notes']), tool('fly'))).effect, 'deny');
  });

  it('a permission rule without a permission source is a configuration error at start, not a failure per call', () => {
    assert.throws(() => createToolPolicy({ rules: [{ tools: ['x'], permission: { resource: 'r', action: 'a' } }] }), /permission source/);
  });

  it('default deny: a target no rule names is denied; rules for resources and prompts apply to those kinds only', async () => {
    const policy = createToolPolicy({ defaultEffect: 'deny', rules: [{ tools: ['whoami'] }, { resources: ['file:///public/*'] }, { prompts: ['greet'], scopes: ['chat'] }] });
    assert.deepEqual(await policy.decide(caller([]), tool('whoami')), { effect: 'allow' });
    assert.equal((await policy.decide(caller([]), tool('list_tasks'))).effect, 'deny');
    assert.deepEqual(await policy.decide(caller([]), { kind: 'resource', name: 'file:///public/a.txt' }), { effect: 'allow' });
    assert.equal((await policy.decide(caller([]), { kind: 'resource', name: 'file:///secret/a.txt' })).effect, 'deny');
    assert.deepEqual(await policy.decide(caller([]), { kind: 'prompt', name: 'greet' }), { effect: 'step-up', scopes: ['chat'] });
    assert.equal((await policy.decide(caller([]), { kind: 'tool', name: 'greet' })).effect, 'deny', 'a prompt rule does not name a tool');
  });
});

describe('tool policy: public targets (issue 14 part 6)', () => {
  const policy = createToolPolicy({
    defaultEffect: 'deny',
    public: { tools: ['search_*'], resources: ['file:///docs/*'], prompts: ['hello'] },
    rules: [{ tools: ['search_private', 'write_*'], scopes: ['write'] }],
    declaredScopes: (t) => (t.name === 'search_all' ? ['read'] : []),
  });

  it('a public target is allowed to anyone: rules, declared scopes and default deny do not apply to it', async () => {
    assert.equal(policy.hasPublic, true);
    assert.deepEqual(await policy.decide(caller([]), tool('search_private')), { effect: 'allow' });
    assert.deepEqual(await policy.decide(caller([]), tool('search_all')), { effect: 'allow' });
    assert.deepEqual(await policy.decide(caller([]), { kind: 'resource', name: 'file:///docs/a.md' }), { effect: 'allow' });
    assert.deepEqual(await policy.decide(caller([]), { kind: 'prompt', name: 'hello' }), { effect: 'allow' });
    assert.deepEqual(await policy.decide(caller([]), tool('write_note')), { effect: 'step-up', scopes: ['write'] }, 'the rest as before');
    assert.equal(policy.isPublic({ kind: 'tool', name: 'hello' }), false, 'a public prompt does not make a tool of that name public');
  });

  it('what a caller without a token is shown: public targets and what some signed-in caller could use, not what default deny shuts for everyone', () => {
    assert.equal(policy.isReachable(tool('search_x')), true);
    assert.equal(policy.isReachable(tool('write_note')), true);
    assert.equal(policy.isReachable(tool('list_tasks')), false);
  });

  it('a resource URI with a dot segment (plain or %2e, any case) is never public and no rule allows it; look-alike names are decided as ever', async () => {
    const open = createToolPolicy({ public: { resources: ['file:///docs/*'] }, rules: [{ resources: ['file:///team/*'], scopes: ['read'] }] });
    const resource = (name: string) => ({ kind: 'resource' as const, name });
    for (const name of [
      'file:///docs/../etc/passwd',
      'file:///docs/./a.md',
      'file:///docs/..',
      'file:///docs/.',
      'file:///docs/%2e%2e/etc/passwd',
      'file:///docs/%2E%2e/etc/passwd',
      'file:///docs/.%2E/etc/passwd',
      'file:///docs/%2e/a.md',
      'file:///docs/..\\etc\\passwd',
      'file:///docs/..?x=1',
      'file:///team/../docs/a.md',
    ]) {
      assert.equal(open.isPublic(resource(name)), false, name);
      assert.equal(open.isReachable(resource(name)), false, name);
      assert.equal((await open.decide(caller(['read']), resource(name))).effect, 'deny', name);
    }
    for (const name of ['file:///docs/..hidden', 'file:///docs/a..b.md', 'file:///docs/.well-known', 'file:///docs/%2e%2ex']) {
      assert.equal(open.isPublic(resource(name)), true, name);
    }
    assert.equal(open.isPublic(tool('../x')), false, 'tools have names, not paths: only the patterns decide');
    assert.deepEqual(await createToolPolicy({ public: { tools: ['*'] } }).decide(caller([]), tool('a/../b')), { effect: 'allow' });
  });

  it('nothing public by default', () => {
    const none = createToolPolicy({ rules: [{ tools: ['*'], scopes: ['read'] }] });
    assert.equal(none.hasPublic, false);
    assert.equal(none.isPublic(tool('anything')), false);
  });
});
