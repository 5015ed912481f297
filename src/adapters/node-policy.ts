import type { OutgoingHttpHeaders } from 'node:http';
import type { McpPolicy } from '../policy/mcp-policy.ts';
import type { Principal } from '../resource/types.ts';
import { nodeHeaders, writeResponse, type NodeRequestLike, type NodeResponseLike } from './node-io.ts';

/** The parts of a node:http `ServerResponse` an MCP transport writes through, which list filtering intercepts. */
export interface NodeStreamResponseLike extends NodeResponseLike {
  writeHead(statusCode: number, ...rest: unknown[]): unknown;
  write(chunk: unknown, ...rest: unknown[]): boolean;
  end(...args: unknown[]): unknown;
  getHeaders(): OutgoingHttpHeaders;
  removeHeader(name: string): void;
  flushHeaders?(): void;
}

/**
 * Applies a tool policy to one node:http (or Express) request whose JSON body is already parsed:
 * writes the refusal and returns false, or returns true to go on. When the body lists tools,
 * resources or prompts, the MCP transport's answer is held back until it ends (a list answer is
 * one short message) and written filtered; every other response streams as the transport writes it.
 */
export async function applyToolPolicyToNode(toolPolicy: McpPolicy, req: NodeRequestLike, res: NodeStreamResponseLike, auth: Principal, body: unknown): Promise<boolean> {
  if ((req.method ?? 'GET') !== 'POST') return true;
  const checked = await toolPolicy.checkParsed(nodeHeaders(req.headers), auth, body);
  if (!checked.ok) {
    await writeResponse(res, checked.response);
    return false;
  }
  if (checked.filtering) holdAndFilter(res, checked.filter);
  return true;
}

/** Buffers what the transport writes, then writes it through `filter`. */
function holdAndFilter(res: NodeStreamResponseLike, filter: (response: Response) => Promise<Response>): void {
  const original = { writeHead: res.writeHead, write: res.write, end: res.end, flushHeaders: res.flushHeaders };
  const chunks: Uint8Array[] = [];
  const collect = (chunk: unknown, encoding?: unknown): void => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : (chunk as Uint8Array));
  };
  res.writeHead = (statusCode: number, ...rest: unknown[]) => {
    res.statusCode = statusCode;
    const headers = rest.find((r) => typeof r === 'object' && r !== null) as OutgoingHttpHeaders | undefined;
    for (const [name, value] of Object.entries(headers ?? {})) if (value !== undefined) res.setHeader(name, Array.isArray(value) ? value.join(', ') : String(value));
    return res;
  };
  res.flushHeaders = () => {};
  res.write = (chunk: unknown, ...rest: unknown[]) => {
    collect(chunk, rest[0]);
    rest.find((r): r is () => void => typeof r === 'function')?.();
    return true;
  };
  res.end = (...args: unknown[]) => {
    collect(args[0], args[1]);
    Object.assign(res, original);
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.getHeaders())) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : String(value));
      res.removeHeader(name);
    }
    void filter(new Response(Buffer.concat(chunks), { status: res.statusCode, headers }))
      .then(async (filtered) => writeResponse(res, filtered))
      .catch(() => {
        // The answer cannot be filtered: nothing of it is sent.
        res.statusCode = 500;
        res.end();
      });
    return res;
  };
}
