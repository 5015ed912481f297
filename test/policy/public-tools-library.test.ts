import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createAdaptorServer } from '@hono/node-server';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { Hono } from 'hono';
import { withMcpAuth } from '../../src/adapters/fetch.ts';
import { honoAuth } from '../../src/adapters/hono.ts';
import { createMcpPolicy } from '../../src/policy/mcp-policy.ts';
import { createResourceServer } from '../../src/resource/resource-server.ts';
import type { Principal } from '../../src/resource/types.ts';
import { parseChallenge } from '../resource/fixtures.ts';
import { createTestIssuer, type TestIssuer } from '../resource/test-issuer.ts';

/**
 * Public tools in a library user's own MCP server (issue 14 part 6) behind `withMcpAuth` and `honoAuth`, on a
 * loopback socket, official SDK client and server: `createMcpPolicy`'s `public` decides what a
 * caller without a token may do, exactly as in Portcullis's own endpoint, and such callers reach
 * only the `anonymous` handler (an MCP server of their own).
 */

const PRM_URL = 'http://127.0.0.1/.well-known/oauth-protected-resource/mcp';
const runs = new Map<string, number>();
const ran = (name: string) => runs.set(name, (runs.get(name) ?? 0) + 1);

function userServer() {
  return createMcpHandler(() => {
    const server = new McpServer({ name: 'library-user', version: '1.0.0' });
    const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
    server.registerTool('search', { description: 'Searches the public catalogue' }, (ctx) => (ran('search'), text(ctx.http?.authInfo ? 'signed in' : 'anonymous')));
    server.registerTool('whoami', { description: 'Who is calling' }, (ctx) => text((ctx.http?.authInfo as Principal).subject));
    server.registerTool('add_task', { description: 'Adds a task' }, () => (ran('add_task'), text('added')));
    return server;
  });
}

for (const adapter of ['withMcpAuth', 'honoAuth'] as const) {
  describe(`public tools through ${adapter} (official SDK client and server, loopback socket)`, () => {
    let as: TestIssuer;
    const servers: Server[] = [];
    const clients: Client[] = [];

    /** Serves `/mcp` with the policy; `anonymous` false: no handler for callers without a token. */
    const serve = async (anonymous: boolean): Promise<string> => {
      const rs = createResourceServer({ resource: as.resource, authorizationServers: [as.issuer], verifier: as.verifier(), scopesSupported: ['tasks:read', 'tasks:write'] });
      const toolPolicy = createMcpPolicy(rs, { rules: [{ tools: ['add_*'], scopes: ['tasks:write'] }], public: { tools: ['search'] } });
      const signedIn = userServer();
      const nobody = userServer();
      const forNobody = anonymous ? { anonymous: (request: Request) => nobody.fetch(request) } : {};
      let handler: (request: Request) => Response | Promise<Response>;
      if (adapter === 'withMcpAuth') handler = withMcpAuth((request, auth) => signedIn.fetch(request, { authInfo: auth }), { resourceServer: rs, toolPolicy, ...forNobody });
      else {
        const app = new Hono();
        app.all('/mcp', honoAuth(rs, { toolPolicy, ...forNobody }), (c) => signedIn.fetch(c.req.raw, { authInfo: c.get('auth') }));
        handler = app.fetch;
      }
      const server = createAdaptorServer({ fetch: handler }) as Server;
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    };
    const connect = async (mcpUrl: string, token: string | null) => {
      const client = new Client({ name: 'public-test', version: '1' }, { versionNegotiation: { mode: 'auto' } });
      await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: token === null ? {} : { Authorization: `Bearer ${token}` } } }));
      clients.push(client);
      return client;
    };

    before(async () => {
      as = await createTestIssuer({ resource: 'http://127.0.0.1/mcp' });
    });
    after(async () => {
      for (const c of clients) await c.close();
      for (const server of servers) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
    });

    it('without a token: every tool listed with its securitySchemes, the public one runs for nobody, a protected one gets the 401 and never runs', async () => {
      runs.clear();
      const mcpUrl = await serve(true);
      const client = await connect(mcpUrl, null);
      const tools = new Map((await client.listTools()).tools.map((tool) => [tool.name, tool._meta?.['securitySchemes']]));
      assert.deepEqual(tools.get('search'), [{ type: 'noauth' }, { type: 'oauth2', scopes: [] }]);
      assert.deepEqual(tools.get('add_task'), [{ type: 'oauth2', scopes: ['tasks:write'] }]);
      assert.deepEqual(tools.get('whoami'), [{ type: 'oauth2', scopes: [] }]);
      assert.deepEqual((await client.callTool({ name: 'search', arguments: {} })).content, [{ type: 'text', text: 'anonymous' }]);
      await assert.rejects(client.callTool({ name: 'add_task', arguments: {} }), (error: { status?: number }) => error.status === 401);

      const raw = await fetch(mcpUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'add_task', arguments: {} } }),
      });
      assert.equal(raw.status, 401);
      const header = raw.headers.get('WWW-Authenticate');
      assert.equal(parseChallenge(header).params['resource_metadata'], PRM_URL);
      assert.deepEqual((await raw.json()).result._meta['mcp/www_authenticate'], [header]);
      assert.equal(runs.get('add_task'), undefined, 'the protected tool never ran');
      assert.equal(runs.get('search'), 1);
    });

    it('with a token: the protected tool runs, and the public one sees the caller', async () => {
      const mcpUrl = await serve(true);
      const client = await connect(mcpUrl, await as.sign({ claims: { scope: 'tasks:write' } }));
      assert.deepEqual((await client.callTool({ name: 'add_task', arguments: {} })).content, [{ type: 'text', text: 'added' }]);
      assert.deepEqual((await client.callTool({ name: 'search', arguments: {} })).content, [{ type: 'text', text: 'signed in' }]);
    });

    it('without an anonymous handler nothing is served without a token, public or not', async () => {
      const mcpUrl = await serve(false);
      await assert.rejects(connect(mcpUrl, null), (error: { status?: number }) => error.status === 401);
    });
  });
}
