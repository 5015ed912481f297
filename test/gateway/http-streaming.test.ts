import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { startHttpUpstream, type HttpUpstream } from '../fixtures/upstream/http-server.ts';
import { returnedAt } from '../fixtures/upstream/tools.ts';
import type { TestApp } from '../helpers/app.ts';
import { initializeMessage, LEGACY_VERSION, mcpHeaders } from '../mcp/wire.ts';
import type { SignedIn } from '../resource/fixtures.ts';
import { connectWithToken, createGatewayApp, eventually, serveOnLoopback, signInToGateway } from './helpers.ts';

/**
 * Issue 4, part 2 over real sockets: the client ↔ gateway on 127.0.0.1 ↔ the upstream on
 * 127.0.0.1. Streams are relayed event by event, and a client that leaves takes the upstream
 * stream down with it.
 */

describe('gateway → HTTP upstream: SSE streaming over real sockets', () => {
  let upstream: HttpUpstream;
  let t: TestApp;
  let served: Awaited<ReturnType<typeof serveOnLoopback>>;
  let who: SignedIn;
  const clients: Client[] = [];

  before(async () => {
    upstream = await startHttpUpstream();
    t = await createGatewayApp({ url: upstream.url });
    served = await serveOnLoopback(t);
    who = await signInToGateway(t);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await t.close();
    await served.close();
    await upstream.close();
  });

  const connect = async (url: string, token?: string) => {
    const { client } = await connectWithToken(url, token ?? '');
    clients.push(client);
    return client;
  };

  it('issue 4: an SSE event reaches the client while the upstream is still working (nothing is buffered)', async (ctx) => {
    const client = await connect(served.mcpUrl, who.token);
    const key = 'first-event';
    const started = performance.now();
    let firstEventAt = 0;
    let upstreamHadReturned: boolean | undefined;
    const sawProgress = new Promise<void>((resolve) => {
      void client
        .callTool({ name: 'hold', arguments: { key } }, {
          onprogress: () => {
            firstEventAt ||= performance.now();
            upstreamHadReturned ??= returnedAt.has(key);
            resolve();
          },
        })
        .then((result) => (heldResult = result));
    });
    let heldResult: unknown;
    await Promise.race([sawProgress, new Promise((_, reject) => setTimeout(() => reject(new Error('no progress event within 10 s')), 10_000).unref())]);
    assert.equal(upstreamHadReturned, false, 'the upstream had not finished when the client saw its first event');
    assert.equal(heldResult, undefined, 'nor had the client got the result');

    await client.callTool({ name: 'release', arguments: { key } });
    await eventually(() => heldResult !== undefined, 'the held call returned');
    const finishedAt = performance.now();
    assert.ok(firstEventAt < returnedAt.get(key)!, 'first event before the upstream returned');
    ctx.diagnostic(`first event after ${(firstEventAt - started).toFixed(1)} ms; the call ended after ${(finishedAt - started).toFixed(1)} ms, once released`);
  });

  it('issue 4: first-byte latency is a fraction of the upstream\'s delay (a `slow` tool that reports progress, waits, then answers)', async (ctx) => {
    const client = await connect(served.mcpUrl, who.token);
    const delayMs = 600;
    const started = performance.now();
    let firstEventAt = 0;
    await client.callTool({ name: 'slow', arguments: { delayMs } }, { onprogress: () => void (firstEventAt ||= performance.now()) });
    const total = performance.now() - started;
    const firstByte = firstEventAt - started;
    ctx.diagnostic(`first event ${firstByte.toFixed(1)} ms, whole call ${total.toFixed(1)} ms, upstream delay ${delayMs} ms`);
    assert.ok(firstEventAt > 0, 'the progress event arrived');
    assert.ok(total >= delayMs, 'the call took the upstream delay');
    assert.ok(firstByte < delayMs, 'the first event did not wait for the upstream to finish');
  });

  it('a client that disconnects mid-stream cancels the upstream stream (the gateway does not keep reading for nobody)', async () => {
    const auth = { Authorization: `Bearer ${who.token}` };
    const init = await fetch(served.mcpUrl, { method: 'POST', headers: mcpHeaders(auth), body: JSON.stringify(initializeMessage()) });
    const sessionId = init.headers.get('Mcp-Session-Id')!;
    await init.body?.cancel();
    const session = { ...auth, 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': LEGACY_VERSION };
    await (await fetch(served.mcpUrl, { method: 'POST', headers: mcpHeaders(session), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).body?.cancel();

    const abandonedBefore = upstream.abandonedResponses();
    const leave = new AbortController();
    const call = { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'hold', arguments: { key: 'disconnect' }, _meta: { progressToken: 'p-5' } } };
    const response = await fetch(served.mcpUrl, { method: 'POST', headers: mcpHeaders(session), body: JSON.stringify(call), signal: leave.signal });
    assert.equal(response.headers.get('Content-Type'), 'text/event-stream');
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /notifications\/progress/, 'the stream is live');
    leave.abort();
    await reader.cancel().catch(() => {});

    await eventually(() => upstream.abandonedResponses() > abandonedBefore, "the upstream saw its response's connection closed");
    assert.equal(returnedAt.has('disconnect'), false, 'closed while the upstream was still holding the call');
    // Let the fixture's held call go.
    const release = { jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'release', arguments: { key: 'disconnect' } } };
    await (await fetch(upstream.url, { method: 'POST', headers: mcpHeaders({ 'Mcp-Session-Id': upstream.sessionIds.at(-1)!, 'MCP-Protocol-Version': LEGACY_VERSION }), body: JSON.stringify(release) })).body?.cancel();
  });

  it('closing note: the proxy\'s added latency per request and per SSE event, measured (reported, not asserted)', async (ctx) => {
    const direct = await connect(upstream.url);
    const viaGateway = await connect(served.mcpUrl, who.token);
    const requests = 40;
    const events = 1000;
    const timeCalls = async (client: Client): Promise<number> => {
      const started = performance.now();
      for (let i = 0; i < requests; i++) await client.callTool({ name: 'echo', arguments: { text: String(i) } });
      return (performance.now() - started) / requests;
    };
    const timeBurst = async (client: Client): Promise<number> => {
      let seen = 0;
      const started = performance.now();
      await client.callTool({ name: 'burst', arguments: { count: events } }, { onprogress: () => void seen++ });
      assert.equal(seen, events);
      return (performance.now() - started) / events;
    };
    // Warm both paths (JIT, connection pools, the gateway's token cache), then take the best of three rounds each.
    const best = async (measure: () => Promise<number>) => Math.min(await measure(), await measure(), await measure());
    for (const client of [direct, viaGateway]) {
      await timeCalls(client);
      await timeBurst(client);
    }
    const perRequest = { direct: await best(() => timeCalls(direct)), gateway: await best(() => timeCalls(viaGateway)) };
    const perEvent = { direct: await best(() => timeBurst(direct)), gateway: await best(() => timeBurst(viaGateway)) };
    ctx.diagnostic(
      `per request: direct ${perRequest.direct.toFixed(2)} ms, via gateway ${perRequest.gateway.toFixed(2)} ms, added ${(perRequest.gateway - perRequest.direct).toFixed(2)} ms`,
    );
    ctx.diagnostic(
      `per SSE event (burst of ${events}): direct ${(perEvent.direct * 1000).toFixed(1)} µs, via gateway ${(perEvent.gateway * 1000).toFixed(1)} µs, added ${((perEvent.gateway - perEvent.direct) * 1000).toFixed(1)} µs`,
    );
  });
});
