import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHttpUpstream, type HttpUpstream } from '../fixtures/upstream/http-server.ts';
import { returnedAt } from '../fixtures/upstream/tools.ts';
import type { InMemoryOAuthProvider } from '../helpers/e2e.ts';
import { startWorker, type WorkerServer } from './harness.ts';
import { mcpClient, signInWithSdk, type Era } from './sign-in.ts';

/**
 * Seed 2's deployment, done safely: the Worker as a gateway to an HTTP MCP server named by
 * `REMOTE_MCP_SERVER_URL` (the SDK fixture on 127.0.0.1, reached through the Worker's outbound
 * fetch), with the same relay guarantees as on Node: the gateway's credential instead of the
 * client's token, the caller's identity in headers, session handles of its own, streams unbuffered,
 * a failing upstream answered 502.
 */

const ADMIN = { username: 'admin', password: 'gateway admin password 1' } as const;
const CREDENTIAL = 'gateway-credential-for-the-upstream-0123456789';
/** The handle with one character in its middle changed (the last one may carry only padding bits). */
const altered = (handle: string): string => {
  const at = Math.floor(handle.length / 2);
  return `${handle.slice(0, at)}${handle[at] === 'A' ? 'B' : 'A'}${handle.slice(at + 1)}`;
};
const textOf = (result: { content?: unknown }) => (result.content as Array<{ text?: string }> | undefined)?.[0]?.text ?? '';

describe('Workers gateway → HTTP upstream (REMOTE_MCP_SERVER_URL)', () => {
  let upstream: HttpUpstream;
  let worker: WorkerServer;
  let provider: InMemoryOAuthProvider;
  let upstreamUp = true;

  before(async () => {
    upstream = await startHttpUpstream({ requiredAuthorization: `Bearer ${CREDENTIAL}` });
    const upstreamOrigin = new URL(upstream.url).origin;
    worker = await startWorker({
      replicas: 1,
      vars: {
        PORTCULLIS_INITIAL_ADMIN_PASSWORD: ADMIN.password,
        // Seed 2's names: the upstream's origin (the gateway posts to <it>/mcp) and its token.
        REMOTE_MCP_SERVER_URL: upstreamOrigin,
        REMOTE_MCP_AUTH_TOKEN: CREDENTIAL,
      },
      outbound: (request) => (upstreamUp && new URL(request.url).origin === upstreamOrigin ? fetch(request) : undefined),
    });
    provider = await signInWithSdk(worker, ADMIN);
  });
  after(async () => {
    await worker.close();
    await upstream.close();
  });

  for (const era of ['2025-era', '2026-07-28'] as const satisfies readonly Era[]) {
    it(`issue 4 on Workers: the upstream's tools, called through the Worker (${era})`, async () => {
      upstream.requests.length = 0;
      const { client, transport } = mcpClient(worker, provider, era);
      await client.connect(transport);
      try {
        assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ['burst', 'echo', 'hold', 'release', 'slow']);
        assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'from a Worker' } })), 'echo: from a Worker');
        assert.equal(upstream.requests.some((r) => r.headers['mcp-protocol-version'] === '2026-07-28'), era === '2026-07-28', 'the era under test is the one relayed');
        if (era === '2025-era') {
          // RS-22: the upstream's predictable id never reaches the client; the Worker's handle does.
          assert.ok(transport.sessionId, 'a session through the gateway');
          assert.ok(!upstream.sessionIds.includes(transport.sessionId!));
          assert.ok(!Buffer.from(transport.sessionId!, 'base64url').toString('latin1').includes('upstream-session'), 'the upstream id cannot be read in it');
          assert.match(transport.sessionId!, /^[A-Za-z0-9_-]{64,}$/);
        }
      } finally {
        await client.close();
      }
    });
  }

  it("RS-19 the upstream gets the gateway's credential and the caller's identity, never the client's token", async () => {
    upstream.requests.length = 0;
    const { client, transport } = mcpClient(worker, provider, '2026-07-28');
    await client.connect(transport);
    await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    await client.close();
    assert.ok(upstream.requests.length >= 1);
    for (const request of upstream.requests) {
      assert.equal(request.headers['authorization'], `Bearer ${CREDENTIAL}`);
      assert.ok(!JSON.stringify(request).includes(provider.tokenSet!.access_token), 'the client token appears nowhere upstream');
      assert.match(request.headers['x-portcullis-subject'] ?? '', /^usr_/);
      assert.equal(request.headers['x-portcullis-client'], provider.client?.client_id);
    }
  });

  it('issue 4 on Workers: an SSE progress event reaches the client while the upstream is still working', async () => {
    const { client, transport } = mcpClient(worker, provider, '2026-07-28');
    await client.connect(transport);
    try {
      const key = 'workers-first-event';
      let upstreamHadReturned: boolean | undefined;
      let result: unknown;
      const progressed = new Promise<void>((resolve) => {
        void client
          .callTool({ name: 'hold', arguments: { key } }, { onprogress: () => ((upstreamHadReturned ??= returnedAt.has(key)), resolve()) })
          .then((r) => (result = r));
      });
      await Promise.race([progressed, new Promise((_, reject) => setTimeout(() => reject(new Error('no progress event within 10 s')), 10_000).unref())]);
      assert.equal(upstreamHadReturned, false, 'the event came before the upstream finished');
      assert.equal(result, undefined);
      await client.callTool({ name: 'release', arguments: { key } });
      for (let i = 0; i < 100 && result === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(textOf(result as unknown as { content?: unknown }), `released ${key}`);
    } finally {
      await client.close();
    }
  });

  it('RS-22/RS-23 a 2025-era session through the gateway is served by whichever isolate gets it, and by no one else', async () => {
    const headers = (token: string) => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' });
    const initialize = await fetch(`${worker.origin}/mcp`, {
      method: 'POST',
      headers: headers(provider.tokenSet!.access_token),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    assert.equal(initialize.status, 200);
    await initialize.body?.cancel();
    const handle = initialize.headers.get('Mcp-Session-Id')!;
    const list = (send: typeof fetch, token: string, sessionId = handle) =>
      send(`${worker.origin}/mcp`, { method: 'POST', headers: { ...headers(token), 'Mcp-Session-Id': sessionId, 'Mcp-Protocol-Version': '2025-06-18' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    for (const send of [worker.replicaFetch(1), fetch, worker.replicaFetch(1)]) {
      const answer = await list(send, provider.tokenSet!.access_token);
      assert.equal(answer.status, 200, 'either isolate serves the session');
      await answer.body?.cancel();
    }
    assert.equal(upstream.requests.filter((r) => r.headers['mcp-session-id'] === upstream.sessionIds.at(-1)).length, 3, 'all in the one upstream session');

    // The same user through another client, and an altered handle: no such session (404), upstream not asked.
    const other = await signInWithSdk(worker, ADMIN, { clientName: 'Another client' });
    assert.notEqual(other.client?.client_id, provider.client?.client_id);
    const asked = upstream.requests.length;
    for (const [token, sessionId] of [[other.tokenSet!.access_token, handle], [provider.tokenSet!.access_token, altered(handle)]] as const) {
      const refused = await list(worker.replicaFetch(1), token, sessionId);
      assert.equal(refused.status, 404);
      assert.equal(((await refused.json()) as { error: { code: number } }).error.code, -32001);
    }
    assert.equal(upstream.requests.length, asked);
  });

  it('an upstream that cannot be reached → 502 with a JSON-RPC error, never a hang or a 500', async () => {
    upstreamUp = false;
    try {
      const response = await fetch(`${worker.origin}/mcp`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${provider.tokenSet!.access_token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
      });
      assert.equal(response.status, 502);
      const body = (await response.json()) as { id: number; error: { message: string } };
      assert.equal(body.id, 9);
      assert.ok(!JSON.stringify(body).includes('127.0.0.1'), 'the upstream is not disclosed');
    } finally {
      upstreamUp = true;
    }
  });
});
