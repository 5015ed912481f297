import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { AuthenticationRequest, ResourceServer } from '../resource/resource-server.ts';

/** The parts of a node:http `IncomingMessage` (or an Express request) the adapters read. */
export interface NodeRequestLike {
  method?: string | undefined;
  /** Path and query, as node:http gives it. */
  url?: string | undefined;
  /** Express: the path before any router mount point was stripped. */
  originalUrl?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/** The parts of a node:http `ServerResponse` (which an Express response is) the adapters write. */
export interface NodeResponseLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(chunk?: Uint8Array): unknown;
}

/**
 * What `authenticate` reads: the `Authorization` and `DPoP` headers, the method, and the URL (the
 * path on the resource's origin, which is all a DPoP proof's `htu` is compared with).
 */
export function authenticationRequest(server: Pick<ResourceServer, 'resource'>, req: NodeRequestLike): AuthenticationRequest {
  const headers = new Headers();
  for (const name of ['authorization', 'dpop']) {
    const value = req.headers[name];
    // Two DPoP headers arrive as an array: joined, they are no proof and are refused as such.
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const path = req.originalUrl ?? req.url ?? '/';
  return { headers, method: req.method ?? 'GET', url: URL.parse(path, server.resource)?.href ?? server.resource };
}

/** A node:http request's headers as web `Headers` (repeated ones appended). */
export function nodeHeaders(raw: NodeRequestLike['headers']): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  return headers;
}

/** The PRM response when `req` asks for it (`GET`/`HEAD`/`OPTIONS` on one of its paths), else `null`. */
export function metadataResponseFor(server: ResourceServer, req: NodeRequestLike): Response | null {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS') return null;
  const path = req.originalUrl ?? req.url ?? '/';
  let url: URL;
  try {
    url = new URL(path, server.resource);
  } catch {
    // An odd request target (absolute-form with a bad host, …) is not a metadata request: let the app answer it.
    return null;
  }
  return server.metadataResponse(new Request(url, { method }));
}

export async function writeResponse(res: NodeResponseLike, response: Response): Promise<void> {
  writeStatusAndHeaders(res, response);
  res.end(new Uint8Array(await response.arrayBuffer()));
}

/**
 * Writes `response` as it comes (an SSE stream included), with
 * back-pressure; a client that goes away cancels the body. A response object that is not a stream
 * (a structural stand-in) gets it whole.
 */
export async function writeStreamedResponse(res: NodeResponseLike, response: Response): Promise<void> {
  const writable = res as NodeResponseLike & Partial<NodeJS.WritableStream> & { flushHeaders?: () => void };
  if (!response.body || typeof writable.write !== 'function' || typeof writable.on !== 'function') return writeResponse(res, response);
  writeStatusAndHeaders(res, response);
  // An event stream may stay silent for long: the client gets the status and headers at once.
  writable.flushHeaders?.();
  try {
    await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), writable as NodeJS.WritableStream);
  } catch (error) {
    // The client went away: there is no one to answer, and the body has been cancelled.
    if ((error as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
  }
}

function writeStatusAndHeaders(res: NodeResponseLike, response: Response): void {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => res.setHeader(name, value));
}
