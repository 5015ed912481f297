import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createAdaptorServer } from '@hono/node-server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import express from 'express';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { Hono } from 'hono';
import { honoAuth, honoMetadata } from '../../src/adapters/hono.ts';
import { withMcpAuth } from '../../src/adapters/fetch.ts';
import { expressAuth, expressToolPolicy } from '../../src/adapters/express.ts';
import { POLICY_DENIED_CODE } from '../../src/policy/enforce.ts';
import { createMcpPolicy } from '../../src/policy/mcp-policy.ts';
import { createResourceServer } from '../../src/resource/resource-server.ts';
import type { Principal } from '../../src/resource/types.ts';
import { parseChallenge } from '../resource/fixtures.ts';
import { createTestIssuer, type TestIssuer } from '../resource/test-issuer.ts';

/**
 * The library's tool policy on a library user's own MCP server (MCP SDK v2 server behind
 * `honoAuth`, `withMcpAuth`, and Express with `expressToolPolicy`), on a loopback socket, called by
 * the official MCP SDK client.
 */

const PRM_URL = 'http://127.0.0.1/.well-known/oauth-protected-resource/mcp';

/** How often each tool actually ran: a refused call must leave it unchanged. */
const runs = new Map<string, number>();
const ran = (name: string) => runs.set(name, (runs.get(name) ?? 0) + 1);

function userServer() {
  return createMcpHandler(() => {
    const server = new McpServer({ name: 'library-user', version: '1.0.0' });
    const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
    server.registerTool('whoami', { description: 'Who is calling' }, (ctx) => text((ctx.http?.authInfo as Principal).subject));
    server.registerTool('add_task', { description: 'Adds a task' }, () => (ran('add_task'), text('added')));
    server.registerTool('admin_reset', { description: 'Resets everything' }, () => (ran('admin_reset'), text('reset')));
    return server;
  });
}

for (const adapter of ['honoAuth', 'withMcpAuth', 'expressToolPolicy'] as const) {
  describe(`library tool policy through ${adapter} (official SDK client and server, loopback socket)`, () => {
    let as: TestIssuer;
    let server: Server;
    let mcpUrl: string;
    const clients: Client[] = [];

    before(async () => {
      as = await createTestIssuer({ resource: 'http://127.0.0.1/mcp' });
      const rs = createResourceServer({ resource: as.resource, authorizationServers: [as.issuer], verifier: as.verifier(), scopesSupported: ['tasks:read', 'tasks:write'] });
      const toolPolicy = createMcpPolicy(rs, { rules: [{ tools: ['add_*'], scopes: ['tasks:write'] }, { tools: ['admin_*'], groups: ['admins'] }], groupsClaim: 'roles' });
      const mcp = userServer();
      if (adapter === 'expressToolPolicy') {
        const handler = toNodeHandler(mcp);
        const app = express();
        app.all('/mcp', expressAuth(rs), express.json(), expressToolPolicy(toolPolicy), (req, res) => handler(req, res, req.body));
        server = createServer(app);
      } else {
        const app = new Hono();
        app.use(honoMetadata(rs));
        if (adapter === 'honoAuth') app.all('/mcp', honoAuth(rs, { toolPolicy }), (c) => mcp.fetch(c.req.raw, { authInfo: c.get('auth') }));
        else app.all('/mcp', (c) => withMcpAuth((request, auth) => mcp.fetch(request, { authInfo: auth }), { resourceServer: rs, toolPolicy })(c.req.raw));
        server = createAdaptorServer({ fetch: app.fetch }) as Server;
      }
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      mcpUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    });
    after(async () => {
      for (const c of clients) await c.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    });

    const connect = async (claims: Record<string, unknown>) => {
      const token = await as.sign({ claims });
      const client = new Client({ name: 'policy-test', version: '1' }, { versionNegotiation: { mode: 'auto' } });
      await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
      clients.push(client);
      return { client, token };
    };
    const rawCall = (token: string, name: string, headers: Record<string, string> = {}) =>
      fetch(mcpUrl, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name, arguments: {} } }),
      });

    it('SEP-1881 tools/list shows only what the caller may call', async () => {
      const { client: reader } = await connect({ scope: 'tasks:read' });
      assert.deepEqual((await reader.listTools()).tools.map((t) => t.name), ['whoami']);
      const { client: admin } = await connect({ scope: 'tasks:read tasks:write', roles: ['admins'] });
      assert.deepEqual((await admin.listTools()).tools.map((t) => t.name), ['whoami', 'add_task', 'admin_reset']);
    });

    it('RS-12 a call more scope would allow: 403 insufficient_scope naming it, and the tool never runs; with the scope it runs', async () => {
      runs.clear();
      const { client, token } = await connect({ scope: 'tasks:read' });
      await assert.rejects(client.callTool({ name: 'add_task', arguments: {} }), /403|insufficient_scope|scope/i);
      const refused = await rawCall(token, 'add_task');
      assert.equal(refused.status, 403);
      const { params } = parseChallenge(refused.headers.get('WWW-Authenticate'));
      assert.deepEqual([params['error'], params['scope'], params['resource_metadata']], ['insufficient_scope', 'tasks:write', PRM_URL]);
      assert.equal(runs.get('add_task'), undefined, 'the tool never ran');
      const { client: writer } = await connect({ scope: 'tasks:write' });
      assert.deepEqual((await writer.callTool({ name: 'add_task', arguments: {} })).content, [{ type: 'text', text: 'added' }]);
    });

    it('a call no scope would allow (a role the caller lacks): a plain MCP error, no challenge', async () => {
      runs.clear();
      const { client, token } = await connect({ scope: 'tasks:read tasks:write', roles: ['staff'] });
      await assert.rejects(client.callTool({ name: 'admin_reset', arguments: {} }), (error: { code?: number; message?: string }) => {
        assert.equal(error.code, POLICY_DENIED_CODE);
        assert.match(error.message ?? '', /may not use the tool "admin_reset"/);
        return true;
      });
      const refused = await rawCall(token, 'admin_reset');
      assert.equal(refused.status, 200);
      assert.equal(refused.headers.get('WWW-Authenticate'), null);
      assert.equal((await refused.json()).error.code, POLICY_DENIED_CODE);
      assert.equal(runs.get('admin_reset'), undefined, 'the tool never ran');
    });

    it('a Mcp-Name header that disagrees with the body is refused (400, -32020) before the policy or the tool', async () => {
      runs.clear();
      const { token } = await connect({ scope: 'tasks:read', roles: ['staff'] });
      const response = await rawCall(token, 'admin_reset', { 'Mcp-Method': 'tools/call', 'Mcp-Name': 'whoami', 'MCP-Protocol-Version': '2026-07-28' });
      assert.equal(response.status, 400);
      assert.equal((await response.json()).error.code, -32020);
      assert.equal(runs.get('admin_reset'), undefined, 'the tool never ran');
    });
  });
}
