import { decodeText, readCappedBody, type CappedBody } from '../../http/capped-body.ts';
import { VerifierUnavailableError } from '../types.ts';

export interface FetchLimits {
  /** Give up after this long. Default 5 s. */
  timeoutMs?: number;
  /** Refuse a body larger than this. Default 256 KiB (key sets with certificate chains stay well below). */
  maxBytes?: number;
}

export const DEFAULT_FETCH_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024;

/**
 * Fetches a JSON document from a server this resource trusts by configuration (authorization server
 * metadata, JWKS, introspection, RBAC policy), with a time limit and a size limit, and without
 * following redirects: a moved document is a configuration problem, not something to chase.
 *
 * Returns the status and the parsed body (`undefined` when it is not JSON); throws
 * `VerifierUnavailableError` when the server cannot be reached or the body is too large.
 */
export async function fetchJson(
  fetchFn: typeof fetch,
  url: string,
  init: RequestInit = {},
  limits: FetchLimits = {},
): Promise<{ status: number; body: unknown }> {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  let response: Response;
  try {
    response = await fetchFn(url, {
      ...init,
      redirect: 'manual',
      signal: AbortSignal.timeout(limits.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS),
      headers: { Accept: 'application/json', ...init.headers },
    });
  } catch (cause) {
    throw new VerifierUnavailableError(`could not fetch ${url}`, { cause });
  }
  const text = await readTextCapped(response, maxBytes, url);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body };
}

async function readTextCapped(response: Response, maxBytes: number, url: string): Promise<string> {
  let body: CappedBody;
  try {
    body = await readCappedBody(response, maxBytes);
  } catch (cause) {
    throw new VerifierUnavailableError(`could not read the response from ${url}`, { cause });
  }
  if (!body.ok) throw new VerifierUnavailableError(`response from ${url} is larger than ${maxBytes} bytes`);
  return decodeText(body.bytes);
}

/** A JSON object, or undefined. */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
