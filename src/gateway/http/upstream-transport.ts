import type { Readable } from 'node:stream';
import { Pool } from 'undici';

/**
 * How the gateway reaches an HTTP upstream. In production: a keep-alive connection pool of its own
 * (undici `Pool.request`), whose answers are Node streams relayed as they are. `fetch` would build a
 * Request and a Response per call, copy the request body into a web stream (and tee it) and wrap the
 * answer in another; that was about a quarter of the gateway's CPU per relayed call
 * (bench/README.md, "Gateway relay"). A test that scripts the upstream through an injected `fetch`
 * still gets exactly that fetch.
 */

/** The few response headers the gateway reads, by any case of their name. */
export interface HeaderLookup {
  get(name: string): string | null;
}

export interface UpstreamAnswer {
  status: number;
  headers: HeaderLookup;
  /** The body as it arrives; null when there is none. */
  body: ReadableStream<Uint8Array> | Readable | null;
}

export interface UpstreamTransport {
  send(method: string, headers: Headers, body: string | undefined, signal: AbortSignal): Promise<UpstreamAnswer>;
  close(): Promise<void>;
}

/** Through an injected `fetch` (tests that script the upstream; anything that is not the runtime's own fetch). */
export function fetchTransport(fetch: typeof globalThis.fetch, url: string): UpstreamTransport {
  return {
    send: (method, headers, body, signal) => fetch(url, { method, headers, body, signal, redirect: 'manual' }),
    close: async () => {},
  };
}

/**
 * A pool of keep-alive connections to the upstream's origin. Not capped: every open SSE stream
 * (a 2025-era GET stream can last hours) holds a connection, so a cap would make calls wait behind
 * streams. No undici timeouts: the gateway has its own (`upstream.timeout` until the headers,
 * `upstream.streamIdleTimeout` between chunks of the body).
 */
export function poolTransport(url: string): UpstreamTransport {
  const target = new URL(url);
  const path = `${target.pathname}${target.search}`;
  const pool = new Pool(target.origin, { headersTimeout: 0, bodyTimeout: 0 });
  return {
    async send(method, headers, body, signal) {
      const answer = await pool.request({ path, method: method as 'POST', headers, body: body ?? null, signal });
      return { status: answer.statusCode, headers: nodeHeaders(answer.headers), body: answer.body };
    },
    close: () => pool.destroy(),
  };
}

function nodeHeaders(raw: Record<string, string | string[] | undefined>): HeaderLookup {
  return {
    get(name) {
      const value = raw[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** The production transport when the context's fetch is the runtime's own; the injected fetch otherwise. */
export function upstreamTransportFor(fetch: typeof globalThis.fetch, url: string): UpstreamTransport {
  return fetch === globalThis.fetch ? poolTransport(url) : fetchTransport(fetch, url);
}

/** Lets go of a body the client will not get: a Node body is read to its end (up to a limit) so its connection can be reused. */
export async function discardBody(body: UpstreamAnswer['body']): Promise<void> {
  if (!body) return;
  if (body instanceof ReadableStream) return body.cancel().catch(() => {});
  const node = body as Readable & { dump?: () => Promise<void> };
  if (node.dump) await node.dump().catch(() => {});
  else node.destroy();
}
