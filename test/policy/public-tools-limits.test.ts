import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHttpUpstream } from '../fixtures/upstream/http-server.ts';
import { createGatewayApp, GATEWAY_CREDENTIAL, quoteWord, serveOnLoopback, signInToGateway, stdioFixtureCommand } from '../gateway/helpers.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { initializeMessage, inSession, mcpHeaders, openLegacySession, post, rpcResult, toolCallMessage } from '../mcp/wire.ts';
import { signIn } from '../resource/fixtures.ts';

/**
 * What a caller without a token cannot do to the others (public tools): open sessions without
 * bound (a rate per address), push anyone else's session out of the shared anonymous pool (a full
 * pool refuses the newcomer), or make the stdio gateway start a process for a request the transport
 * refuses anyway.
 */

const PUBLIC_POLICY = { toolPolicy: { public: { tools: ['server_info'] } } };

describe('public tools: anonymous sessions are opened at a bounded rate per address (real HTTP on loopback)', () => {
  let t: TestApp;
  let served: Awaited<ReturnType<typeof serveOnLoopback>>;
  before(async () => {
    t = await createTestApp(PUBLIC_POLICY);
    served = await serveOnLoopback(t);
  });
  after(async () => {
    await served.close();
    await t.close();
  });
  const initialize = (headers: Record<string, string> = {}) => fetch(served.mcpUrl, { method: 'POST', headers: mcpHeaders(headers), body: JSON.stringify(initializeMessage()) });

  it('SEC-48 the 31st anonymous initialize within a minute gets 429 with Retry-After (a JSON-RPC error); signed-in callers are not counted; the next minute it works again', async () => {
    for (let i = 0; i < 30; i++) {
      const response = await initialize();
      assert.equal(response.status, 200, `initialize ${i + 1}`);
      await response.body?.cancel();
    }
    const refused = await initialize();
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('Retry-After'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    const body = (await refused.json()) as { jsonrpc: string; error: { code: number; message: string } };
    assert.equal(body.jsonrpc, '2.0');
    assert.equal(body.error.code, -32000);

    const who = await signIn(t, { scopes: ['tasks:read'] });
    const signedIn = await initialize(who.auth);
    assert.equal(signedIn.status, 200, 'a token is not held to the anonymous rate');
    await signedIn.body?.cancel();

    t.clock.advance(61_000);
    const later = await initialize();
    assert.equal(later.status, 200, 'a new window');
    await later.body?.cancel();
  });
});

describe('public tools through the stdio gateway: the anonymous pool (8 processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-anonymous-pool-'));
  const started = join(dir, 'started');
  /** The fixture, started through a shell that first notes every start in a file. */
  const countingCommand = `/bin/sh -c ${quoteWord(`echo started >> '${started}'; exec ${stdioFixtureCommand()}`)}`;
  const starts = () => (existsSync(started) ? readFileSync(started, 'utf8').split('\n').filter(Boolean).length : 0);
  let t: TestApp;
  before(async () => {
    t = await createGatewayApp({ command: countingCommand }, { toolPolicy: { public: { tools: ['echo'] } } });
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an anonymous initialize the transport would refuse (Accept without SSE: 406, a batch: 400) starts no process', async () => {
    const wrongAccept = await t.request('/mcp', { method: 'POST', headers: { ...mcpHeaders(), Accept: 'application/json' }, body: JSON.stringify(initializeMessage()) });
    assert.equal(wrongAccept.status, 406);
    const batch = await post(t, [initializeMessage(1), { jsonrpc: '2.0', id: 2, method: 'ping' }]);
    assert.equal(batch.status, 400);
    assert.equal(starts(), 0, 'no child was started for either');
    assert.equal(t.mcp.sessionCount, 0);
  });

  it('when all 8 are taken the 9th is refused (503, Retry-After) and nobody else\'s session is ended; a signed-in caller still gets one', async () => {
    const before = starts();
    const sessions: string[] = [];
    for (let i = 0; i < 8; i++) sessions.push(await openLegacySession(t, {}));
    const full = await post(t, initializeMessage());
    assert.equal(full.status, 503);
    assert.ok(Number(full.headers.get('Retry-After')) > 0);
    assert.equal(((await full.json()) as { error: { code: number } }).error.code, -32000);
    assert.equal(starts() - before, 8, 'no process was started for the refused one');
    for (const id of sessions) {
      const call = await rpcResult(await post(t, toolCallMessage('echo', { text: 'still here' }), inSession({}, id)));
      assert.deepEqual((call.result as { content: unknown }).content, [{ type: 'text', text: 'echo: still here' }], 'every anonymous session still works');
    }

    const who = await signInToGateway(t);
    await openLegacySession(t, who.auth);

    // Once one ends (its DELETE), its slot is free again.
    const ended = await t.request('/mcp', { method: 'DELETE', headers: inSession({}, sessions[0]!) });
    assert.equal(ended.status, 200);
    await openLegacySession(t, {});
  });
});

describe('public tools through the HTTP gateway: the anonymous pool (256 sessions)', () => {
  it('when all 256 are taken the next is refused (503) before the upstream is asked, and the oldest still works', { timeout: 60_000 }, async () => {
    const upstream = await startHttpUpstream({ requiredAuthorization: `Bearer ${GATEWAY_CREDENTIAL}` });
    // Idle sessions last an hour here: the clock moves on a minute per 30 sessions (the rate per address).
    const t = await createGatewayApp({ url: upstream.url, bearerToken: GATEWAY_CREDENTIAL }, { mcpSessionIdleTtl: 3600, toolPolicy: { public: { tools: ['echo'] } } });
    try {
      const sessions: string[] = [];
      for (let i = 0; i < 256; i++) {
        if (i > 0 && i % 30 === 0) t.clock.advance(60_000);
        sessions.push(await openLegacySession(t, {}));
      }
      t.clock.advance(60_000);
      const initializesBefore = upstream.requests.filter((r) => r.body.includes('"initialize"')).length;
      const full = await post(t, initializeMessage());
      assert.equal(full.status, 503);
      assert.ok(Number(full.headers.get('Retry-After')) > 0);
      assert.equal(upstream.requests.filter((r) => r.body.includes('"initialize"')).length, initializesBefore, 'the upstream was not asked');
      const oldest = await rpcResult(await post(t, toolCallMessage('echo', { text: 'first' }), inSession({}, sessions[0]!)));
      assert.deepEqual((oldest.result as { content: unknown } | undefined)?.content, [{ type: 'text', text: 'echo: first' }], `nobody was evicted: ${JSON.stringify(oldest)}`);
    } finally {
      await t.close();
      await upstream.close();
    }
  });
});
