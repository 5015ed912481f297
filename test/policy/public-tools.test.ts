import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { connectClient, initializeMessage, inSession, openLegacySession, post, rpcResult, toolCallMessage } from '../mcp/wire.ts';
import { parseChallenge, signIn } from '../resource/fixtures.ts';

/**
 * Public and protected tools on one endpoint (issue 14 part 6), in the built-in server: with
 * `toolPolicy.public` naming `server_info`, a client without a token may connect, list and call it;
 * every protected tool is listed with its Apps SDK `securitySchemes` and, called without a token,
 * answered with the same 401 as ever (discovery unchanged), its body the tool error ChatGPT reads.
 * Official SDK client in both protocol eras, raw requests for the attacks.
 */

const PRM_URL = 'http://localhost:3000/.well-known/oauth-protected-resource/mcp';
const PUBLIC_POLICY = { toolPolicy: { public: { tools: ['server_info'] } } };

type Listed = { name: string; securitySchemes?: unknown; _meta?: { securitySchemes?: unknown } };
const byName = (tools: readonly Listed[]) => new Map(tools.map((tool) => [tool.name, tool]));

for (const era of ['legacy', 'modern'] as const) {
  describe(`public tools in the built-in server (${era === 'legacy' ? '2025-era session' : '2026-07-28'})`, () => {
    let t: TestApp;
    const clients: Client[] = [];
    const connect = async (token: string | null) => {
      const { client } = await connectClient(t, token, era);
      clients.push(client);
      return client;
    };
    before(async () => {
      t = await createTestApp(PUBLIC_POLICY);
    });
    after(async () => {
      for (const c of clients) await c.close();
      await t.close();
    });

    it('without a token: tools/list shows the public tool (noauth) and every protected one with its oauth2 scopes', async () => {
      const client = await connect(null);
      const tools = byName((await client.listTools()).tools as Listed[]);
      assert.deepEqual([...tools.keys()].sort(), ['complete_task', 'create_task', 'delete_task', 'list_tasks', 'server_info', 'whoami']);
      // The SDK client keeps `_meta` (the top-level `securitySchemes` is no MCP schema field: see the raw test below).
      assert.deepEqual(tools.get('server_info')!._meta?.securitySchemes, [{ type: 'noauth' }, { type: 'oauth2', scopes: [] }]);
      assert.deepEqual(tools.get('create_task')!._meta?.securitySchemes, [{ type: 'oauth2', scopes: ['tasks:write'] }]);
      assert.deepEqual(tools.get('whoami')!._meta?.securitySchemes, [{ type: 'oauth2', scopes: [] }]);
    });

    it('without a token: the public tool runs, for nobody', async () => {
      const client = await connect(null);
      const result = await client.callTool({ name: 'server_info', arguments: {} });
      assert.deepEqual(result.structuredContent, { name: t.ctx.config.serverName, version: '0.1.0', signedIn: false });
    });

    it('RS-03b without a token a protected tool gets the usual 401 (resource_metadata, scope): the SDK client cannot call it, and nothing ran', async () => {
      const client = await connect(null);
      await assert.rejects(client.callTool({ name: 'create_task', arguments: { title: 'sneaky' } }), (error: { status?: number }) => error.status === 401);
      assert.equal((await t.storage.tasks.list('')).length, 0);
    });

    it('with a token: every tool works, and tools/list carries the same schemes', async () => {
      const who = await signIn(t, { scopes: ['tasks:write'] });
      const client = await connect(who.token);
      const tools = byName((await client.listTools()).tools as Listed[]);
      assert.deepEqual(tools.get('create_task')!._meta?.securitySchemes, [{ type: 'oauth2', scopes: ['tasks:write'] }]);
      assert.deepEqual(tools.get('server_info')!._meta?.securitySchemes, [{ type: 'noauth' }, { type: 'oauth2', scopes: [] }]);
      await client.callTool({ name: 'create_task', arguments: { title: 'mine' } });
      assert.equal((await t.storage.tasks.list(who.user.id)).length, 1);
      assert.equal(((await client.callTool({ name: 'server_info', arguments: {} })).structuredContent as { signedIn?: boolean } | undefined)?.signedIn, true);
    });
  });
}

describe('public tools: the HTTP answers', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(PUBLIC_POLICY);
  });
  after(async () => {
    await t.close();
  });

  it('Apps SDK: an anonymous tools/list answer carries securitySchemes on each descriptor itself, next to what it had', async () => {
    const sessionId = await openLegacySession(t, {});
    const response = await post(t, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, inSession({}, sessionId));
    assert.equal(response.status, 200);
    const tools = byName(((await rpcResult(response)).result as { tools: Listed[] }).tools);
    assert.deepEqual(tools.get('server_info')!.securitySchemes, [{ type: 'noauth' }, { type: 'oauth2', scopes: [] }]);
    assert.deepEqual(tools.get('delete_task')!.securitySchemes, [{ type: 'oauth2', scopes: ['tasks:write'] }]);
    assert.ok('inputSchema' in tools.get('delete_task')!, 'the descriptor is otherwise as the server wrote it');
  });

  it('RS-03b a protected tools/call without a token: 401 and its WWW-Authenticate as before; the body is the Apps SDK tool error carrying the same challenge', async () => {
    const response = await post(t, toolCallMessage('create_task', { title: 'x' }, 7), { 'MCP-Protocol-Version': '2026-07-28' });
    assert.equal(response.status, 401);
    const header = response.headers.get('WWW-Authenticate');
    const { params } = parseChallenge(header);
    assert.deepEqual([params['resource_metadata'], params['error']], [PRM_URL, undefined]);
    assert.match(params['scope'] ?? '', /tasks:write/);
    const body = await response.json();
    assert.equal(body.id, 7);
    assert.equal(body.result.isError, true);
    assert.deepEqual(body.result._meta['mcp/www_authenticate'], [header]);
  });

  it('RS-12 a token without the scope: 403 insufficient_scope as before, and the tool error with the same challenge', async () => {
    const who = await signIn(t, { scopes: ['tasks:read'] });
    const response = await post(t, toolCallMessage('create_task', { title: 'x' }), { ...who.auth, 'MCP-Protocol-Version': '2026-07-28' });
    assert.equal(response.status, 403);
    const header = response.headers.get('WWW-Authenticate');
    assert.equal(parseChallenge(header).params['error'], 'insufficient_scope');
    const body = await response.json();
    assert.deepEqual([body.result.isError, body.result._meta['mcp/www_authenticate']], [true, [header]]);
  });

  it('without a token, anything but getting started, listing and the public tool is challenged as ever (GET without a session, templates, logging, answers to the server, a name that is not a string)', async () => {
    const get = await t.request(t.ctx.config.mcpPath, { method: 'GET', headers: { Accept: 'text/event-stream' } });
    assert.equal(get.status, 401);
    for (const message of [
      { jsonrpc: '2.0', id: 1, method: 'resources/templates/list' },
      { jsonrpc: '2.0', id: 1, method: 'logging/setLevel', params: { level: 'debug' } },
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: ['server_info'] } },
      toolCallMessage('whoami'),
    ]) {
      const response = await post(t, message, { 'MCP-Protocol-Version': '2026-07-28' });
      assert.equal(response.status, 401, JSON.stringify(message));
      assert.equal(parseChallenge(response.headers.get('WWW-Authenticate')).params['resource_metadata'], PRM_URL);
    }
  });

  it('part 5: Mcp-Name naming the public tool while the body calls a protected one is challenged (401), and the other way round refused (400 -32020)', async () => {
    const dodge = await post(t, toolCallMessage('delete_task', { id: 'x' }), { 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'server_info' });
    assert.equal(dodge.status, 401);
    const reverse = await post(t, toolCallMessage('server_info'), { 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'delete_task' });
    assert.equal(reverse.status, 400);
    assert.equal((await reverse.json()).error.code, -32020);
  });

  it('a batch that hides a protected call behind the public one: the plain 401 naming the scope the hidden call needs', async () => {
    const sessionId = await openLegacySession(t, {});
    const batch = [toolCallMessage('server_info', {}, 1), toolCallMessage('delete_task', { id: 'x' }, 2)];
    const response = await post(t, batch, inSession({}, sessionId));
    assert.equal(response.status, 401);
    assert.match(parseChallenge(response.headers.get('WWW-Authenticate')).params['scope'] ?? '', /tasks:write/);
    assert.equal((await response.json()).result, undefined, 'no answer for either call: the batch is refused whole');
  });

  it('a batch with two list requests of one id: 400 -32600 before anything runs, with or without a token', async () => {
    const batch = [{ jsonrpc: '2.0', id: 4, method: 'tools/list' }, { jsonrpc: '2.0', id: 4, method: 'prompts/list' }];
    const who = await signIn(t, { scopes: ['tasks:read'] });
    for (const auth of [{}, who.auth]) {
      const sessionId = await openLegacySession(t, auth);
      const response = await post(t, batch, inSession(auth, sessionId));
      assert.equal(response.status, 400);
      assert.equal((await rpcResult(response)).error?.code, -32600);
    }
  });

  it('RS-23 session riding: a signed-in session is not found without its token, nor an anonymous one with a token (404 both ways)', async () => {
    const who = await signIn(t, { scopes: ['tasks:write'] });
    const theirs = await openLegacySession(t, who.auth);
    const ride = await post(t, toolCallMessage('server_info'), inSession({}, theirs));
    assert.equal(ride.status, 404);
    const stream = await t.request(t.ctx.config.mcpPath, { method: 'GET', headers: { Accept: 'text/event-stream', ...inSession({}, theirs) } });
    assert.equal(stream.status, 404, 'nor its GET stream');
    const end = await t.request(t.ctx.config.mcpPath, { method: 'DELETE', headers: inSession({}, theirs) });
    assert.equal(end.status, 404, 'nor can it be ended');
    const still = await post(t, toolCallMessage('whoami'), inSession(who.auth, theirs));
    assert.equal(((await rpcResult(still)).result?.['structuredContent'] as { subject: string }).subject, who.user.id, 'the owner still has it');

    const anonymous = await openLegacySession(t, {});
    const ok = await post(t, toolCallMessage('server_info'), inSession({}, anonymous));
    assert.equal(ok.status, 200, 'the anonymous session works without a token');
    await ok.body?.cancel();
    const upgraded = await post(t, toolCallMessage('whoami'), inSession(who.auth, anonymous));
    assert.equal(upgraded.status, 404, 'a token does not take over an anonymous session: the client starts its own');
  });
});

describe('public tools: what a public mark cannot do', () => {
  it('RS-17 a token that does not verify is never served as nobody, even for the public tool: 401 invalid_token', async () => {
    const t = await createTestApp(PUBLIC_POLICY);
    try {
      const response = await post(t, toolCallMessage('server_info'), { Authorization: 'Bearer not-a-token', 'MCP-Protocol-Version': '2026-07-28' });
      assert.equal(response.status, 401);
      assert.equal(parseChallenge(response.headers.get('WWW-Authenticate')).params['error'], 'invalid_token');
    } finally {
      await t.close();
    }
  });

  it('a built-in tool that acts for a person, marked public, still refuses a caller without a token (a tool error, nothing of anyone shown)', async () => {
    const t = await createTestApp({ toolPolicy: { public: { tools: ['whoami', 'list_tasks'] } } });
    try {
      const { client } = await connectClient(t, null, 'legacy');
      for (const name of ['whoami', 'list_tasks']) {
        const result = await client.callTool({ name, arguments: {} });
        assert.equal(result.isError, true, name);
        assert.deepEqual(result.content, [{ type: 'text', text: 'This tool requires an authenticated caller.' }]);
      }
      await client.close();
    } finally {
      await t.close();
    }
  });
});

describe('public tools: off by default', () => {
  it('RS-03b without toolPolicy.public every request without a token is 401, initialize included, and server_info is not offered', async () => {
    const t = await createTestApp();
    try {
      const init = await post(t, initializeMessage());
      assert.equal(init.status, 401);
      assert.deepEqual(await init.json(), { error_description: 'This endpoint requires an OAuth access token in the Authorization header.' });
      const who = await signIn(t, { scopes: ['tasks:write'] });
      const { client } = await connectClient(t, who.token, 'modern');
      const tools = (await client.listTools()).tools as Listed[];
      assert.ok(!tools.some((tool) => tool.name === 'server_info'));
      assert.ok(tools.every((tool) => tool.securitySchemes === undefined), 'lists as they were');
      await client.close();
    } finally {
      await t.close();
    }
  });
});
