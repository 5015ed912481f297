import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startHttpUpstream, type HttpUpstream } from '../fixtures/upstream/http-server.ts';
import { appFetch, calledUpstream, connectWithToken, createGatewayApp, GATEWAY_CREDENTIAL, signInToGateway, stdioFixtureCommand } from '../gateway/helpers.ts';
import type { TestApp } from '../helpers/app.ts';
import { inSession, openLegacySession, post, toolCallMessage } from '../mcp/wire.ts';
import { parseChallenge } from '../resource/fixtures.ts';

/**
 * Public and protected tools in gateway mode (issue 14 part 6), against a real HTTP upstream on
 * loopback: the upstream's `echo` is public, everything else stays behind the gateway's scopes.
 * Without a token a client lists and calls `echo` (the upstream is told nobody is calling: no
 * identity headers, not even forged ones); a protected call is challenged before the upstream
 * sees it; sessions opened with and without a token stay apart.
 */

const PRM_URL = 'http://localhost:3000/.well-known/oauth-protected-resource/mcp';
const IDENTITY = { subject: 'X-Portcullis-Subject', client: 'X-Portcullis-Client', scopes: 'X-Portcullis-Scopes' };

describe('public tools through the gateway (HTTP upstream)', () => {
  let upstream: HttpUpstream;
  let t: TestApp;
  before(async () => {
    upstream = await startHttpUpstream({ requiredAuthorization: `Bearer ${GATEWAY_CREDENTIAL}` });
  });
  after(async () => {
    await t?.close();
    await upstream.close();
  });
  beforeEach(async () => {
    await t?.close();
    t = await createGatewayApp(
      { url: upstream.url, bearerToken: GATEWAY_CREDENTIAL, identityHeaders: IDENTITY, toolScopes: { burst: ['admin'] } },
      {
        scopes: [{ name: 'mcp', description: 'Use the tools' }, { name: 'admin', description: 'Administer' }],
        defaultScopes: ['mcp'],
        toolPolicy: { public: { tools: ['echo'] } },
      },
    );
    upstream.requests.length = 0;
  });

  for (const era of ['legacy', 'modern'] as const) {
    it(`without a token: the upstream's list with securitySchemes, and echo called as nobody (${era})`, async () => {
      const { client } = await connectWithToken(t.ctx.config.resource, null, { fetch: appFetch(t), era });
      const tools = new Map((await client.listTools()).tools.map((tool) => [tool.name, tool._meta?.['securitySchemes']]));
      assert.deepEqual(tools.get('echo'), [{ type: 'noauth' }, { type: 'oauth2', scopes: [] }]);
      assert.deepEqual(tools.get('burst'), [{ type: 'oauth2', scopes: ['mcp', 'admin'] }]);
      assert.deepEqual(tools.get('release'), [{ type: 'oauth2', scopes: ['mcp'] }]);
      const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
      assert.deepEqual(result.content, [{ type: 'text', text: 'echo: hi' }]);
      const call = upstream.requests.find((r) => r.body.includes('tools/call'))!;
      for (const name of Object.values(IDENTITY)) assert.equal(call.headers[name.toLowerCase()], undefined, `${name} not sent for nobody`);
      assert.equal(call.headers['authorization'], `Bearer ${GATEWAY_CREDENTIAL}`, 'the gateway still authenticates itself');
      await client.close();
    });
  }

  it('RS-03b without a token a protected tool: 401 with resource_metadata (and the tool error body), and the upstream never sees the call', async () => {
    const response = await post(t, toolCallMessage('release', { key: 'k' }, 4), { 'MCP-Protocol-Version': '2026-07-28' });
    assert.equal(response.status, 401);
    const header = response.headers.get('WWW-Authenticate');
    assert.equal(parseChallenge(header).params['resource_metadata'], PRM_URL);
    assert.deepEqual((await response.json()).result._meta['mcp/www_authenticate'], [header]);
    assert.equal(calledUpstream(upstream, 'release'), false);
  });

  it('a forged identity header of a caller without a token never reaches the upstream', async () => {
    const sessionId = await openLegacySession(t, {});
    const response = await post(t, toolCallMessage('echo', { text: 'x' }), { ...inSession({}, sessionId), 'X-Portcullis-Subject': 'usr_victim', 'X-Portcullis-Scopes': 'mcp admin' });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    const call = upstream.requests.find((r) => r.body.includes('tools/call'))!;
    assert.equal(call.headers['x-portcullis-subject'], undefined);
    assert.equal(call.headers['x-portcullis-scopes'], undefined);
  });

  it('with a token: protected and public tools work, the upstream is told who calls', async () => {
    const who = await signInToGateway(t, { scopes: ['mcp', 'admin'] });
    const { client } = await connectWithToken(t.ctx.config.resource, who.token, { fetch: appFetch(t), era: 'modern' });
    await client.callTool({ name: 'echo', arguments: { text: 'signed in' } });
    await client.callTool({ name: 'burst', arguments: { count: 1 } });
    assert.equal(calledUpstream(upstream, 'burst'), true);
    const call = upstream.requests.find((r) => r.body.includes('signed in'))!;
    assert.equal(call.headers['x-portcullis-subject'], who.user.id);
    await client.close();
  });

  it('RS-23 session riding: a signed-in gateway session is not found without its token, nor an anonymous one with a token', async () => {
    const who = await signInToGateway(t, { scopes: ['mcp'] });
    const theirs = await openLegacySession(t, who.auth);
    const before = upstream.requests.length;
    const ride = await post(t, toolCallMessage('echo', { text: 'ride' }), inSession({}, theirs));
    assert.equal(ride.status, 404);
    const stream = await t.request(t.ctx.config.mcpPath, { method: 'GET', headers: { Accept: 'text/event-stream', ...inSession({}, theirs) } });
    assert.equal(stream.status, 404);
    assert.equal(upstream.requests.length, before, 'the upstream was not asked');

    const anonymous = await openLegacySession(t, {});
    const takeover = await post(t, toolCallMessage('echo', { text: 'mine now' }), inSession(who.auth, anonymous));
    assert.equal(takeover.status, 404);
    const own = await post(t, toolCallMessage('echo', { text: 'nobody' }), inSession({}, anonymous));
    assert.equal(own.status, 200, 'the anonymous session itself still works');
    await own.body?.cancel();
  });
});

describe('public tools through the gateway (stdio upstream)', () => {
  it('without a token: echo listed and called in a session of its own; a signed-in session is not found without its token', async () => {
    const t = await createGatewayApp({ command: stdioFixtureCommand() }, { toolPolicy: { public: { tools: ['echo'] } } });
    try {
      const { client } = await connectWithToken(t.ctx.config.resource, null, { fetch: appFetch(t), era: 'legacy' });
      const tools = new Map((await client.listTools()).tools.map((tool) => [tool.name, tool._meta?.['securitySchemes']]));
      assert.deepEqual(tools.get('echo'), [{ type: 'noauth' }, { type: 'oauth2', scopes: [] }]);
      assert.deepEqual(tools.get('pid'), [{ type: 'oauth2', scopes: ['mcp'] }]);
      assert.deepEqual((await client.callTool({ name: 'echo', arguments: { text: 'hi' } })).content, [{ type: 'text', text: 'echo: hi' }]);
      await assert.rejects(client.callTool({ name: 'pid', arguments: {} }), (error: { status?: number }) => error.status === 401);
      await client.close();

      const who = await signInToGateway(t);
      const theirs = await openLegacySession(t, who.auth);
      const ride = await post(t, toolCallMessage('echo', { text: 'ride' }), inSession({}, theirs));
      assert.equal(ride.status, 404);
    } finally {
      await t.close();
    }
  });
});
