import { decodeText, readCappedBody } from '../http/capped-body.ts';

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

/** Reads (`readCappedBody`) and parses a JSON body of at most `maxBytes`; a parse failure is JSON-RPC `-32700`. */
export async function readJsonBody(request: Request, maxBytes = MAX_BODY_BYTES): Promise<BodyRead> {
  const body = await readCappedBody(request, maxBytes, { trustDeclaredLength: true });
  if (!body.ok) return { ok: false, response: jsonRpcError(413, -32600, 'Request body too large') };
  try {
    return { ok: true, value: JSON.parse(decodeText(body.bytes)) };
  } catch {
    return { ok: false, response: jsonRpcError(400, -32700, 'Parse error: the body is not valid JSON') };
  }
}

const messagesOf = (body: unknown): unknown[] => (Array.isArray(body) ? body : [body]);

/** Whether a message (or batch) opens a 2025-era session with `initialize`. */
export function isInitialize(body: unknown): boolean {
  return messagesOf(body).some((m) => typeof m === 'object' && m !== null && (m as { method?: unknown }).method === 'initialize');
}
