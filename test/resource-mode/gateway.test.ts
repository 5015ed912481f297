import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/util/clock.ts';
import { startHttpUpstream, type HttpUpstream } from '../fixtures/upstream/http-server.ts';
import { appFetch, connectWithToken } from '../gateway/helpers.ts';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../helpers/app.ts';
import { post, toolCallMessage } from '../mcp/wire.ts';
import { createTestIssuer, type TestIssuer } from '../resource/test-issuer.ts';

/**
 * Resource-only mode and gateway mode together: an MCP server without auth, fronted by Portcullis,
 * with the tokens of an authorization server the operator already has (seed 1's Stytch, seed 2's
 * upstream server). The checks are the same; only where the tokens come from changes.
 */
describe('resource-only gateway: external tokens in front of an upstream MCP server', () => {
  let upstream: HttpUpstream;
  let issuer: TestIssuer;
  let t: TestApp;

  before(async () => {
    upstream = await startHttpUpstream();
    issuer = await createTestIssuer({ issuer: 'https://as.example', resource: `${TEST_ORIGIN}/mcp`, clock: new ManualClock(Date.now()) });
    // The issuer in-process, the upstream over a loopback socket.
    const outbound: typeof fetch = (input, init) => (new Request(input, init).url.startsWith(`${issuer.issuer}/`) ? issuer.fetch(input, init) : globalThis.fetch(input, init));
    t = await createTestApp({ upstream: { url: upstream.url }, authorizationServer: { issuer: issuer.issuer } }, { fetch: outbound });
  });
  after(async () => {
    await t.close();
    await upstream.close();
  });

  it('a token of the external server with the gateway scope reaches the upstream tools; the upstream is told who calls', async () => {
    const token = await issuer.sign({ claims: { sub: 'ext-user-7', scope: 'mcp' } });
    const { client } = await connectWithToken(t.ctx.config.resource, token, { era: 'modern', fetch: appFetch(t) });
    try {
      const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
      assert.deepEqual(result.content, [{ type: 'text', text: 'echo: hi' }]);
    } finally {
      await client.close();
    }
    assert.ok(upstream.requests.some((r) => r.headers['x-portcullis-subject'] === 'ext-user-7'));
    assert.ok(upstream.requests.every((r) => !(r.headers['authorization'] ?? '').includes(token)), 'RS-19: the client\'s token is never passed upstream');
  });

  it('RS-08: a token of the external server for another resource never reaches the upstream', async () => {
    const before = upstream.requests.length;
    const response = await post(t, toolCallMessage('echo', { text: 'x' }), { Authorization: `Bearer ${await issuer.sign({ claims: { aud: 'https://other.example/mcp', scope: 'mcp' } })}` });
    assert.equal(response.status, 401);
    assert.equal(upstream.requests.length, before);
  });
});
