import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { relayBody, type RelayInterruption } from '../../src/gateway/http/relay-body.ts';

/** A source that counts how often it is pulled and never ends on its own. */
function countingSource(): { stream: ReadableStream<Uint8Array>; pulls: () => number; cancelled: () => unknown } {
  let pulls = 0;
  let cancelReason: unknown = 'not cancelled';
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulls++;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
      cancel(reason) {
        cancelReason = reason;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulls: () => pulls, cancelled: () => cancelReason };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('relaying an upstream body', () => {
  it('back-pressure: the upstream is read only as fast as the client reads, never into memory ahead of it', async () => {
    const source = countingSource();
    const relayed = relayBody(source.stream, { idleTimeoutMs: 10_000, onInterrupted: () => {} });
    const reader = relayed.getReader();
    await tick();
    assert.ok(source.pulls() <= 1, `read ${source.pulls()} chunks before the client asked for any`);
    for (let i = 0; i < 5; i++) await reader.read();
    await tick();
    assert.ok(source.pulls() <= 6, `read ${source.pulls()} chunks for 5 the client took`);
    await reader.cancel();
  });

  it('a client that goes away cancels the upstream read', async () => {
    const source = countingSource();
    const seen: RelayInterruption[] = [];
    const reader = relayBody(source.stream, { idleTimeoutMs: 10_000, onInterrupted: (why) => seen.push(why) }).getReader();
    await reader.read();
    await reader.cancel('client left');
    assert.deepEqual(seen, ['client-gone']);
    assert.equal(source.cancelled(), 'client left');
  });

  it('an upstream silent for longer than the idle timeout while the client waits: the client stream ends and the upstream is cancelled', async () => {
    let cancelled = false;
    const silent = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}), cancel: () => void (cancelled = true) });
    const seen: RelayInterruption[] = [];
    const reader = relayBody(silent, { idleTimeoutMs: 50, onInterrupted: (why) => seen.push(why) }).getReader();
    const { done } = await reader.read();
    assert.equal(done, true);
    assert.deepEqual(seen, ['upstream-idle']);
    assert.equal(cancelled, true);
  });

  it('a slow client is back-pressure, not idleness: no timeout runs while nobody is reading', async () => {
    const chunks = [new Uint8Array([1]), new Uint8Array([2])];
    const source = new ReadableStream<Uint8Array>({ pull: (c) => (chunks.length ? c.enqueue(chunks.shift()!) : c.close()) });
    const seen: RelayInterruption[] = [];
    let finished = false;
    const reader = relayBody(source, { idleTimeoutMs: 30, onInterrupted: (why) => seen.push(why), onFinished: () => (finished = true) }).getReader();
    assert.deepEqual((await reader.read()).value, new Uint8Array([1]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual((await reader.read()).value, new Uint8Array([2]));
    assert.equal((await reader.read()).done, true);
    assert.deepEqual(seen, []);
    assert.equal(finished, true);
  });

  it('an upstream that breaks mid-body breaks the client stream too, unless the gateway ended it on purpose', async () => {
    const broken = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new Error('socket hang up')) });
    const seen: RelayInterruption[] = [];
    await assert.rejects(relayBody(broken, { idleTimeoutMs: 1000, onInterrupted: (why) => seen.push(why) }).getReader().read(), /socket hang up/);
    assert.deepEqual(seen, ['upstream-failed']);

    const stopping = new AbortController();
    stopping.abort();
    const endedByUs = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new Error('aborted')) });
    assert.equal((await relayBody(endedByUs, { idleTimeoutMs: 1000, signal: stopping.signal, onInterrupted: () => {} }).getReader().read()).done, true);
  });
});
