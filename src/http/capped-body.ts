/**
 * The one way this server reads a body it did not write (a request's form or JSON, a fetched
 * document) with a byte cap. A declared `Content-Length` over the cap is refused before reading; a
 * body without one (chunked) is read chunk by chunk and refused, its stream cancelled, as soon as it
 * passes the cap. Reading it whole first would let the sender make us buffer any amount of memory.
 * Callers turn `too-large` into their own answer (413, a JSON-RPC error, an unavailable upstream).
 */
export type CappedBody = { ok: true; bytes: Uint8Array } | { ok: false; reason: 'declared' | 'streamed'; declared: number };

export interface CappedBodyOptions {
  /**
   * When a `Content-Length` within the cap is declared, read the body whole instead of as a stream
   * (the runtime's HTTP parser holds the sender to that length). `@hono/node-server` then skips
   * building a web stream: about a tenth of an MCP tools/call (bench/README.md).
   */
  trustDeclaredLength?: boolean;
}

/** A request's or response's body: at most `maxBytes` of it, or why not. */
export async function readCappedBody(message: Request | Response, maxBytes: number, options: CappedBodyOptions = {}): Promise<CappedBody> {
  const length = message.headers.get('Content-Length');
  const declared = length === null ? NaN : Number(length);
  if (declared > maxBytes) {
    // A fetched response is ours to drop; a request's body belongs to the server adapter.
    if (message instanceof Response) await message.body?.cancel().catch(() => {});
    return { ok: false, reason: 'declared', declared };
  }
  if (options.trustDeclaredLength && Number.isInteger(declared)) return { ok: true, bytes: new Uint8Array(await message.arrayBuffer()) };
  if (!message.body) return { ok: true, bytes: new Uint8Array(0) };
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // Not awaited: cancelling one branch of a tee (a `clone()`d request) settles only once the
      // other branch is cancelled too, which the caller may never do.
      void reader.cancel().catch(() => {});
      return { ok: false, reason: 'streamed', declared };
    }
    chunks.push(value);
  }
  return { ok: true, bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) };
}

/** Text as `Request.text()` decodes it: UTF-8, invalid sequences replaced, a leading BOM dropped. */
export const decodeText = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
