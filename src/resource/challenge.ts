import { NO_STORE } from '../util/no-store.ts';
import { withoutOfflineAccess } from './scopes.ts';

/**
 * RFC 6750 §3 Bearer challenges, the way MCP clients read them (RFC 9728 §5.1, MCP RS-03b/04/12):
 *
 * - no credentials: `401`, `resource_metadata` and `scope`, and no `error` (RFC 6750 §3.1);
 * - a token that failed verification: `401 error="invalid_token"`;
 * - a valid token that lacks scope: `403 error="insufficient_scope"` naming every scope the
 *   operation needs, in one challenge (RS-13b), so the client can step up with the union.
 */

export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

export interface BearerChallenge {
  error?: BearerErrorCode;
  /** Public, generic text; only sent together with `error`. */
  errorDescription?: string;
  scopes?: readonly string[];
  /** Absolute URL of the Protected Resource Metadata document (RFC 9728 §5.1). */
  resourceMetadata: string;
}

/**
 * RFC 7230 §3.2.6 quoted-string: backslash-escape `"` and `\`; drop control characters, which a
 * header may not carry at all (so nothing client-influenced can split or truncate the header).
 */
export function quoteHeaderValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\x00-\x08\x0A-\x1F\x7F]/g, '');
  return `"${clean.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function bearerChallengeHeader(c: BearerChallenge): string {
  const params: string[] = [];
  if (c.error) {
    params.push(`error=${quoteHeaderValue(c.error)}`);
    if (c.errorDescription) params.push(`error_description=${quoteHeaderValue(c.errorDescription)}`);
  }
  const scopes = withoutOfflineAccess(c.scopes ?? []);
  if (scopes.length > 0) params.push(`scope=${quoteHeaderValue(scopes.join(' '))}`);
  params.push(`resource_metadata=${quoteHeaderValue(c.resourceMetadata)}`);
  return `Bearer ${params.join(', ')}`;
}

const STATUS: Record<BearerErrorCode, number> = { invalid_request: 400, invalid_token: 401, insufficient_scope: 403 };

/**
 * The challenge as a response. The JSON body mirrors the header: `{error, error_description}` when
 * there is an error; without credentials there is no error code to report (RFC 6750 §3.1), only a
 * description a person can read.
 */
export function bearerChallengeResponse(c: BearerChallenge): Response {
  const status = c.error ? STATUS[c.error] : 401;
  const body = c.error
    ? { error: c.error, error_description: c.errorDescription ?? '' }
    : { error_description: 'This endpoint requires an OAuth access token in the Authorization header.' };
  return Response.json(body, { status, headers: { ...NO_STORE, 'WWW-Authenticate': bearerChallengeHeader(c) } });
}
