import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { startHttpUpstream, type HttpUpstream } from '../fixtures/upstream/http-server.ts';
import type { TestApp } from '../helpers/app.ts';
import { inSession, initializeMessage, post, rpcResult, toolCallMessage } from '../mcp/wire.ts';
import { parseChallenge } from '../resource/fixtures.ts';
import { appFetch, connectWithToken, createGatewayApp, eventually, GATEWAY_CREDENTIAL, signInToGateway } from './helpers.ts';

/**
 * Issue 4, parts 1–2: Portcullis in front of a real Streamable HTTP MCP server (official SDK, on
 * 127.0.0.1), driven by the official SDK client and by raw requests.
 */

const listTools = { jsonrpc: '2.0', id: 7, method: 'tools/list' };
const textOf = (result: { content?: unknown }) => ((result.content as Array<{ text?: string }> | undefined)?.[0]?.text ?? '');

describe('gateway → HTTP upstream: tools, credentials and identity (RS-19)', () => {
  let upstream: HttpUpstream;
  let t: TestApp;
  before(async () => {
    upstream = await startHttpUpstream({ requiredAuthorization: `Bearer ${GATEWAY_CREDENTIAL}` });
  });
  after(() => upstream.close());
  beforeEach(async () => {
    t = await createGatewayApp({ url: upstream.url, bearerToken: GATEWAY_CREDENTIAL });
    upstream.requests.length = 0;
  });
  afterEach(() => t.close());

  for (const era of ['legacy', 'modern'] as const) {
    it(`issue 4: the upstream's tools replace the built-in ones, and calls work (${era === 'legacy' ? '2025-era session' : '2026-07-28'})`, async () => {
      const who = await signInToGateway(t);
      const { client } = await connectWithToken(t.ctx.config.resource, who.token, { era, fetch: appFetch(t) });
      try {
        const names = (await client.listTools()).tools.map((tool) => tool.name).sort();
        assert.deepEqual(names, ['burst', 'echo', 'hold', 'release', 'slow']);
        const result = await client.callTool({ name: 'echo', arguments: { text: 'through the gateway' } });
        assert.equal(textOf(result), 'echo: through the gateway');
        assert.equal(upstream.requests.some((r) => r.headers['mcp-protocol-version'] === '2026-07-28'), era === 'modern', 'the era under test is the one relayed');
      } finally {
        await client.close();
      }
    });
  }

  it("RS-19 the upstream gets the gateway's credential and the caller's identity, never the client's token", async () => {
    const who = await signInToGateway(t);
    const { client } = await connectWithToken(t.ctx.config.resource, who.token, { fetch: appFetch(t) });
    await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    await client.close();

    assert.ok(upstream.requests.length >= 3, 'initialize, initialized, tools/call (and the closing DELETE)');
    for (const request of upstream.requests) {
      assert.equal(request.headers['authorization'], `Bearer ${GATEWAY_CREDENTIAL}`);
      assert.ok(!JSON.stringify(request).includes(who.token), 'the client token appears nowhere upstream');
      assert.equal(request.headers['x-portcullis-subject'], who.user.id);
      assert.equal(request.headers['x-portcullis-client'], who.clientId);
      assert.equal(request.headers['x-portcullis-scopes'], 'mcp');
    }
  });

  it('RS-19 identity headers sent by a client are dropped: the upstream hears only what the token says', async () => {
    const who = await signInToGateway(t);
    const forged = { 'X-Portcullis-Subject': 'usr_admin', 'X-Portcullis-Client': 'trusted-client', 'X-Portcullis-Scopes': 'everything' };
    const response = await post(t, initializeMessage(), { ...who.auth, ...forged });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    const seen = upstream.requests.at(-1)!.headers;
    assert.equal(seen['x-portcullis-subject'], who.user.id);
    assert.equal(seen['x-portcullis-client'], who.clientId);
    assert.equal(seen['x-portcullis-scopes'], 'mcp');
  });

  it('identity headers can be turned off: then none are sent, and forged ones still are not relayed', async () => {
    const quiet = await createGatewayApp({ url: upstream.url, bearerToken: GATEWAY_CREDENTIAL, identityHeaders: false });
    try {
      const who = await signInToGateway(quiet);
      const response = await post(quiet, initializeMessage(), { ...who.auth, 'X-Portcullis-Subject': 'usr_admin' });
      await response.body?.cancel();
      const seen = upstream.requests.at(-1)!.headers;
      assert.equal(seen['x-portcullis-subject'], undefined);
      assert.equal(seen['x-portcullis-client'], undefined);
    } finally {
      await quiet.close();
    }
  });

  it('Streamable HTTP headers are passed upstream: Accept, Content-Type, Mcp-Protocol-Version, Last-Event-ID', async () => {
    const who = await signInToGateway(t);
    const init = await post(t, initializeMessage(), who.auth);
    const sessionId = init.headers.get('Mcp-Session-Id')!;
    await init.body?.cancel();
    const get = await t.request('/mcp', { method: 'GET', headers: { ...inSession(who.auth, sessionId), Accept: 'text/event-stream', 'Last-Event-ID': 'evt-41' } });
    await get.body?.cancel();
    const seen = upstream.requests.at(-1)!;
    assert.equal(seen.method, 'GET');
    assert.equal(seen.headers['accept'], 'text/event-stream');
    assert.equal(seen.headers['last-event-id'], 'evt-41');
    assert.equal(seen.headers['mcp-protocol-version'], '2025-06-18');
    assert.equal(seen.headers['mcp-session-id'], upstream.sessionIds.at(-1));
    const first = upstream.requests.find((r) => r.method === 'POST')!;
    assert.equal(first.headers['content-type'], 'application/json');
    assert.match(first.headers['accept'] ?? '', /application\/json.*text\/event-stream/);
  });
});

describe('gateway → HTTP upstream: sessions bound to the user (RS-22, RS-23)', () => {
  let upstream: HttpUpstream;
  let t: TestApp;
  before(async () => {
    upstream = await startHttpUpstream();
  });
  after(() => upstream.close());
  beforeEach(async () => {
    t = await createGatewayApp({ url: upstream.url }, { mcpSessionIdleTtl: 60 });
  });
  afterEach(() => t.close());

  async function openSession(auth: Record<string, string>): Promise<string> {
    const init = await post(t, initializeMessage(), auth);
    assert.equal(init.status, 200);
    await init.body?.cancel();
    const sessionId = init.headers.get('Mcp-Session-Id');
    assert.ok(sessionId);
    const ack = await post(t, { jsonrpc: '2.0', method: 'notifications/initialized' }, inSession(auth, sessionId));
    assert.equal(ack.status, 202);
    return sessionId;
  }

  it("RS-22 the client gets the gateway's own session handle (256 random bits), never the upstream's id", async () => {
    const who = await signInToGateway(t);
    const handle = await openSession(who.auth);
    assert.match(handle, /^[A-Za-z0-9_-]{43}$/);
    const upstreamId = upstream.sessionIds.at(-1)!;
    assert.match(upstreamId, /^upstream-session-\d+$/, 'the fixture uses guessable ids on purpose');
    assert.notEqual(handle, upstreamId);

    const listed = await post(t, listTools, inSession(who.auth, handle));
    assert.equal(listed.status, 200);
    assert.equal(listed.headers.get('Mcp-Session-Id'), handle, "the response names the gateway's handle");
    assert.ok(((await rpcResult(listed)).result?.['tools'] as unknown[]).length > 0);
    assert.equal(upstream.requests.at(-1)!.headers['mcp-session-id'], upstreamId, 'the upstream hears its own id');
  });

  it('RS-23 another user presenting a session handle gets 404, and the upstream is not asked', async () => {
    const alice = await signInToGateway(t, { username: 'alice' });
    const bob = await signInToGateway(t, { username: 'bob' });
    const handle = await openSession(alice.auth);
    const before = upstream.requests.length;
    const hijack = await post(t, toolCallMessage('echo', { text: 'x' }), inSession(bob.auth, handle));
    assert.equal(hijack.status, 404);
    assert.equal((await rpcResult(hijack)).error?.message, 'Session not found');
    const hijackGet = await t.request('/mcp', { method: 'GET', headers: { ...inSession(bob.auth, handle), Accept: 'text/event-stream' } });
    assert.equal(hijackGet.status, 404);
    const hijackDelete = await t.request('/mcp', { method: 'DELETE', headers: inSession(bob.auth, handle) });
    assert.equal(hijackDelete.status, 404);
    assert.equal(upstream.requests.length, before, 'nothing reached the upstream');

    const own = await post(t, listTools, inSession(alice.auth, handle));
    assert.equal(own.status, 200, "the owner's session is untouched");
    await own.body?.cancel();
  });

  it('RS-22 the same user through another client gets 404 too; and the upstream\'s raw id is no handle at all', async () => {
    const viaA = await signInToGateway(t, { username: 'carol' });
    const viaB = await signInToGateway(t, { user: viaA.user });
    const handle = await openSession(viaA.auth);
    assert.equal((await post(t, listTools, inSession(viaB.auth, handle))).status, 404);
    assert.equal((await post(t, listTools, inSession(viaA.auth, upstream.sessionIds.at(-1)!))).status, 404);
  });

  it('never a query-param session: the query string is not forwarded, so `?session_id=` names nothing upstream', async () => {
    const who = await signInToGateway(t);
    await openSession(who.auth);
    const response = await t.request(`/mcp?session_id=${upstream.sessionIds.at(-1)}`, { method: 'POST', headers: { ...who.auth, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' }, body: JSON.stringify(listTools) });
    await response.body?.cancel();
    const seen = upstream.requests.at(-1)!;
    assert.equal(seen.search, '');
    assert.equal(seen.headers['mcp-session-id'], undefined);
    assert.equal(response.status, 400, "the upstream's answer to a request outside any session");
  });

  it('DELETE ends the session at the upstream and at the gateway', async () => {
    const who = await signInToGateway(t);
    const handle = await openSession(who.auth);
    const upstreamId = upstream.sessionIds.at(-1)!;
    const deleted = await t.request('/mcp', { method: 'DELETE', headers: inSession(who.auth, handle) });
    assert.equal(deleted.status, 200);
    const sent = upstream.requests.at(-1)!;
    assert.equal(sent.method, 'DELETE');
    assert.equal(sent.headers['mcp-session-id'], upstreamId);
    assert.equal(t.mcp.sessionCount, 0);
    assert.equal((await post(t, listTools, inSession(who.auth, handle))).status, 404);
  });

  it('RS-22 an idle session expires after mcpSessionIdleTtl: 404, and the upstream is told it is over', async () => {
    const who = await signInToGateway(t);
    const handle = await openSession(who.auth);
    const upstreamId = upstream.sessionIds.at(-1)!;
    t.clock.advance(60_000);
    assert.equal(await t.mcp.sweep(), 1);
    await eventually(() => upstream.requests.some((r) => r.method === 'DELETE' && r.headers['mcp-session-id'] === upstreamId), 'the upstream got the DELETE');
    const goodbye = upstream.requests.find((r) => r.method === 'DELETE' && r.headers['mcp-session-id'] === upstreamId)!;
    assert.equal(goodbye.headers['x-portcullis-subject'], who.user.id, 'sent on behalf of the session owner');
    assert.equal((await post(t, listTools, inSession(who.auth, handle))).status, 404);
  });

  it('a session the upstream no longer knows is forgotten: 404, so the client re-initializes', async () => {
    const who = await signInToGateway(t);
    const handle = await openSession(who.auth);
    // The upstream "restarts": its session is gone.
    const upstreamId = upstream.sessionIds.at(-1)!;
    const end = await fetch(upstream.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': upstreamId, 'MCP-Protocol-Version': '2025-06-18' } });
    assert.equal(end.status, 200);
    assert.equal((await post(t, listTools, inSession(who.auth, handle))).status, 404);
    assert.equal(t.mcp.sessionCount, 0);
  });
});

describe('gateway scopes (RS-12, BP-09)', () => {
  let upstream: HttpUpstream;
  before(async () => {
    upstream = await startHttpUpstream();
  });
  after(() => upstream.close());

  it('BP-09 with no scopes declared, a gateway offers one scope, `mcp`, asks for it in challenges and grants it by default', async () => {
    const t = await createGatewayApp({ url: upstream.url });
    try {
      assert.deepEqual(t.ctx.config.scopes.map((s) => s.name), ['mcp']);
      assert.deepEqual(t.ctx.config.defaultScopes, ['mcp']);
      assert.equal(t.ctx.config.scopes[0]?.description, 'Use the tools of Portcullis');
      const prm = (await (await t.request('/.well-known/oauth-protected-resource/mcp')).json()) as { scopes_supported: string[] };
      assert.deepEqual(prm.scopes_supported, ['mcp']);
      const challenge = await post(t, initializeMessage());
      assert.equal(challenge.status, 401);
      assert.equal(parseChallenge(challenge.headers.get('WWW-Authenticate')).params['scope'], 'mcp');
    } finally {
      await t.close();
    }
  });

  it('RS-12 a token without the required scope gets 403 insufficient_scope on POST, GET and DELETE alike, before the upstream is asked', async () => {
    const t = await createGatewayApp(
      { url: upstream.url, toolScopes: { echo: ['files:write'] } },
      { scopes: [{ name: 'mcp', description: 'Use the tools' }, { name: 'files:write', description: 'Change files' }], defaultScopes: ['mcp'] },
    );
    try {
      const before = upstream.requests.length;
      const none = await signInToGateway(t, { scopes: ['files:write'] });
      for (const [method, init] of [
        ['POST', { method: 'POST', headers: { ...none.auth, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' }, body: JSON.stringify(initializeMessage()) }],
        ['GET', { method: 'GET', headers: { ...none.auth, Accept: 'text/event-stream' } }],
        ['DELETE', { method: 'DELETE', headers: { ...none.auth, 'Mcp-Session-Id': 'whatever' } }],
      ] as const) {
        const response = await t.request('/mcp', init);
        assert.equal(response.status, 403, method);
        const { params } = parseChallenge(response.headers.get('WWW-Authenticate'));
        assert.equal(params['error'], 'insufficient_scope');
        assert.equal(params['scope'], 'mcp');
      }
      assert.equal(upstream.requests.length, before);
    } finally {
      await t.close();
    }
  });

  it('RS-12/RS-13b a tool mapped in upstream.toolScopes needs its scopes too: one challenge names them all; with them, the call goes through', async () => {
    const t = await createGatewayApp(
      { url: upstream.url, toolScopes: { echo: ['files:write'] } },
      { scopes: [{ name: 'mcp', description: 'Use the tools' }, { name: 'files:write', description: 'Change files' }], defaultScopes: ['mcp'] },
    );
    try {
      const basic = await signInToGateway(t, { scopes: ['mcp'] });
      const { client } = await connectWithToken(t.ctx.config.resource, basic.token, { fetch: appFetch(t) });
      assert.ok(!(await client.listTools()).tools.some((tool) => tool.name === 'echo'), 'tools/list shows only what the token may call (toolPolicy.filterLists)');
      await client.close();

      const refused = await post(t, toolCallMessage('echo', { text: 'x' }), basic.auth);
      assert.equal(refused.status, 403);
      assert.equal(parseChallenge(refused.headers.get('WWW-Authenticate')).params['scope'], 'mcp files:write');

      const full = await signInToGateway(t, { scopes: ['mcp', 'files:write'] });
      const { client: stepped } = await connectWithToken(t.ctx.config.resource, full.token, { fetch: appFetch(t) });
      assert.ok((await stepped.listTools()).tools.some((tool) => tool.name === 'echo'), 'listed once the token has its scope');
      assert.equal(textOf(await stepped.callTool({ name: 'echo', arguments: { text: 'allowed' } })), 'echo: allowed');
      await stepped.close();
    } finally {
      await t.close();
    }
  });
});

describe('gateway → HTTP upstream: failures are JSON-RPC errors, never a hang', () => {
  it('an upstream that is down → 502 with a JSON-RPC error naming the request, and no upstream URL', async () => {
    const gone = await startHttpUpstream();
    const url = gone.url;
    await gone.close();
    const t = await createGatewayApp({ url });
    try {
      const who = await signInToGateway(t);
      const response = await post(t, { ...initializeMessage(), id: 'init-1' }, who.auth);
      assert.equal(response.status, 502);
      const body = await response.text();
      assert.deepEqual(JSON.parse(body), { jsonrpc: '2.0', error: { code: -32000, message: 'Bad Gateway: the upstream MCP server is unavailable.' }, id: 'init-1' });
      assert.ok(!body.includes(new URL(url).host), 'seed 2 defect 15: the upstream is not disclosed');
      assert.ok(t.logger.records().some((r) => r['msg'] === 'upstream MCP server unavailable' && r['cause'] === 'ECONNREFUSED'), 'the log says why');
    } finally {
      await t.close();
    }
  });

  it('an upstream that does not start answering within upstream.timeout → 504', async () => {
    const slow = await startHttpUpstream({ headersDelayMs: 10_000 });
    const t = await createGatewayApp({ url: slow.url, timeout: 1 });
    try {
      const who = await signInToGateway(t);
      const started = performance.now();
      const response = await post(t, initializeMessage(3), who.auth);
      assert.equal(response.status, 504);
      assert.deepEqual(await response.json(), { jsonrpc: '2.0', error: { code: -32000, message: 'Gateway Timeout: the upstream MCP server did not answer in time.' }, id: 3 });
      assert.ok(performance.now() - started < 10_000, 'the gateway gave up before the upstream answered');
    } finally {
      await t.close();
      await slow.close();
    }
  });

  it("an upstream that refuses the gateway's credential → 502, never a 401 that would send the client to log in again", async () => {
    const strict = await startHttpUpstream({ requiredAuthorization: 'Bearer the-right-one' });
    const t = await createGatewayApp({ url: strict.url, bearerToken: 'the-wrong-one' });
    try {
      const who = await signInToGateway(t);
      const response = await post(t, initializeMessage(), who.auth);
      assert.equal(response.status, 502);
      assert.equal(response.headers.get('WWW-Authenticate'), null, "the upstream's challenge is not relayed");
      assert.equal((await rpcResult(response)).error?.message, 'Bad Gateway: the upstream MCP server refused the gateway.');
      assert.ok(!t.logger.lines.some((l) => l.includes('the-wrong-one')), 'the credential is never logged');
    } finally {
      await t.close();
      await strict.close();
    }
  });
});

describe('gateway: what is relayed and what is not (RFC 9110 §7.6.1, seed 2 defects 8, 13, 15)', () => {
  let upstream: HttpUpstream;
  let t: TestApp;
  before(async () => {
    upstream = await startHttpUpstream({
      extraResponseHeaders: { 'Set-Cookie': 'upstream=1', 'WWW-Authenticate': 'Bearer realm="upstream"', 'X-Upstream-Internal': 'db-7', Connection: 'X-Hop', 'X-Hop': '1' },
    });
    t = await createGatewayApp({ url: upstream.url, bearerToken: GATEWAY_CREDENTIAL });
  });
  after(async () => {
    await t.close();
    await upstream.close();
  });

  it('hop-by-hop headers, cookies and anything unknown cross in neither direction', async () => {
    const who = await signInToGateway(t);
    const response = await post(t, initializeMessage(), {
      ...who.auth,
      Cookie: 'portcullis_session=secret',
      Connection: 'X-Private',
      'X-Private': 'only-for-the-next-hop',
      TE: 'trailers',
      'Proxy-Authorization': 'Basic cHJveHk6cHJveHk=',
      'X-Forwarded-For': '203.0.113.9',
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    const sent = upstream.requests.at(-1)!.headers;
    for (const name of ['cookie', 'x-private', 'te', 'proxy-authorization', 'x-forwarded-for']) assert.equal(sent[name], undefined, `${name} reached the upstream`);
    assert.notEqual(sent['connection'], 'X-Private', "the client's Connection is not relayed (the gateway's HTTP client sets its own)");
    for (const name of ['Set-Cookie', 'WWW-Authenticate', 'X-Upstream-Internal', 'X-Hop']) assert.equal(response.headers.get(name), null, `${name} reached the client`);
    assert.ok(response.headers.get('Mcp-Session-Id'), 'the session header is relayed (mapped)');
    assert.equal(response.headers.get('Content-Type'), 'text/event-stream');
  });

  it('seed 2 defect 8: there is no legacy /sse or /messages endpoint, with or without a token, and nothing reaches the upstream', async () => {
    const who = await signInToGateway(t);
    const before = upstream.requests.length;
    for (const [path, method] of [['/sse', 'GET'], ['/messages', 'POST'], ['/messages?session_id=upstream-session-1', 'POST'], ['/events', 'GET']] as const) {
      for (const headers of [{}, who.auth]) {
        const response = await t.request(path, { method, headers: { ...headers, 'Content-Type': 'application/json' }, ...(method === 'POST' ? { body: JSON.stringify(listTools) } : {}) });
        assert.equal(response.status, 404, `${method} ${path}`);
      }
    }
    assert.equal(upstream.requests.length, before);
  });

  it('seed 2 defect 15: no /status or /debug, and no public response discloses the upstream', async () => {
    const host = new URL(upstream.url).host;
    for (const path of ['/status', '/debug']) assert.equal((await t.request(path)).status, 404, path);
    for (const path of ['/healthz', '/readyz', '/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-authorization-server', '/mcp']) {
      const response = await t.request(path);
      assert.ok(!(await response.text()).includes(host), `${path} names the upstream`);
      assert.ok(![...response.headers.values()].some((v) => v.includes(host)), `${path} names the upstream in a header`);
    }
  });
});
