import type { Readable } from 'node:stream';

/** Why a relayed body stopped before the upstream finished it. */
export type RelayInterruption = 'client-gone' | 'upstream-idle' | 'upstream-failed';

export interface RelayOptions {
  /** How long the upstream may stay silent while the client is waiting for the next chunk. */
  idleTimeoutMs: number;
  /** Called at most once, when the relay stops early; the caller aborts the upstream request there. */
  onInterrupted: (why: RelayInterruption, error?: unknown) => void;
  /** Called once when the upstream body ended normally. */
  onFinished?: () => void;
  /** The upstream request's signal: once the gateway aborts it on purpose (shutdown), the client's stream ends cleanly. */
  signal?: AbortSignal;
}

/**
 * The upstream body as the client's body, chunk by chunk, never held in memory: the stream pulls
 * from the upstream only when the client asks for more (`highWaterMark: 0`), so a slow client slows
 * the upstream read (back-pressure) instead of filling the gateway's memory, and each SSE event
 * goes out as soon as it arrives. A client that goes away cancels the upstream read; an upstream
 * that stays silent longer than `idleTimeoutMs` while the client waits is given up on, and the
 * client's stream ends (an SSE client then reconnects or resumes).
 */
export function relayBody(body: ReadableStream<Uint8Array> | Readable, options: RelayOptions): ReadableStream<Uint8Array> {
  const reader = body instanceof ReadableStream ? body.getReader() : nodeReader(body);
  let ended = false;
  const interrupt = (why: RelayInterruption, error?: unknown): void => {
    if (ended) return;
    ended = true;
    options.onInterrupted(why, error);
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const idle = new Promise<'idle'>((resolve) => {
          timer = setTimeout(() => resolve('idle'), options.idleTimeoutMs);
        });
        try {
          const next = await Promise.race([reader.read(), idle]);
          if (next === 'idle') {
            interrupt('upstream-idle');
            reader.cancel().catch(() => {});
            controller.close();
          } else if (next.done) {
            ended = true;
            options.onFinished?.();
            controller.close();
          } else {
            controller.enqueue(next.value);
          }
        } catch (error) {
          if (options.signal?.aborted) {
            controller.close();
            return;
          }
          // The upstream connection broke mid-body: the client's connection breaks too, which is the truth.
          interrupt('upstream-failed', error);
          controller.error(error);
        } finally {
          clearTimeout(timer);
        }
      },
      async cancel(reason) {
        interrupt('client-gone');
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * A Node stream (the gateway's connection pool answers with those) read chunk by chunk like a web
 * stream's reader, without converting it into one. Cancelling destroys it at once, even while a
 * read is pending (an async iterator's `return()` would wait for that read), which ends the
 * upstream exchange.
 */
function nodeReader(stream: Readable): Pick<ReadableStreamDefaultReader<Uint8Array>, 'read' | 'cancel'> {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  return {
    read: () => chunks.next() as Promise<ReadableStreamReadResult<Uint8Array>>,
    cancel: async (reason?: unknown) => {
      stream.destroy(reason instanceof Error ? reason : undefined);
    },
  };
}
