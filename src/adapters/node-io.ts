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
  res.statusCode = response.status;
  response.headers.forEach((value, name) => res.setHeader(name, value));
  res.end(new Uint8Array(await response.arrayBuffer()));
}
