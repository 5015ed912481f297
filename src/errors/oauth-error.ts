/**
 * The closed set of error codes Portcullis puts on the wire, with the RFC that defines each.
 */
export type OAuthErrorCode =
  // RFC 6749 §4.1.2.1 / §5.2
  | 'invalid_request'
  | 'unauthorized_client'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  // RFC 6750 §3.1
  | 'invalid_token'
  | 'insufficient_scope'
  // RFC 7009 §2.2.1
  | 'unsupported_token_type'
  // RFC 7591 §3.2.2
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  // RFC 8707 §2
  | 'invalid_target'
  // RFC 9449 §5, §8 (DPoP)
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  // OIDC Core §3.1.2.6
  | 'login_required'
  | 'consent_required'
  // Portcullis: too many requests (sent with 429)
  | 'rate_limited';

const DEFAULT_STATUS: Partial<Record<OAuthErrorCode, number>> = {
  invalid_client: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  access_denied: 403,
  server_error: 500,
  temporarily_unavailable: 503,
  rate_limited: 429,
};

export interface OAuthErrorOptions {
  status?: number;
  /** May this error be sent to the client's redirect URI? Only after the URI was matched exactly. */
  redirectable?: boolean;
  headers?: Record<string, string>;
  /** Detail for the logs only; never sent to the client. */
  detail?: string;
  cause?: unknown;
}

/** One error type for every OAuth failure; `description` is public and wire-safe, `detail` is private. */
export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly description: string;
  readonly status: number;
  readonly redirectable: boolean;
  readonly headers: Record<string, string>;
  readonly detail: string | undefined;

  constructor(code: OAuthErrorCode, description: string, options: OAuthErrorOptions = {}) {
    super(`${code}: ${description}`, { cause: options.cause });
    this.name = 'OAuthError';
    this.code = code;
    this.description = description;
    this.status = options.status ?? DEFAULT_STATUS[code] ?? 400;
    this.redirectable = options.redirectable ?? false;
    this.headers = options.headers ?? {};
    this.detail = options.detail;
  }
}

export const isOAuthError = (e: unknown): e is OAuthError => e instanceof OAuthError;
