import { Readable } from 'node:stream';
import type { McpPolicy } from '../policy/mcp-policy.ts';
import type { AuthenticateOptions, ResourceServer } from '../resource/resource-server.ts';
import { answerWithoutToken, type AnonymousHandler } from './anonymous.ts';
import { nodeHeaders, writeResponse, writeStreamedResponse, type NodeRequestLike, type NodeResponseLike } from './node-io.ts';

/** Options of `expressAuth` and `nodeAuth`. */
export interface NodeAuthOptions extends AuthenticateOptions {
  /**
   * With `anonymous`: the tool policy (`createMcpPolicy`) deciding what a caller without a token may
   * do. Here it decides only that; apply it to signed-in callers with `expressToolPolicy` or
   * `nodeToolPolicy` once the body is parsed.
   */
  toolPolicy?: McpPolicy;
  /**
   * Serves callers without a token when `toolPolicy` makes something `public` (./anonymous.ts);
   * its answer is written to `res`, and the request goes no further. Without it, every request needs a token.
   */
  anonymous?: AnonymousHandler;
}

/** A node:http request as it may reach the adapters: a readable stream, or (Express) one a body parser has read into `body`. */
type NodeBodyLike = NodeRequestLike & { readableEnded?: boolean; body?: unknown };

/**
 * Writes the answer to a request the resource server refused with `challenge`: what `anonymous`
 * answers when the policy lets anyone do what the request does (the one decision, ./anonymous.ts),
 * else the challenge. Only then is the body read.
 */
export async function writeAnswerWithoutToken(server: Pick<ResourceServer, 'resource'>, req: NodeRequestLike, res: NodeResponseLike, challenge: Response, options: Pick<NodeAuthOptions, 'toolPolicy' | 'anonymous'>): Promise<void> {
  const { toolPolicy, anonymous } = options;
  if (!toolPolicy || !anonymous) return writeResponse(res, challenge);
  await writeStreamedResponse(res, await answerWithoutToken(webRequest(server, req), challenge, toolPolicy, anonymous));
}

/**
 * The whole request as a web `Request` on the resource's origin, for the anonymous handler. Its body
 * is the unread node stream, pulled only when read; or, when a body parser (`express.json()`) ran
 * first and consumed the stream, the parsed JSON again.
 */
function webRequest(server: Pick<ResourceServer, 'resource'>, req: NodeBodyLike): Request {
  const headers = nodeHeaders(req.headers);
  const method = req.method ?? 'GET';
  const url = URL.parse(req.originalUrl ?? req.url ?? '/', server.resource)?.href ?? server.resource;
  if (method === 'GET' || method === 'HEAD') return new Request(url, { method, headers });
  if (req.readableEnded && req.body !== undefined) {
    // The length and encoding were those of the bytes the parser read, not of this text.
    headers.delete('content-length');
    headers.delete('transfer-encoding');
    return new Request(url, { method, headers, body: JSON.stringify(req.body) });
  }
  const stream = req instanceof Readable ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : null;
  return new Request(url, { method, headers, body: stream, duplex: 'half' } as RequestInit);
}
