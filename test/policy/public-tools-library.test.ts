import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { json } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { createAdaptorServer } from '@hono/node-server';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, isLegacyRequest, McpServer, WebStandardStreamableHTTPServerTransport, type AuthInfo } from '@modelcontextprotocol/server';
import express from 'express';
import { Hono } from 'hono';
import { expressAuth, expressToolPolicy } from '../../src/adapters/express.ts';
import { withMcpAuth } from '../../src/adapters/fetch.ts';
import { honoAuth } from '../../src/adapters/hono.ts';
import { nodeAuth, nodeToolPolicy } from '../../src/adapters/node.ts';
import { createMcpPolicy } from '../../src/policy/mcp-policy.ts';
import { createResourceServer } from '../../src/resource/resource-server.ts';
import type { Principal } from '../../src/resource/types.ts';
import { parseChallenge } from '../resource/fixtures.ts';
import { createTestIssuer, type TestIssuer } from '../resource/test-issuer.ts';

/**
 * Public tools in a library user's own MCP server (issue 14 part 6) behind `withMcpAuth`, `honoAuth`,
 * `expressAuth` and `nodeAuth`, on a
 * loopback socket, official SDK client and server: `createMcpPolicy`'s `public` decides what a
 * caller without a token may do, exactly as in Portcullis's own endpoint, and such callers reach
 * only the `anonymous` handler (an MCP server of their own).
 */

const PRM_URL = 'http://127.0.0.1/.well-known/oauth-protected-resource/mcp';
const runs = new Map<string, number>();
const ran = (name: string) => runs.set(name, (runs.get(name) ?? 0) + 1);

function newServer(): McpServer {
  const server = new McpServer({ name: 'library-user', version: '1.0.0' });
  const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
  server.registerTool('search', { description: 'Searches the public catalogue' }, (ctx) => (ran('search'), text(ctx.http?.authInfo ? 'signed in' : 'anonymous')));
  server.registerTool('whoami', { description: 'Who is calling' }, (ctx) => text((ctx.http?.authInfo as Principal).subject));
  server.registerTool('add_task', { description: 'Adds a task' }, () => (ran('add_task'), text('added')));
  return server;
}

/** The anonymous side: stateless, so no session of anyone's exists there. */
const anonymousServer = () => createMcpHandler(newServer);

/** The signed-in side, as most servers run today: 2025-era sessions (and 2026-07-28 requests, stateless). */
function signedInServer() {
  const modern = createMcpHandler(newServer, { legacy: 'reject' });
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
  return {
    async fetch(request: Request, options: { authInfo?: AuthInfo } = {}): Promise<Response> {
      if (!(await isLegacyRequest(request))) return modern.fetch(request, options);
      const sessionId = request.headers.get('mcp-session-id');
      if (sessionId !== null) return sessions.get(sessionId)?.handleRequest(request, options) ?? new Response(null, { status: 404 });
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        enableJsonResponse: true,
        onsessioninitialized: (id) => void sessions.set(id, transport),
      });
      await newServer().connect(transport);
      return transport.handleRequest(request, options);
    },
  };
}

/** The JSON-RPC answer in a response, whether sent as JSON or as one SSE event. */
async function rpcAnswer(response: Response): Promise<{ result?: { content?: unknown } }> {
  const text = await response.text();
  if (!response.headers.get('Content-Type')?.startsWith('text/event-stream')) return JSON.parse(text);
  return JSON.parse(text.split('\n').find((line) => line.startsWith('data: '))!.slice('data: '.length));
}

for (const adapter of ['withMcpAuth', 'honoAuth', 'expressAuth', 'expressAuth after express.json()', 'nodeAuth'] as const) {
  describe(`public tools through ${adapter} (official SDK client and server, loopback socket)`, () => {
    let as: TestIssuer;
    const servers: Server[] = [];
    const clients: Client[] = [];

    /**
     * Serves `/mcp` with the policy; `anonymous` false: no handler for callers without a token;
     * `'sessions'`: an anonymous server that keeps 2025-era sessions of its own.
     */
    const serve = async (anonymous: boolean | 'sessions'): Promise<string> => {
      const rs = createResourceServer({ resource: as.resource, authorizationServers: [as.issuer], verifier: as.verifier(), scopesSupported: ['tasks:read', 'tasks:write'] });
      const toolPolicy = createMcpPolicy(rs, { rules: [{ tools: ['add_*'], scopes: ['tasks:write'] }], public: { tools: ['search'] } });
      const signedIn = signedInServer();
      const nobody = anonymous === 'sessions' ? signedInServer() : anonymousServer();
      const forNobody = anonymous ? { anonymous: (request: Request) => nobody.fetch(request) } : {};
      let server: Server;
      if (adapter === 'withMcpAuth') {
        server = createAdaptorServer({ fetch: withMcpAuth((request, auth) => signedIn.fetch(request, { authInfo: auth }), { resourceServer: rs, toolPolicy, ...forNobody }) }) as Server;
      } else if (adapter === 'honoAuth') {
        const app = new Hono();
        app.all('/mcp', honoAuth(rs, { toolPolicy, ...forNobody }), (c) => signedIn.fetch(c.req.raw, { authInfo: c.get('auth') }));
        server = createAdaptorServer({ fetch: app.fetch }) as Server;
      } else if (adapter.startsWith('expressAuth')) {
        const mcp = toNodeHandler(signedIn);
        const app = express();
        // Parsed before expressAuth (as the MCP SDK's Express examples do): the anonymous handler gets the parsed body again.
        if (adapter === 'expressAuth after express.json()') app.use(express.json());
        app.all('/mcp', expressAuth(rs, { toolPolicy, ...forNobody }), express.json(), expressToolPolicy(toolPolicy), (req, res) => mcp(req, res, req.body));
        server = createServer(app);
      } else {
        const mcp = toNodeHandler(signedIn);
        const authenticate = nodeAuth(rs, { toolPolicy, ...forNobody });
        const applyPolicy = nodeToolPolicy(toolPolicy);
        server = createServer((req, res) => {
          void (async () => {
            const auth = await authenticate(req, res);
            if (!auth) return;
            const body = req.method === 'POST' ? await json(req) : undefined;
            if (await applyPolicy(req, res, auth, body)) await mcp(req, res, body);
          })().catch(() => {
            res.statusCode = 400;
            res.end();
          });
        });
      }
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

    it('a session opened with a token is not usable without it: protected calls get the 401, its GET and DELETE and public calls reach only the anonymous server', async () => {
      const mcpUrl = await serve(true);
      const token = await as.sign({ claims: { scope: 'tasks:write' } });
      const post = (body: unknown, headers: Record<string, string>) =>
        fetch(mcpUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body) });
      const call = (name: string) => ({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: {} } });
      const signedIn = { Authorization: `Bearer ${token}` };
      const opened = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'session-test', version: '1' } } }, signedIn);
      assert.equal(opened.status, 200);
      await opened.body?.cancel();
      const sessionId = opened.headers.get('mcp-session-id');
      assert.ok(sessionId, 'the signed-in server opened a session');
      const session = { 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': '2025-11-25' };
      assert.equal((await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, { ...session, ...signedIn })).status, 202);

      const protectedCall = await post(call('whoami'), session);
      assert.equal(protectedCall.status, 401);
      assert.equal(parseChallenge(protectedCall.headers.get('WWW-Authenticate')).params['resource_metadata'], PRM_URL);
      for (const method of ['GET', 'DELETE']) {
        // Without a token these go to the anonymous server, which has no such session.
        const response = await fetch(mcpUrl, { method, headers: { Accept: 'text/event-stream', ...session } });
        assert.notEqual(response.status, 200, method);
        assert.notEqual(response.headers.get('Content-Type'), 'text/event-stream', `${method}: not the signed-in session's stream`);
        await response.body?.cancel();
      }
      const publicCall = await post(call('search'), session);
      assert.equal(publicCall.status, 200);
      assert.deepEqual((await rpcAnswer(publicCall)).result?.content, [{ type: 'text', text: 'anonymous' }], 'served as nobody, not as the session\'s owner');

      const owner = await post(call('whoami'), { ...session, ...signedIn });
      assert.deepEqual((await rpcAnswer(owner)).result?.content, [{ type: 'text', text: 'user-1' }], 'the session is intact for its owner');
    });

    it('an anonymous server with sessions of its own: its session\'s GET stream and DELETE work without a token', async () => {
      const mcpUrl = await serve('sessions');
      const send = (method: string, headers: Record<string, string>, body?: unknown) =>
        fetch(mcpUrl, { method, headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const opened = await send('POST', {}, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'anonymous-session', version: '1' } } });
      assert.equal(opened.status, 200);
      await opened.body?.cancel();
      const sessionId = opened.headers.get('mcp-session-id');
      assert.ok(sessionId, 'the anonymous server opened a session');
      const session = { 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': '2025-11-25' };
      assert.equal((await send('POST', session, { jsonrpc: '2.0', method: 'notifications/initialized' })).status, 202);

      const stream = await fetch(mcpUrl, { method: 'GET', headers: { Accept: 'text/event-stream', ...session } });
      assert.equal(stream.status, 200, 'the GET stream of an anonymous session, without a token');
      assert.equal(stream.headers.get('Content-Type'), 'text/event-stream');
      await stream.body?.cancel();
      const ended = await fetch(mcpUrl, { method: 'DELETE', headers: session });
      assert.equal(ended.status, 200, 'its DELETE, without a token');
      const after = await send('POST', session, { jsonrpc: '2.0', id: 2, method: 'tools/list' });
      assert.equal(after.status, 404, 'the session is over');
      await after.body?.cancel();
    });

    it('a body over 64 KiB without a token gets the challenge (401), even for the public tool, and nothing runs', async () => {
      runs.clear();
      const mcpUrl = await serve(true);
      const response = await fetch(mcpUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'search', arguments: { q: 'x'.repeat(65 * 1024) } } }),
      });
      assert.equal(response.status, 401);
      assert.equal(parseChallenge(response.headers.get('WWW-Authenticate')).params['resource_metadata'], PRM_URL);
      await response.body?.cancel();
      assert.equal(runs.get('search'), undefined);
    });

    it('without an anonymous handler nothing is served without a token, public or not', async () => {
      const mcpUrl = await serve(false);
      await assert.rejects(connect(mcpUrl, null), (error: { status?: number }) => error.status === 401);
    });
  });
}

describe('the anonymous answer through nodeAuth streams (loopback socket)', () => {
  it('an event stream reaches the client before it ends, and a client that goes away cancels it', { timeout: 10_000 }, async () => {
    const as = await createTestIssuer({ resource: 'http://127.0.0.1/mcp' });
    const rs = createResourceServer({ resource: as.resource, authorizationServers: [as.issuer], verifier: as.verifier() });
    const toolPolicy = createMcpPolicy(rs, { public: { tools: ['search'] } });
    let cancelled: () => void = () => {};
    const wasCancelled = new Promise<void>((resolve) => (cancelled = resolve));
    // A public call whose answer never ends, as a long-running tool's progress stream would.
    const anonymous = () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start: (controller) => controller.enqueue(new TextEncoder().encode('event: message\ndata: {}\n\n')),
          cancel: () => cancelled(),
        }),
        { headers: { 'Content-Type': 'text/event-stream' } },
      );
    const authenticate = nodeAuth(rs, { toolPolicy, anonymous });
    const server = createServer((req, res) => void authenticate(req, res).catch(() => res.destroy()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const abort = new AbortController();
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search', arguments: {} } }),
        signal: abort.signal,
      });
      assert.equal(response.status, 200);
      const first = await response.body!.getReader().read();
      assert.match(new TextDecoder().decode(first.value), /^event: message/);
      abort.abort();
      await wasCancelled;
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
