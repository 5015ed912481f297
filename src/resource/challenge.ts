import { NO_STORE } from '../util/no-store.ts';
import { withoutOfflineAccess } from './scopes.ts';

/**
 * RFC 6750 §3 Bearer challenges, the way MCP clients read them (RFC 9728 §5.1, MCP RS-03b/04/12):
 *
 * - no credentials: `401`, `resource_metadata` and `scope`, and no `error` (RFC 6750 §3.1);
 * - a token that failed verification: `401 error="invalid_token"`;
 * - a valid token that lacks scope: `403 error="insufficient_scope"` naming every scope the
 *   operation needs, in one challenge (RS-13b), so the client can step up with the union.
 *
 * DPoP-bound tokens get the same challenges under the `DPoP` scheme (RFC 9449 §7.1), which MCP
 * clients read alike, plus `invalid_dpop_proof` and `use_dpop_nonce` (§9).
 */

export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/** RFC 9449 §7.1 and §9: what only a `DPoP` challenge says. */
export type DpopErrorCode = 'invalid_dpop_proof' | 'use_dpop_nonce';

export interface BearerChallenge {
  /**
   * `Bearer` (the default) or `DPoP` (RFC 9449 §7.1): the scheme the token came under, or the one
   * the resource requires. A `DPoP` challenge carries the same parameters, plus `algs`.
   */
  scheme?: 'Bearer' | 'DPoP';
  error?: BearerErrorCode | DpopErrorCode;
  /** Public, generic text; only sent together with `error`. */
  errorDescription?: string;
  scopes?: readonly string[];
  /** Absolute URL of the Protected Resource Metadata document (RFC 9728 §5.1). */
  resourceMetadata: string;
  /** `DPoP` challenges: the proof algorithms accepted (RFC 9449 §7.1 `algs`). */
  algs?: readonly string[];
  /** `use_dpop_nonce`: the nonce the next proof must carry, sent in `DPoP-Nonce` (RFC 9449 §9). */
  dpopNonce?: string;
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
  if (c.scheme === 'DPoP' && c.algs && c.algs.length > 0) params.push(`algs=${quoteHeaderValue(c.algs.join(' '))}`);
  return `${c.scheme ?? 'Bearer'} ${params.join(', ')}`;
}

const STATUS: Record<BearerErrorCode | DpopErrorCode, number> = { invalid_request: 400, invalid_token: 401, insufficient_scope: 403, invalid_dpop_proof: 401, use_dpop_nonce: 401 };

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
  const headers: Record<string, string> = { ...NO_STORE, 'WWW-Authenticate': bearerChallengeHeader(c) };
  if (c.dpopNonce !== undefined) headers['DPoP-Nonce'] = c.dpopNonce;
  return Response.json(body, { status, headers });
}
