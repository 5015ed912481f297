import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readCappedBody } from '../../src/http/capped-body.ts';
import { readJsonBody } from '../../src/mcp/json-rpc.ts';

/** A body of `chunks` chunks of `size` bytes produced on demand, counting what was pulled. */
function counted(chunks: number, size = 1024) {
  const state = { pulled: 0, cancelled: false };
  const chunk = new Uint8Array(size).fill(0x61);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled === chunks) return controller.close();
      state.pulled++;
      controller.enqueue(chunk);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

const post = (body: ReadableStream<Uint8Array> | string, headers: Record<string, string> = {}) =>
  new Request('http://localhost/x', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);

describe('One capped body reader for requests and fetched responses', () => {
  it('SHAPE-5 a body within the cap is read whole, streamed or not', async () => {
    const { stream } = counted(4);
    const streamed = await readCappedBody(post(stream), 4096);
    assert.ok(streamed.ok && streamed.bytes.byteLength === 4096);
    const declared = await readCappedBody(post('a=b', { 'Content-Length': '3' }), 3, { trustDeclaredLength: true });
    assert.ok(declared.ok);
    assert.equal(new TextDecoder().decode(declared.bytes), 'a=b');
  });

  it('SHAPE-5 a streamed body is refused as soon as it passes the cap, and the rest is cancelled, not drained', async () => {
    const { stream, state } = counted(1024);
    const result = await readCappedBody(post(stream), 8 * 1024);
    assert.deepEqual(result, { ok: false, reason: 'streamed', declared: NaN });
    assert.ok(state.pulled <= 8 + 4, `pulled ${state.pulled} chunks`);
    assert.equal(state.cancelled, true);
  });

  it('SHAPE-5 an oversized body read from a clone (the policy reads a copy) is refused at once, though the original is never read', { timeout: 5000 }, async () => {
    const { stream } = counted(1024);
    const original = post(stream);
    const result = await readCappedBody(original.clone(), 8 * 1024);
    assert.equal(result.ok, false, 'answered: cancelling one branch of the tee does not wait for the other');
    assert.equal(original.bodyUsed, false);
  });

  it('SHAPE-5 a declared Content-Length over the cap is refused before reading; a fetched response is cancelled', async () => {
    const { stream, state } = counted(64);
    const response = new Response(stream, { headers: { 'Content-Length': String(64 * 1024) } });
    const result = await readCappedBody(response, 1024);
    assert.deepEqual(result, { ok: false, reason: 'declared', declared: 64 * 1024 });
    assert.equal(state.cancelled, true);
    assert.ok(state.pulled <= 1, 'nothing was read');
  });

  it('SHAPE-5 the MCP endpoint reader answers an oversized chunked body with 413 JSON-RPC -32600', async () => {
    const { stream, state } = counted(1024);
    const result = await readJsonBody(post(stream, { 'Content-Type': 'application/json' }), 16 * 1024);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.response.status, 413);
    assert.equal(((await result.response.json()) as { error: { code: number } }).error.code, -32600);
    assert.equal(state.cancelled, true);
  });
});
