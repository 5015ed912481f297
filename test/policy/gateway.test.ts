import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { POLICY_DENIED_CODE } from '../../src/policy/enforce.ts';
import { startHttpUpstream, type HttpUpstream } from '../fixtures/upstream/http-server.ts';
import { calledUpstream, connectWithToken, appFetch, createGatewayApp, GATEWAY_CREDENTIAL, signInToGateway } from '../gateway/helpers.ts';
import type { TestApp } from '../helpers/app.ts';
import { post, toolCallMessage } from '../mcp/wire.ts';
import { parseChallenge } from '../resource/fixtures.ts';

/**
 * Tool policy in gateway mode (issue 14 part 4): the upstream's `tools/list` answers are filtered
 * on their way back, and a forbidden `tools/call` never reaches the upstream. Official SDK client,
 * a real HTTP upstream on loopback.
 */

describe('gateway tool policy (HTTP upstream)', () => {
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
      { url: upstream.url, bearerToken: GATEWAY_CREDENTIAL },
      {
        scopes: [{ name: 'mcp', description: 'Use the tools' }, { name: 'admin', description: 'Administer' }],
        defaultScopes: ['mcp'],
        toolPolicy: { rules: [{ tools: ['slow', 'bur*'], scopes: ['admin'] }, { tools: ['release'], groups: ['ops'] }] },
      },
    );
    upstream.requests.length = 0;
  });

  for (const era of ['legacy', 'modern'] as const) {
    it(`SEP-1881 the upstream's tools/list reaches the client with only what it may call (${era})`, async () => {
      const who = await signInToGateway(t, { scopes: ['mcp'] });
      const { client } = await connectWithToken(t.ctx.config.resource, who.token, { fetch: appFetch(t), era });
      const listed = (await client.listTools()).tools.map((x) => x.name);
      assert.ok(listed.includes('echo'));
      for (const hidden of ['slow', 'burst', 'release']) assert.ok(!listed.includes(hidden), hidden);
      await client.close();

      const admin = await signInToGateway(t, { scopes: ['mcp', 'admin'] });
      await t.storage.users.setGroups(admin.user.id, ['ops']);
      const { client: full } = await connectWithToken(t.ctx.config.resource, admin.token, { fetch: appFetch(t), era });
      const all = (await full.listTools()).tools.map((x) => x.name);
      for (const shown of ['echo', 'slow', 'burst', 'release']) assert.ok(all.includes(shown), shown);
      await full.close();
    });
  }

  it('RS-12 a call more scope would allow: 403 insufficient_scope naming the scopes, and the upstream never sees it', async () => {
    const who = await signInToGateway(t, { scopes: ['mcp'] });
    const response = await post(t, toolCallMessage('burst', { count: 1 }), who.auth);
    assert.equal(response.status, 403);
    const { params } = parseChallenge(response.headers.get('WWW-Authenticate'));
    assert.equal(params['error'], 'insufficient_scope');
    assert.equal(params['scope'], 'mcp admin');
    assert.equal(calledUpstream(upstream, 'burst'), false);
  });

  it('a call no scope would allow (not in the group): a plain MCP error from the SDK client, and the upstream never sees it', async () => {
    const who = await signInToGateway(t, { scopes: ['mcp', 'admin'] });
    const { client } = await connectWithToken(t.ctx.config.resource, who.token, { fetch: appFetch(t), era: 'modern' });
    await assert.rejects(client.callTool({ name: 'release', arguments: { key: 'k' } }), (error: { code?: number }) => error.code === POLICY_DENIED_CODE);
    assert.equal(calledUpstream(upstream, 'release'), false);
    await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    assert.equal(calledUpstream(upstream, 'echo'), true, 'an allowed call still goes through, so the check above could fail');
    await client.close();
  });

  it('2026-07-28 Mcp-Name that disagrees with the body: 400 -32020, and the upstream never sees it', async () => {
    const who = await signInToGateway(t, { scopes: ['mcp'] });
    const headers = { ...who.auth, 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'echo' };
    const response = await post(t, toolCallMessage('release', { key: 'k' }), headers);
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error.code, -32020);
    assert.equal(upstream.requests.length, 0);
  });
});
