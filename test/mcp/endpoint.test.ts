import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { z } from 'zod';
import type { McpBackend } from '../../src/mcp/backend.ts';
import { createBuiltInBackend } from '../../src/mcp/built-in.ts';
import { mountMcpEndpoint } from '../../src/mcp/endpoint.ts';
import { defineTool, jsonResult } from '../../src/mcp/tools/registry.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { parseChallenge, signIn } from '../resource/fixtures.ts';
import { type AppUnderTest, inSession, initializeMessage, LEGACY_VERSION, mcpHeaders, onApp, openLegacySession, post, rpcResult, toolCallMessage } from './wire.ts';

const PRM_URL = 'http://localhost:3000/.well-known/oauth-protected-resource/mcp';

function assertInsufficientScope(response: Response, scopes: string): void {
  assert.equal(response.status, 403);
  const { scheme, params } = parseChallenge(response.headers.get('WWW-Authenticate'));
  assert.equal(scheme, 'Bearer');
  assert.equal(params['error'], 'insufficient_scope');
  assert.equal(params['scope'], scopes);
  assert.equal(params['resource_metadata'], PRM_URL);
}

describe('MCP endpoint: authentication on every request (RS-17, RS-21)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('RS-21 GET (the SSE stream) requires a token, even with a valid session id', async () => {
    const who = await signIn(t);
    const sessionId = await openLegacySession(t, who.auth);
    const response = await t.request('/mcp', { method: 'GET', headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': sessionId } });
    assert.equal(response.status, 401);
    assert.equal(parseChallenge(response.headers.get('WWW-Authenticate')).params['error'], undefined);
    const authed = await t.request('/mcp', { method: 'GET', headers: { ...who.auth, Accept: 'text/event-stream', 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': LEGACY_VERSION } });
    assert.equal(authed.status, 200);
    assert.equal(authed.headers.get('Content-Type'), 'text/event-stream');
    await authed.body?.cancel();
  });

  it('a built-in tools/call in a 2025-era session is answered with one JSON body; the GET stream stays SSE', async () => {
    const who = await signIn(t);
    const sessionId = await openLegacySession(t, who.auth);
    const call = await post(t, toolCallMessage('whoami', {}, 7), inSession(who.auth, sessionId));
    assert.equal(call.status, 200);
    assert.equal(call.headers.get('Content-Type'), 'application/json');
    assert.equal(call.headers.get('Mcp-Session-Id'), sessionId);
    const message = (await call.json()) as { id: number; result?: { isError?: boolean } };
    assert.equal(message.id, 7);
    assert.notEqual(message.result?.isError, true);
    const stream = await t.request('/mcp', { method: 'GET', headers: { ...inSession(who.auth, sessionId), Accept: 'text/event-stream' } });
    assert.equal(stream.headers.get('Content-Type'), 'text/event-stream');
    await stream.body?.cancel();
  });

  it('RS-21 DELETE requires a token, even with a valid session id', async () => {
    const who = await signIn(t);
    const sessionId = await openLegacySession(t, who.auth);
    const anonymous = await t.request('/mcp', { method: 'DELETE', headers: { 'Mcp-Session-Id': sessionId } });
    assert.equal(anonymous.status, 401);
    const still = await post(t, { jsonrpc: '2.0', id: 5, method: 'tools/list' }, inSession(who.auth, sessionId));
    assert.equal(still.status, 200, 'the anonymous DELETE did not end the session');
    await still.body?.cancel();
  });

  it('RS-17 a request with a bad token is refused before the body is even looked at', async () => {
    const response = await t.request('/mcp', { method: 'POST', headers: mcpHeaders({ Authorization: 'Bearer nope' }), body: 'not json' });
    assert.equal(response.status, 401);
  });

  it('RS-04 a 401 for a tools/call names the scopes that call needs, so the client asks for them up front', async () => {
    const response = await post(t, toolCallMessage('create_task', { title: 'x' }));
    assert.equal(response.status, 401);
    const { params } = parseChallenge(response.headers.get('WWW-Authenticate'));
    assert.equal(params['error'], undefined, 'RFC 6750 §3.1: no credentials, no error code');
    assert.deepEqual(params['scope']?.split(' ').sort(), ['tasks:read', 'tasks:write']);
    assert.equal((await t.ctx.storage.tasks.list('anyone')).length, 0);
    // Without credentials only a small body is read: a large one gets the plain challenge.
    const large = { ...toolCallMessage('create_task', { title: 'x' }), padding: 'x'.repeat(70 * 1024) };
    const plain = parseChallenge((await post(t, large)).headers.get('WWW-Authenticate')).params['scope'];
    assert.equal(plain, 'tasks:read tasks:write', 'the default challenge names every declared scope (defaultScopes unset)');
  });

  it('methods other than GET, POST and DELETE get 405 once authenticated', async () => {
    const who = await signIn(t);
    assert.equal((await t.request('/mcp', { method: 'PUT' })).status, 401);
    const response = await t.request('/mcp', { method: 'PUT', headers: who.auth });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('Allow'), 'GET, POST, DELETE');
  });

  it('a POST that is not JSON gets 415; malformed JSON gets a JSON-RPC parse error, not a 500', async () => {
    const who = await signIn(t);
    const text = await t.request('/mcp', { method: 'POST', headers: { ...who.auth, 'Content-Type': 'text/plain' }, body: '{}' });
    assert.equal(text.status, 415);
    const broken = await t.request('/mcp', { method: 'POST', headers: mcpHeaders(who.auth), body: '{"jsonrpc":' });
    assert.equal(broken.status, 400);
    assert.equal(((await broken.json()) as { error: { code: number } }).error.code, -32700);
  });
});

describe('MCP endpoint: scopes per tool (RS-12, RS-13b, RS-15)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('RS-12 a tools/call the token lacks scope for gets 403 insufficient_scope, and no task is created', async () => {
    const who = await signIn(t, { scopes: ['tasks:read'] });
    const sessionId = await openLegacySession(t, who.auth);
    const response = await post(t, toolCallMessage('create_task', { title: 'Buy milk' }), inSession(who.auth, sessionId));
    assertInsufficientScope(response, 'tasks:write');
    assert.deepEqual(await response.json(), { error: 'insufficient_scope', error_description: 'This operation requires the scope tasks:write.' });
    assert.deepEqual(await t.ctx.storage.tasks.list(who.user.id), []);
  });

  it('RS-12 the scope check also guards the 2026-07-28 path and requests without a session', async () => {
    const who = await signIn(t, { scopes: ['tasks:read'] });
    assertInsufficientScope(await post(t, toolCallMessage('delete_task', { id: 'x' }), who.auth), 'tasks:write');
  });

  it('step-up: a token granted the union of scopes then succeeds with the same call', async () => {
    const first = await signIn(t, { scopes: ['tasks:read'] });
    const denied = await post(t, toolCallMessage('create_task', { title: 'Step up' }), first.auth);
    const wanted = parseChallenge(denied.headers.get('WWW-Authenticate')).params['scope']!.split(' ');
    const stepped = await signIn(t, { user: first.user, clientId: first.clientId, scopes: [...new Set(['tasks:read', ...wanted])] });
    const sessionId = await openLegacySession(t, stepped.auth);
    const ok = await post(t, toolCallMessage('create_task', { title: 'Step up' }), inSession(stepped.auth, sessionId));
    assert.equal(ok.status, 200);
    const { result } = await rpcResult(ok);
    assert.equal(result?.['isError'], undefined);
    assert.equal((await t.ctx.storage.tasks.list(first.user.id)).length, 1);
  });

  it('RS-15 tasks:write implies tasks:read: list_tasks works with only tasks:write', async () => {
    const who = await signIn(t, { scopes: ['tasks:write'] });
    const sessionId = await openLegacySession(t, who.auth);
    const response = await post(t, toolCallMessage('list_tasks'), inSession(who.auth, sessionId));
    assert.equal(response.status, 200);
    assert.deepEqual((await rpcResult(response)).result?.['structuredContent'], { tasks: [] });
  });

  it('whoami needs no scope beyond a valid token', async () => {
    const who = await signIn(t, { scopes: [] });
    const sessionId = await openLegacySession(t, who.auth);
    const response = await post(t, toolCallMessage('whoami'), inSession(who.auth, sessionId));
    assert.equal(response.status, 200);
  });
});

describe('MCP endpoint: a tool needing several scopes (RS-13b)', () => {
  let t: TestApp;
  let custom: AppUnderTest;
  let backend: McpBackend;
  before(async () => {
    t = await createTestApp({
      scopes: [
        { name: 'tasks:read', description: 'r' },
        { name: 'tasks:write', description: 'w' },
        { name: 'notes:read', description: 'n' },
      ],
    });
    const app = new Hono();
    const report = defineTool({
      name: 'weekly_report',
      title: 'Weekly report',
      description: 'Needs two unrelated scopes.',
      requiredScopes: ['tasks:write', 'notes:read'],
      inputSchema: z.object({}),
      run: () => jsonResult({ ok: true }),
    });
    backend = createBuiltInBackend(t.ctx, { tools: [report] });
    mountMcpEndpoint(app, t.ctx, { backend });
    custom = onApp(app, t.ctx);
  });
  after(async () => {
    await backend.close();
    await t.close();
  });

  it('RS-13b the challenge names every scope the operation needs, not only the missing one', async () => {
    const who = await signIn(t, { scopes: ['notes:read'] });
    assertInsufficientScope(await post(custom, toolCallMessage('weekly_report'), who.auth), 'tasks:write notes:read');
  });

  it('RS-13b a batch is checked as a whole: one challenge with the scopes of every call in it', async () => {
    const who = await signIn(t, { scopes: [] });
    const batch = [toolCallMessage('weekly_report', {}, 1), toolCallMessage('weekly_report', {}, 2)];
    assertInsufficientScope(await post(custom, batch, who.auth), 'tasks:write notes:read');
  });

  it('a tool whose scopes are all held runs', async () => {
    const who = await signIn(t, { scopes: ['tasks:write', 'notes:read'] });
    const sessionId = await openLegacySession(custom, who.auth);
    const response = await post(custom, toolCallMessage('weekly_report'), inSession(who.auth, sessionId));
    assert.equal(response.status, 200);
    assert.deepEqual((await rpcResult(response)).result?.['structuredContent'], { ok: true });
  });
});

describe('MCP endpoint: Origin validation and CORS (RS-24)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ allowedOrigins: ['https://Inspector.Example:443'] });
  });
  after(() => t.close());

  it('RS-24 a present Origin that is neither ours nor allowed gets 403, before authentication', async () => {
    const who = await signIn(t);
    for (const headers of [{ Origin: 'https://evil.example' }, { Origin: 'https://evil.example', ...who.auth }, { Origin: 'null', ...who.auth }]) {
      const response = await post(t, initializeMessage(), headers);
      assert.equal(response.status, 403, JSON.stringify(headers.Origin));
      assert.equal(response.headers.get('WWW-Authenticate'), null);
      assert.equal(response.headers.get('Access-Control-Allow-Origin'), null);
    }
  });

  it('RS-24 our own origin and configured origins pass on to authentication; no Origin (non-browser clients) too', async () => {
    for (const origin of ['http://localhost:3000', 'https://inspector.example', undefined]) {
      const response = await post(t, initializeMessage(), origin ? { Origin: origin } : {});
      assert.equal(response.status, 401, String(origin));
    }
  });

  it('CORS preflight for an allowed origin is answered without a token and allows Authorization', async () => {
    const response = await t.request('/mcp', {
      method: 'OPTIONS',
      headers: { Origin: 'https://inspector.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type, mcp-protocol-version' },
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), 'https://inspector.example');
    assert.match(response.headers.get('Access-Control-Allow-Headers') ?? '', /authorization/i);
    assert.match(response.headers.get('Access-Control-Allow-Methods') ?? '', /POST/);
  });

  it('CORS: an allowed origin can read the 401 challenge', async () => {
    const response = await post(t, initializeMessage(), { Origin: 'https://inspector.example' });
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), 'https://inspector.example');
    assert.match(response.headers.get('Access-Control-Expose-Headers') ?? '', /WWW-Authenticate/);
  });

  it('CORS preflight from any other origin gets no CORS grant', async () => {
    const response = await t.request('/mcp', { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } });
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), null);
    assert.notEqual(response.status, 204);
  });
});
