import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { POLICY_DENIED_CODE } from '../../src/policy/enforce.ts';
import { ManualClock } from '../../src/util/clock.ts';
import type { StytchRbacPolicy } from '../fixtures/stytch/connected-apps.ts';
import { createStytchB2BFixture, stytchOrganization, type StytchB2BFixture } from '../fixtures/stytch/b2b.ts';
import { createStytchProject } from '../fixtures/stytch/project.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { connectClient, post, toolCallMessage } from '../mcp/wire.ts';
import { parseChallenge } from '../resource/fixtures.ts';

/**
 * Stytch B2B in resource-only mode (`authorizationServer.stytchB2b`, issue 11 part 5): Portcullis's
 * own MCP endpoint trusts organization-scoped tokens of a Stytch B2B project, and its `toolPolicy`
 * checks the organization and Stytch RBAC permissions on every call.
 */

/** Custom scopes named like the server's own, so the built-in task tools' scopes mean something to Stytch too. */
const POLICY: StytchRbacPolicy = {
  roles: [{ role_id: 'stytch_member', description: 'Every member', permissions: [{ resource_id: 'tasks', actions: ['read', 'write'] }] }],
  resources: [{ resource_id: 'tasks', description: 'Tasks', actions: ['read', 'write', 'delete'] }],
  scopes: [
    { scope: 'tasks:read', description: 'See tasks', permissions: [{ resource_id: 'tasks', actions: ['read'] }] },
    { scope: 'tasks:write', description: 'Change tasks', permissions: [{ resource_id: 'tasks', actions: ['read', 'write'] }] },
    { scope: 'tasks:admin', description: 'Remove tasks', permissions: [{ resource_id: 'tasks', actions: ['*'] }] },
  ],
};

describe('resource-only mode with Stytch B2B: organizations and RBAC permissions per tool', () => {
  const clock = new ManualClock(Date.now());
  const acme = stytchOrganization('acme');
  const globex = stytchOrganization('globex');
  let fixture: StytchB2BFixture;
  let t: TestApp;
  before(async () => {
    fixture = await createStytchB2BFixture({ project: createStytchProject('https://tasks-b2b.customers.stytch.dev'), clock, policy: POLICY });
    t = await createTestApp(
      {
        authorizationServer: { issuer: fixture.project.baseUrl, verifier: 'stytch', stytchB2b: true },
        identityProvider: { stytch: { projectId: fixture.project.projectId, secret: fixture.project.secret } },
        toolPolicy: { rules: [{ tools: ['*'], organizations: [acme.organization_id] }, { tools: ['delete_task'], permission: { resource: 'tasks', action: 'delete' } }] },
      },
      { fetch: fixture.fetch },
    );
  });
  after(() => t?.close());

  const bearer = async (organization: typeof acme, scope: string) => ({ Authorization: `Bearer ${await fixture.mintMemberToken(organization, { scope })}` });

  it('allow: an acme member with tasks:admin may delete; tools/list shows it; the keys and policy come from the B2B API', async () => {
    const token = await fixture.mintMemberToken(acme, { scope: 'tasks:write tasks:admin' });
    const { client } = await connectClient(t, token, 'modern');
    assert.ok((await client.listTools()).tools.some((x) => x.name === 'delete_task'));
    const result = await client.callTool({ name: 'delete_task', arguments: { id: 'nothing-here' } });
    assert.match(JSON.stringify(result.content), /You have no task with id nothing-here/, 'the tool itself answered');
    await client.close();
    assert.ok(fixture.requests.includes(`GET /v1/b2b/sessions/jwks/${fixture.project.projectId}`));
    assert.ok(fixture.requests.includes('GET /v1/b2b/rbac/policy'));
  });

  it('deny, step-up: tasks:write alone may not delete; the challenge names the scopes, the narrowest granting one included', async () => {
    const response = await post(t, toolCallMessage('delete_task', { id: 'x' }), await bearer(acme, 'tasks:write'));
    assert.equal(response.status, 403);
    const { params } = parseChallenge(response.headers.get('WWW-Authenticate'));
    assert.equal(params['error'], 'insufficient_scope');
    assert.deepEqual(params['scope']?.split(' ').sort(), ['tasks:admin', 'tasks:write']);
  });

  it('deny, plain: a member of another organization gets a clear MCP error for every tool, and sees none listed', async () => {
    const token = await fixture.mintMemberToken(globex, { scope: 'tasks:write tasks:admin' });
    const { client } = await connectClient(t, token, 'modern');
    assert.deepEqual((await client.listTools()).tools, []);
    await assert.rejects(client.callTool({ name: 'list_tasks', arguments: {} }), (error: { code?: number }) => error.code === POLICY_DENIED_CODE);
    await client.close();
  });

  it('a consumer token (no organization) is refused as invalid: this project is B2B', async () => {
    const response = await post(t, toolCallMessage('whoami'), { Authorization: `Bearer ${await fixture.mintAccessToken({ claims: { scope: 'tasks:read' } })}` });
    assert.equal(response.status, 401);
  });

  it('a permission rule without the Stytch verifier and secret is refused at start, naming what it needs', async () => {
    await assert.rejects(createTestApp({ toolPolicy: { rules: [{ tools: ['x'], permission: { resource: 'tasks', action: 'delete' } }] } }), /toolPolicy\.rules\.0\.permission: .*STYTCH_SECRET/);
  });
});
