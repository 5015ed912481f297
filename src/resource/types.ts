/** The claims of a verified token (a JWT payload, or an RFC 7662 introspection response). */
export type TokenClaims = Record<string, unknown>;

/** What a verifier established about an access token. */
export interface VerifiedToken {
  /** `sub`: the user (or, for client-credentials tokens, the client) the token acts for. */
  subject: string;
  /** The `client_id` claim: the OAuth client the token was issued to (never `aud`). */
  clientId: string;
  scopes: string[];
  /** `exp` in seconds since the epoch. */
  expiresAt: number;
  claims: TokenClaims;
}

/**
 * Why a token was refused. For logs only: the client always gets the same generic `invalid_token`
 * challenge, whatever the reason (no oracle for which check failed).
 */
export type TokenRejection =
  | 'malformed'
  | 'oversized'
  | 'alg_not_allowed'
  | 'wrong_typ'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_claim'
  /** Introspection said `active: false`, or the token is of another type (a refresh token). */
  | 'inactive'
  /** Our own authorization server revoked the grant. */
  | 'grant_not_live'
  /**
   * RFC 9449 §7: the token and how it was presented disagree: a DPoP-bound token (`cnf.jkt`) as
   * `Bearer`, an unbound one as `DPoP`, a proof by another key, or a bearer token where DPoP is required.
   */
  | 'dpop_binding';

export type VerifyResult = { ok: true; token: VerifiedToken } | { ok: false; reason: TokenRejection; detail?: string };

/**
 * Checks an access token presented to this resource and says who it is for. A token that is not
 * acceptable is an answer (`ok: false`), not an exception; an exception means the verifier could
 * not decide (its authorization server or key set unreachable: `VerifierUnavailableError`), or a bug.
 *
 * Implementations: `createJwksVerifier` (JWTs of any authorization server), `createIntrospectionVerifier`
 * (RFC 7662, opaque tokens), `createStytchVerifier` (Stytch Connected Apps), `LocalTokenVerifier`
 * (the tokens of Portcullis's own authorization server).
 */
export interface TokenVerifier {
  verify(token: string): Promise<VerifyResult>;
  /** Present when the verifier knows how scopes map to permissions (Stytch RBAC). */
  readonly permissions?: PermissionPolicy;
}

/** A permission as Stytch RBAC names it: an action on a resource (`{resource_id, action}`). */
export interface PermissionCheck {
  resourceId: string;
  action: string;
  /**
   * Stytch B2B: the organization the action is in. The token must be scoped to it (its
   * `https://stytch.com/organization` claim), as the B2B `authorization_check` requires.
   */
  organizationId?: string;
}

export interface PermissionPolicy {
  /**
   * The scopes that grant `check`, narrowest first (the first one is what a client should ask for).
   * Empty when no scope does.
   */
  scopesGranting(check: PermissionCheck): Promise<string[]>;
}

/** Who is calling, as established by a verified access token; handed to the request handler. */
export interface Principal extends VerifiedToken {
  /**
   * The raw access token (for the MCP SDK's `AuthInfo.token`); never logged. With `token`,
   * `clientId`, `scopes` and `expiresAt`, a principal is an MCP SDK `AuthInfo` as it is.
   */
  token: string;
  /**
   * The resource server's Protected Resource Metadata URL (set by `authenticate`). The MCP SDK v2
   * names it as `resource_metadata` in the `403 insufficient_scope` challenges it sends for a tool's
   * `scopeChallenge` (MCP RS-12), so those point clients at the same document as ours.
   */
  resourceMetadataUrl?: string;
  /**
   * Set when the token is DPoP-bound (RFC 9449) and came with a valid proof: the thumbprint of the
   * client's key (`cnf.jkt`). Absent for bearer tokens. Challenges to this caller use the `DPoP` scheme.
   */
  dpopJkt?: string;
}

/**
 * The verifier could not reach what it needs to decide (authorization server metadata, JWKS,
 * introspection endpoint, RBAC policy). Not the client's fault: the guard answers `503`, not `401`,
 * so a client does not throw away a good token and start a login.
 */
export class VerifierUnavailableError extends Error {
  override readonly name = 'VerifierUnavailableError';
}

/** The debug-level logger the resource server reports rejections to (structurally our `Logger`). */
export interface DebugLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}
