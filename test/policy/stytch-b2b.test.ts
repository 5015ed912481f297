import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createAdaptorServer } from '@hono/node-server';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { Hono } from 'hono';
import { honoAuth, honoMetadata } from '../../src/adapters/hono.ts';
import { POLICY_DENIED_CODE } from '../../src/policy/enforce.ts';
import { createMcpPolicy } from '../../src/policy/mcp-policy.ts';
import type { PolicyRule } from '../../src/policy/types.ts';
import { createResourceServer } from '../../src/resource/resource-server.ts';
import type { Principal } from '../../src/resource/types.ts';
import { createStytchVerifier } from '../../src/resource/verifiers/stytch.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { createStytchB2BFixture, stytchOrganization, type StytchB2BFixture } from '../fixtures/stytch/b2b.ts';
import { createStytchProject } from '../fixtures/stytch/project.ts';
import { parseChallenge } from '../resource/fixtures.ts';

/**
 * Stytch B2B per-tool permissions (issue 11 part 5), as in Stytch's B2B MCP example (an OKR
 * manager): every tool call is checked like the B2B `authorization_check` (organization, resource,
 * action), here by the tool policy's `permission` rules over the project's RBAC policy, before the
 * tool runs. An OKR server (MCP SDK v2) behind `honoAuth` on a loopback socket; the official MCP
 * SDK client; tokens and policy from the B2B fixture.
 */

const RULES: PolicyRule[] = [
  { tools: ['list_objectives'], permission: { resource: 'objective', action: 'read' } },
  { tools: ['add_objective'], permission: { resource: 'objective', action: 'create' } },
  { tools: ['delete_objective'], permission: { resource: 'objective', action: 'delete' } },
  { tools: ['set_key_result_attainment'], permission: { resource: 'key_result', action: 'update' } },
  // No scope of the project grants anything on `billing`: nobody can be given this tool by consent.
  { tools: ['export_invoices'], permission: { resource: 'billing', action: 'export' } },
];

describe('Stytch B2B: per-tool permissions on every call (authorization_check), official SDK client', () => {
  const clock = new ManualClock(Date.now());
  const project = createStytchProject('https://okr-manager.customers.stytch.dev');
  const acme = stytchOrganization('acme');
  const ran: string[] = [];
  let fixture: StytchB2BFixture;
  let server: Server;
  let mcpUrl: string;

  function serve(secret: string): Promise<string> {
    const rs = createResourceServer({
      resource: 'http://127.0.0.1/mcp',
      authorizationServers: [project.baseUrl],
      verifier: createStytchVerifier({ projectId: project.projectId, projectDomain: project.baseUrl, secret, b2b: true, fetch: fixture.fetch, clock }),
    });
    const toolPolicy = createMcpPolicy(rs, { rules: RULES });
    const mcp = createMcpHandler(() => {
      const okr = new McpServer({ name: 'okr-manager', version: '1.0.0' });
      for (const name of ['list_objectives', 'add_objective', 'delete_objective', 'set_key_result_attainment', 'export_invoices']) {
        okr.registerTool(name, { description: name }, (ctx) => {
          const organization = (ctx.http?.authInfo as Principal).claims['https://stytch.com/organization'] as { slug: string };
          ran.push(name);
          return { content: [{ type: 'text', text: `${name} for ${organization.slug}` }] };
        });
      }
      return okr;
    });
    const app = new Hono();
    app.use(honoMetadata(rs));
    app.all('/mcp', honoAuth(rs, { toolPolicy }), (c) => mcp.fetch(c.req.raw, { authInfo: c.get('auth') }));
    server = createAdaptorServer({ fetch: app.fetch }) as Server;
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`)));
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  before(async () => {
    fixture = await createStytchB2BFixture({ project, clock });
    mcpUrl = await serve(project.secret);
  });
  after(stop);

  const connect = async (scope: string) => {
    const token = await fixture.mintMemberToken(acme, { scope });
    const client = new Client({ name: 'okr-test', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    return { client, token };
  };
  const raw = (token: string, name: string) =>
    fetch(mcpUrl, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } }),
    });

  it('allow: a member whose token has read:okrs lists objectives; tools/list shows only what its scopes permit', async () => {
    const { client } = await connect('openid read:okrs');
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['list_objectives']);
    assert.deepEqual((await client.callTool({ name: 'list_objectives', arguments: {} })).content, [{ type: 'text', text: 'list_objectives for acme' }]);
    const { client: admin } = await connect('admin:okrs');
    assert.deepEqual((await admin.listTools()).tools.map((t) => t.name), ['list_objectives', 'add_objective', 'delete_objective', 'set_key_result_attainment']);
    assert.deepEqual((await admin.callTool({ name: 'delete_objective', arguments: {} })).content, [{ type: 'text', text: 'delete_objective for acme' }]);
    await client.close();
    await admin.close();
  });

  it('deny, step-up: read:okrs may not add an objective, write:okrs may not delete one; 403 insufficient_scope names the narrowest scope that may', async () => {
    ran.length = 0;
    const { client, token } = await connect('read:okrs');
    await assert.rejects(client.callTool({ name: 'add_objective', arguments: {} }));
    const refused = await raw(token, 'add_objective');
    assert.equal(refused.status, 403);
    const { params } = parseChallenge(refused.headers.get('WWW-Authenticate'));
    assert.equal(params['error'], 'insufficient_scope');
    assert.equal(params['scope'], 'write:okrs', 'write:okrs grants objective:create and is narrower than admin:okrs');
    const writer = await raw(await fixture.mintMemberToken(acme, { scope: 'write:okrs' }), 'delete_objective');
    assert.equal(writer.status, 403);
    assert.equal(parseChallenge(writer.headers.get('WWW-Authenticate')).params['scope'], 'admin:okrs');
    assert.deepEqual(ran, [], 'no refused tool ran');
    await client.close();
  });

  it('deny, plain: a permission no scope grants is a clear MCP error (not a 403, not a 500) and the tool never runs', async () => {
    ran.length = 0;
    const { client, token } = await connect('admin:okrs');
    await assert.rejects(client.callTool({ name: 'export_invoices', arguments: {} }), (error: { code?: number }) => error.code === POLICY_DENIED_CODE);
    const refused = await raw(token, 'export_invoices');
    assert.equal(refused.status, 200);
    assert.equal((await refused.json()).error.code, POLICY_DENIED_CODE);
    assert.deepEqual(ran, []);
    await client.close();
  });

  it('a consumer token (no organization) is not a B2B token: 401, before any tool', async () => {
    const response = await raw(await fixture.mintAccessToken({ claims: { scope: 'admin:okrs' } }), 'list_objectives');
    assert.equal(response.status, 401);
    assert.equal(parseChallenge(response.headers.get('WWW-Authenticate')).params['error'], 'invalid_token');
  });

  it('the RBAC policy cannot be read (a wrong project secret): 503 to retry, never a 500, and no tool runs', async () => {
    await stop();
    mcpUrl = await serve('secret-test-wrong');
    ran.length = 0;
    const response = await raw(await fixture.mintMemberToken(acme, { scope: 'admin:okrs' }), 'list_objectives');
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('Retry-After'), '5');
    assert.deepEqual(ran, []);
  });
});
