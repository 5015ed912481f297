import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHttpUpstream, type HttpUpstream } from '../fixtures/upstream/http-server.ts';
import type { TestApp } from '../helpers/app.ts';
import { createGatewayApp, GATEWAY_CREDENTIAL, serveOnLoopback, signInToGateway } from '../gateway/helpers.ts';
import { initializeMessage, mcpHeaders } from '../mcp/wire.ts';
import { assertDpopChallenge, connectWithDpop, craftProof, createDpopClientKey, dpopAuth } from './dpop-client.ts';

/**
 * RFC 9449 §7 in gateway mode: the gateway checks the DPoP proof like the built-in endpoint, and
 * neither the proof nor the client's `DPoP` credential reaches the upstream (MCP RS-19: the token is
 * for this server only). The gateway listens on a loopback socket reached as through a reverse
 * proxy: proofs name the public MCP URL, requests go to the socket.
 */
describe('DPoP through the gateway (RFC 9449 §7, RS-19)', () => {
  let upstream: HttpUpstream;
  let t: TestApp;
  let socket: Awaited<ReturnType<typeof serveOnLoopback>>;

  before(async () => {
    upstream = await startHttpUpstream({ requiredAuthorization: `Bearer ${GATEWAY_CREDENTIAL}` });
    t = await createGatewayApp({ url: upstream.url, bearerToken: GATEWAY_CREDENTIAL });
    socket = await serveOnLoopback(t);
  });
  after(async () => {
    await socket.close();
    await t.close();
    await upstream.close();
  });

  /** A reverse proxy: the request names the public URL, the socket serves it. */
  const viaProxy: typeof fetch = (input, init) => fetch(String(input).replace(t.ctx.config.issuer, socket.origin), init);

  it('a DPoP-bound token with proofs reaches the upstream tools; the upstream never sees the proof or the token', async () => {
    const key = await createDpopClientKey();
    const who = await signInToGateway(t, { dpopJkt: key.jkt });
    upstream.requests.length = 0;
    const client = await connectWithDpop(t.ctx.config.resource, key, who.token, viaProxy);
    try {
      const result = await client.callTool({ name: 'echo', arguments: { text: 'bound' } });
      assert.equal((result.content as Array<{ text?: string }>)[0]?.text, 'echo: bound');
    } finally {
      await client.close();
    }
    assert.ok(upstream.requests.length >= 3);
    for (const request of upstream.requests) {
      assert.equal(request.headers['authorization'], `Bearer ${GATEWAY_CREDENTIAL}`);
      assert.equal(request.headers['dpop'], undefined, 'no DPoP proof upstream');
      assert.ok(!JSON.stringify(request).includes(who.token), 'the client token appears nowhere upstream');
    }
  });

  it('the gateway refuses a replayed proof and a bound token as Bearer before anything reaches the upstream', async () => {
    const key = await createDpopClientKey();
    const who = await signInToGateway(t, { dpopJkt: key.jkt });
    const proof = await craftProof(key, { htu: t.ctx.config.resource, accessToken: who.token });
    const send = (headers: Record<string, string>) => viaProxy(t.ctx.config.resource, { method: 'POST', headers: mcpHeaders(headers), body: JSON.stringify(initializeMessage()) });
    const first = await send(dpopAuth(who.token, proof));
    assert.equal(first.status, 200);
    await first.body?.cancel();
    upstream.requests.length = 0;
    await assertDpopChallenge(await send(dpopAuth(who.token, proof)), 'invalid_dpop_proof');
    await assertDpopChallenge(await send({ Authorization: `Bearer ${who.token}` }), 'invalid_token');
    assert.equal(upstream.requests.length, 0);
  });
});
