/**
 * Just enough JSON-RPC to decide, before the SDK runs, what a POST asks for: the body is read once
 * (bounded) and handed to the SDK already parsed.
 */

/** The SDK's default bound on a POST body (4 MiB). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export type BodyRead = { ok: true; value: unknown } | { ok: false; response: Response };

export function jsonRpcError(status: number, code: number, message: string, headers: HeadersInit = {}): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status, headers });
}

/** Reads and parses a JSON body of at most `maxBytes`; a parse failure is JSON-RPC `-32700`. */
export async function readJsonBody(request: Request, maxBytes = MAX_BODY_BYTES): Promise<BodyRead> {
  const tooLarge = (): BodyRead => ({ ok: false, response: jsonRpcError(413, -32600, 'Request body too large') });
  const declared = Number(request.headers.get('Content-Length') ?? '0');
  if (declared > maxBytes) return tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) return tooLarge();
      chunks.push(chunk);
    }
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { ok: false, response: jsonRpcError(400, -32700, 'Parse error: the body is not valid JSON') };
  }
}

const messagesOf = (body: unknown): unknown[] => (Array.isArray(body) ? body : [body]);

/** Names of the tools a message (or batch) calls with `tools/call`. */
export function calledToolNames(body: unknown): string[] {
  const names: string[] = [];
  for (const message of messagesOf(body)) {
    if (typeof message !== 'object' || message === null) continue;
    const { method, params } = message as { method?: unknown; params?: unknown };
    if (method !== 'tools/call' || typeof params !== 'object' || params === null) continue;
    const name = (params as { name?: unknown }).name;
    if (typeof name === 'string') names.push(name);
  }
  return names;
}

/** Whether a message (or batch) opens a 2025-era session with `initialize`. */
export function isInitialize(body: unknown): boolean {
  return messagesOf(body).some((m) => typeof m === 'object' && m !== null && (m as { method?: unknown }).method === 'initialize');
}
