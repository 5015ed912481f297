import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { initializeMessage, inSession, mcpHeaders, post, rpcResult, toolCallMessage } from '../mcp/wire.ts';
import { parseChallenge } from '../resource/fixtures.ts';
import { signInToGateway, type UpstreamInput } from './helpers.ts';

/**
 * The HTTP gateway against an upstream whose behaviour each test scripts: the gateway's outbound
 * fetch is injected, so a test sees exactly what would have reached the upstream and can make it
 * misbehave (constant session ids, streams that never end, requests that never answer).
 */

const UPSTREAM_URL = 'http://127.0.0.1:9/mcp';
const SCOPES: ConfigInput = { scopes: [{ name: 'mcp', description: 'Use the tools' }, { name: 'files:write', description: 'Change files' }], defaultScopes: ['mcp'] };

interface Received {
  method: string;
  headers: Headers;
  body: string;
}

type Answer = (request: Request, body: string) => Response | Promise<Response>;

/** Answers initialize with a session (a constant id unless told otherwise) and anything else with an empty result. */
const plainAnswer =
  (sessionId: () => string = () => 'upstream-constant-session'): Answer =>
  (request, body) => {
    if (request.method === 'DELETE') return new Response(null, { status: 200 });
    const message = body ? (JSON.parse(body) as { id?: unknown; method?: string }) : undefined;
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (message?.method === 'initialize') headers['Mcp-Session-Id'] = sessionId();
    if (message?.id === undefined) return new Response(null, { status: 202, headers });
    return Response.json({ jsonrpc: '2.0', id: message.id, result: {} }, { headers });
  };

async function scriptedGateway(answer: Answer = plainAnswer(), upstream: Partial<UpstreamInput> = {}, config: ConfigInput = {}): Promise<{ t: TestApp; received: Received[] }> {
  const received: Received[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input as string, init);
    // As a real fetch does: an aborted signal means nothing is sent.
    if (request.signal.aborted) throw new DOMException('This operation was aborted', 'AbortError');
    const body = await request.text();
    received.push({ method: request.method, headers: request.headers, body });
    return answer(request, body);
  };
  const t = await createTestApp({ mcpSessionIdleTtl: 60, ...config, upstream: { url: UPSTREAM_URL, ...upstream } }, { fetch });
  return { t, received };
}

async function openSession(t: TestApp, auth: Record<string, string>): Promise<string> {
  const init = await post(t, initializeMessage(), auth);
  assert.equal(init.status, 200);
  await init.body?.cancel();
  const handle = init.headers.get('Mcp-Session-Id');
  assert.ok(handle);
  return handle;
}

describe('gateway: Mcp-Method / Mcp-Name must agree with the body, and are stated from it', () => {
  it('RS-12 a client whose Mcp-Name names another tool than its body is refused (400, -32020) and the upstream hears nothing; agreeing headers are restated from the body', async () => {
    const { t, received } = await scriptedGateway(plainAnswer(), { toolScopes: { echo: ['files:write'] } }, SCOPES);
    try {
      const basic = await signInToGateway(t, { scopes: ['mcp'] });
      const modern = { ...basic.auth, 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call' };
      const forged = await post(t, toolCallMessage('free_tool', {}), { ...modern, 'Mcp-Name': 'echo' });
      assert.equal(forged.status, 400);
      assert.equal((await forged.json()).error.code, -32020);
      const lying = await post(t, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, { ...basic.auth, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'echo' });
      assert.equal(lying.status, 400);
      await lying.body?.cancel();
      assert.equal(received.length, 0, 'neither reached the upstream');

      const honest = await post(t, toolCallMessage('free_tool', {}), { ...modern, 'Mcp-Name': 'free_tool' });
      assert.equal(honest.status, 200, 'the scope check saw free_tool, which needs only mcp');
      await honest.body?.cancel();
      assert.equal(received.length, 1);
      assert.equal(received[0]!.headers.get('mcp-name'), 'free_tool');
      assert.equal(received[0]!.headers.get('mcp-method'), 'tools/call');
    } finally {
      await t.close();
    }
  });
});

describe('gateway sessions: an upstream session id is never shared between users (RS-23)', () => {
  it('RS-23 an upstream that hands the same session id to a second user → 502 and a warning; the first user keeps it', async () => {
    const { t, received } = await scriptedGateway();
    try {
      const alice = await signInToGateway(t, { username: 'alice' });
      const bob = await signInToGateway(t, { username: 'bob' });
      const handle = await openSession(t, alice.auth);

      const shared = await post(t, initializeMessage(), bob.auth);
      assert.equal(shared.status, 502);
      assert.equal(shared.headers.get('Mcp-Session-Id'), null, 'bob gets no handle to alice\'s upstream session');
      assert.equal((await rpcResult(shared)).error?.code, -32000);
      assert.ok(t.logger.records().some((r) => r['level'] === 'warn' && String(r['msg']).includes('reused a session id')));
      assert.equal(t.mcp.sessionCount, 1);

      const own = await post(t, { jsonrpc: '2.0', id: 5, method: 'tools/list' }, inSession(alice.auth, handle));
      assert.equal(own.status, 200);
      await own.body?.cancel();
      assert.equal(received.at(-1)!.headers.get('x-portcullis-subject'), alice.user.id);
    } finally {
      await t.close();
    }
  });
});

describe('gateway scopes: tool names are not object properties', () => {
  it('RS-12 tools named constructor, toString or __proto__ need only the base scopes', async () => {
    const { t, received } = await scriptedGateway(plainAnswer(), { toolScopes: { echo: ['files:write'] } }, SCOPES);
    try {
      assert.deepEqual(t.mcp.requiredScopes(['constructor', 'toString', '__proto__', 'hasOwnProperty']), ['mcp']);
      const basic = await signInToGateway(t, { scopes: ['mcp'] });
      const response = await post(t, toolCallMessage('constructor'), basic.auth);
      assert.equal(response.status, 200);
      await response.body?.cancel();
      assert.equal(received.length, 1);
    } finally {
      await t.close();
    }
  });

  it('RS-12/RS-13b a batch calling an allowed tool and one needing an extra scope → 403 naming it, and nothing reaches the upstream', async () => {
    const { t, received } = await scriptedGateway(plainAnswer(), { toolScopes: { echo: ['files:write'] } }, SCOPES);
    try {
      const basic = await signInToGateway(t, { scopes: ['mcp'] });
      const response = await post(t, [toolCallMessage('free_tool', {}, 1), toolCallMessage('echo', { text: 'x' }, 2)], basic.auth);
      assert.equal(response.status, 403);
      const { params } = parseChallenge(response.headers.get('WWW-Authenticate'));
      assert.equal(params['error'], 'insufficient_scope');
      assert.equal(params['scope'], 'mcp files:write');
      assert.equal(received.length, 0);
    } finally {
      await t.close();
    }
  });
});

describe('gateway: bad input is the client\'s error, never a 500', () => {
  it('JSON nested too deeply to serialize again → 400 JSON-RPC -32600, and nothing reaches the upstream', async () => {
    const { t, received } = await scriptedGateway();
    try {
      const who = await signInToGateway(t);
      const deep = '['.repeat(200_000) + ']'.repeat(200_000);
      const body = `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"deep":${deep}}}}`;
      const response = await t.request('/mcp', { method: 'POST', headers: mcpHeaders(who.auth), body });
      assert.equal(response.status, 400);
      assert.equal((await rpcResult(response)).error?.code, -32600);
      assert.equal(received.length, 0);
    } finally {
      await t.close();
    }
  });
});

describe('gateway: requests whose client is gone, and timers', () => {
  it('a request whose client already went away is never sent upstream', async () => {
    const { t, received } = await scriptedGateway();
    try {
      const who = await signInToGateway(t);
      const gone = new AbortController();
      gone.abort();
      const request = new Request(new URL('/mcp', t.ctx.config.issuer), { method: 'POST', headers: mcpHeaders(who.auth), body: JSON.stringify(initializeMessage()), signal: gone.signal });
      const response = await t.app.fetch(request);
      await response.body?.cancel().catch(() => {});
      assert.equal(received.length, 0);
      assert.equal(t.mcp.sessionCount, 0);
    } finally {
      await t.close();
    }
  });

  it('the upstream.timeout deadline of a pending exchange never keeps the process alive on its own', async () => {
    let release: (() => void) | undefined;
    const hanging: Answer = (request) =>
      new Promise<Response>((_resolve, reject) => {
        release = () => reject(new Error('released'));
        request.signal.addEventListener('abort', () => reject(request.signal.reason));
      });
    const { t, received } = await scriptedGateway(hanging, { timeout: 600 });
    try {
      const who = await signInToGateway(t);
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      const pending = post(t, initializeMessage(), who.auth);
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(received.length, 1, 'the exchange is under way');
      assert.equal(timers(), before, 'no referenced timer was added');
      release?.();
      const response = await pending;
      assert.equal(response.status, 502);
    } finally {
      await t.close();
    }
  });
});

describe('gateway sessions: a live GET stream is use, not idleness (RS-22 idle TTL)', () => {
  it('a session whose client holds only its GET stream is not swept while the stream is open; idle time counts from its end', async () => {
    const encoder = new TextEncoder();
    const base = plainAnswer(() => 'upstream-session-1');
    const answer: Answer = (request, body) =>
      request.method === 'GET'
        ? new Response(new ReadableStream({ start: (c) => c.enqueue(encoder.encode(': open\n\n')) }), { headers: { 'Content-Type': 'text/event-stream' } })
        : base(request, body);
    const { t } = await scriptedGateway(answer);
    try {
      const who = await signInToGateway(t);
      const handle = await openSession(t, who.auth);
      const stream = await t.request('/mcp', { method: 'GET', headers: { ...inSession(who.auth, handle), Accept: 'text/event-stream' } });
      assert.equal(stream.status, 200);

      t.clock.advance(61_000);
      assert.equal(await t.mcp.sweep(), 0, 'the open stream keeps the session');
      assert.equal(t.mcp.sessionCount, 1);

      await stream.body?.cancel();
      t.clock.advance(30_000);
      assert.equal(await t.mcp.sweep(), 0, 'idle time counts from the end of the stream');
      t.clock.advance(31_000);
      assert.equal(await t.mcp.sweep(), 1);
    } finally {
      await t.close();
    }
  });
});
