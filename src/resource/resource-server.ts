import { NO_STORE } from '../util/no-store.ts';
import { extractAccessToken, type AccessTokenScheme } from './bearer.ts';
import { bearerChallengeResponse, type BearerChallenge } from './challenge.ts';
import { checkPresentation, createDpopChecker, proofTarget, type DpopChecker, type ResourceDpopOptions } from './dpop.ts';
import {
  protectedResourceMetadataDocument,
  protectedResourceMetadataPaths,
  protectedResourceMetadataUrlFor,
  type ProtectedResourceMetadata,
} from './metadata.ts';
import { missingScopes } from './scopes.ts';
import { VerifierUnavailableError, type DebugLogger, type PermissionCheck, type PermissionPolicy, type Principal, type TokenRejection, type TokenVerifier, type VerifyResult } from './types.ts';
import { LOOPBACK_HOSTS } from '../util/loopback.ts';
import { stytchOrganizationOf } from './verifiers/stytch-organization.ts';

export interface ResourceServerOptions {
  /**
   * This MCP server's resource identifier: the exact URL clients connect to (e.g.
   * `https://mcp.example.com/mcp`). It is the PRM's `resource` (RFC 9728 §3.3: clients check it is the
   * URL they used) and what a verifier should require in `aud`.
   */
  resource: string;
  /** Issuer URLs of the authorization servers clients should get tokens from (the PRM's `authorization_servers`). */
  authorizationServers: readonly string[];
  verifier: TokenVerifier;
  /** The PRM's `scopes_supported`: what clients may ask for. `offline_access` is left out (MCP RS-16). */
  scopesSupported?: readonly string[];
  /** Scopes every request needs; a token without them gets `403 insufficient_scope`. */
  requiredScopes?: readonly string[];
  /**
   * The `scope` of a 401 challenge: what a client should ask for to start (MCP RS-04). Default
   * `requiredScopes`; none at all lets clients fall back to `scopes_supported`.
   */
  challengeScopes?: readonly string[];
  /** Scope hierarchy (MCP RS-15): a scope on the left grants the scopes on the right. Default none. */
  scopeImplications?: Readonly<Record<string, readonly string[]>>;
  /** The PRM's `resource_name`, shown by some clients. */
  resourceName?: string;
  resourceDocumentation?: string;
  /** Longer bearer tokens are refused unread. Default 8 KiB. */
  maxTokenLength?: number;
  /** Rejection reasons go to `debug` (never the token), an unreachable verifier to `warn`. Default: silent. */
  logger?: DebugLogger;
  /** Allow a plain-http `resource` on a non-loopback host. Only behind a TLS-terminating proxy you trust. */
  dangerouslyAllowInsecureHttp?: boolean;
  /**
   * DPoP (RFC 9449): tokens bound to a client key (`cnf.jkt`) are accepted as `Authorization: DPoP`
   * with a `DPoP` proof, always; these options say whether bearer tokens are still accepted
   * (`required`), which proof algorithms, server nonces, and the replay store. Default: not
   * required, every algorithm of `DPOP_ALGORITHMS`, no nonces, an in-process replay check.
   */
  dpop?: ResourceDpopOptions | DpopChecker;
}

/**
 * What `authenticate` reads of a request: its `Authorization` and `DPoP` headers, and for a DPoP
 * proof's `htm`/`htu` its method and URL (a `Request` has all of them). Without method and URL only
 * bearer tokens can be accepted: a DPoP request is refused.
 */
export type AuthenticationRequest = Pick<Request, 'headers'> & { readonly method?: string; readonly url?: string };

export interface AuthenticateOptions {
  /** Scopes this route needs, on top of the server's `requiredScopes`. */
  requiredScopes?: readonly string[];
}

/**
 * The resource-server side of MCP authorization for one MCP endpoint, framework-free: give it a
 * `Request` (its `Authorization` and `DPoP` headers, method and URL are read), get back who is
 * calling or the `Response` to send (RFC 6750 §3 / RFC 9449 §7.1 / RFC 9728 §5.1 challenges). The
 * adapters in `src/adapters/` wrap it for Hono, Express, node:http and fetch-style handlers.
 */
export interface ResourceServer {
  readonly resource: string;
  /** Absolute URL of the Protected Resource Metadata, as named in every challenge. */
  readonly resourceMetadataUrl: string;
  /** The PRM document (RFC 9728 §2). */
  readonly metadata: ProtectedResourceMetadata;
  /** The paths `metadataResponse` answers: path-inserted and root, with and without a trailing slash. */
  readonly metadataPaths: readonly string[];
  /**
   * The caller, or the response to send: `401` with no `error` when there is no bearer token, `401
   * invalid_token` when it does not verify (always the same generic text), `403 insufficient_scope`
   * when it lacks a required scope, `503` when the verifier cannot reach its authorization server.
   * A DPoP-bound token must come as `Authorization: DPoP` with a valid `DPoP` proof (`401
   * invalid_dpop_proof`, or `use_dpop_nonce` with a `DPoP-Nonce`), and those answers use the `DPoP` scheme.
   * Tokens are read from the `Authorization` header only, never from the query or body (MCP RS-21).
   */
  authenticate(request: AuthenticationRequest, options?: AuthenticateOptions): Promise<Principal | Response>;
  /** `null` when the principal holds every scope in `scopes` (after the hierarchy), else the `403` step-up challenge naming them all (RS-13b). */
  requireScopes(principal: Principal, scopes: readonly string[]): Response | null;
  /**
   * RBAC (verifiers with a permission policy: Stytch with its secret): `null` when one of the
   * principal's scopes grants `{resourceId, action}`, else a `403` naming the narrowest scope that would.
   * With `organizationId` (Stytch B2B), a token scoped to another organization gets a plain `403`
   * (`access_denied`, no challenge): no scope would help.
   */
  requirePermission(principal: Principal, check: PermissionCheck): Promise<Response | null>;
  /** The verifier's permission policy (Stytch RBAC), for a tool policy's `permission` rules; absent when it has none. */
  readonly permissions?: PermissionPolicy;
  /** The PRM response for a `GET`/`HEAD`/`OPTIONS` on one of `metadataPaths`, else `null`. Readable cross-origin. */
  metadataResponse(request: Request): Response | null;
}

/** Never says which check failed: that is for the logs. */
export const INVALID_TOKEN_DESCRIPTION = 'The access token is invalid, expired or revoked.';
const DEFAULT_MAX_TOKEN_LENGTH = 8 * 1024;
const silent: DebugLogger = { debug() {}, warn() {} };
const NO_SCOPES: readonly string[] = Object.freeze([]);

export function createResourceServer(options: ResourceServerOptions): ResourceServer {
  const resource = checkedResource(options.resource, options.dangerouslyAllowInsecureHttp === true);
  if (options.authorizationServers.length === 0) throw new TypeError('authorizationServers must name at least one authorization server (RFC 9728 §2)');
  for (const issuer of options.authorizationServers) checkedUrl(issuer, 'authorizationServers');
  const { verifier } = options;
  const logger = options.logger ?? silent;
  const implications = options.scopeImplications ?? {};
  const serverRequired = options.requiredScopes ?? [];
  const challengeScopes = options.challengeScopes ?? serverRequired;
  const maxTokenLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  const resourceMetadataUrl = protectedResourceMetadataUrlFor(resource);
  const dpop = createDpopChecker(options.dpop);
  const metadata = protectedResourceMetadataDocument({ ...options, resource, dpop });
  const metadataPaths = protectedResourceMetadataPaths(resource);

  // A 401 names the scopes a client should ask for: the server's, plus what this request needs (RS-04),
  // so a client that re-authorizes gets enough scope the first time instead of stepping up afterwards.
  const scopesToAskFor = (operation: readonly string[]): string[] => [...new Set([...challengeScopes, ...operation])];

  // RFC 9449 §7.1: a DPoP challenge names the proof algorithms; a bearer challenge is as it always was.
  const challenge = (scheme: AccessTokenScheme, c: Omit<BearerChallenge, 'scheme' | 'algs' | 'resourceMetadata'>): Response =>
    bearerChallengeResponse({ ...c, resourceMetadata: resourceMetadataUrl, ...(scheme === 'DPoP' ? { scheme, algs: dpop.algorithms } : {}) });

  const invalidToken = (operation: readonly string[], reason: TokenRejection, detail?: string, scheme: AccessTokenScheme = 'Bearer'): Response => {
    logger.debug('access token rejected', { reason, detail });
    return challenge(scheme, { error: 'invalid_token', errorDescription: INVALID_TOKEN_DESCRIPTION, scopes: scopesToAskFor(operation) });
  };

  const invalidProof = async (operation: readonly string[], error: 'invalid_dpop_proof' | 'use_dpop_nonce', detail: string): Promise<Response> => {
    logger.debug('DPoP proof rejected', { error, detail });
    if (error === 'invalid_dpop_proof') return challenge('DPoP', { error, errorDescription: 'The DPoP proof is missing or invalid.', scopes: scopesToAskFor(operation) });
    const nonce = await dpop.currentNonce();
    return challenge('DPoP', { error, errorDescription: 'The DPoP proof must carry the nonce in DPoP-Nonce.', scopes: scopesToAskFor(operation), ...(nonce !== undefined ? { dpopNonce: nonce } : {}) });
  };

  const unavailable = (error: VerifierUnavailableError): Response => {
    logger.warn('access token could not be verified', { error: error.message });
    return Response.json(
      { error: 'temporarily_unavailable', error_description: 'The access token cannot be checked right now. Try again shortly.' },
      { status: 503, headers: { ...NO_STORE, 'Retry-After': '5' } },
    );
  };

  const requireScopes = (principal: Principal, scopes: readonly string[]): Response | null => {
    if (scopes.length === 0) return null;
    const required = [...new Set(scopes)];
    if (missingScopes(principal.scopes, required, implications).length === 0) return null;
    logger.debug('insufficient scope', { subject: principal.subject, client_id: principal.clientId, required });
    // RS-13b: every scope the operation needs, in one challenge; the client unions it with what it has.
    return challenge(principal.dpopJkt !== undefined ? 'DPoP' : 'Bearer', {
      error: 'insufficient_scope',
      errorDescription: `This operation requires the scope${required.length > 1 ? 's' : ''} ${required.join(' ')}.`,
      scopes: required,
    });
  };

  return {
    resource,
    resourceMetadataUrl,
    metadata,
    metadataPaths,

    async authenticate(request, authOptions) {
      const operation = authOptions?.requiredScopes ?? NO_SCOPES;
      const credential = extractAccessToken(request);
      // RFC 6750 §3.1: no credentials, so no error code; only where to go and what to ask for. Where
      // DPoP is required the challenge is DPoP's alone (RFC 9449 §7.1): a Bearer one would send
      // clients for a token that is refused. MCP clients read `resource_metadata` under either scheme.
      if (credential.kind === 'none') return challenge(dpop.required ? 'DPoP' : 'Bearer', { scopes: scopesToAskFor(operation) });
      if (credential.kind === 'malformed') return invalidToken(operation, 'malformed', undefined, credential.scheme);
      const { scheme, token } = credential;
      if (token.length > maxTokenLength) return invalidToken(operation, 'oversized', `${token.length} characters`, scheme);
      // Not even verified: whatever it is, a bearer token is not accepted here.
      if (scheme === 'Bearer' && dpop.required) return invalidToken(operation, 'dpop_binding', 'DPoP is required', 'DPoP');
      let result: VerifyResult;
      try {
        result = await verifier.verify(token);
      } catch (error) {
        if (error instanceof VerifierUnavailableError) return unavailable(error);
        throw error;
      }
      if (!result.ok) return invalidToken(operation, result.reason, result.detail, scheme);
      const presented = await checkPresentation(dpop, {
        scheme,
        token,
        claims: result.token.claims,
        proof: request.headers.get('DPoP'),
        method: request.method,
        url: request.url === undefined ? undefined : proofTarget(resource, request.url),
      });
      if (!presented.ok) {
        return presented.error === 'invalid_token'
          ? invalidToken(operation, 'dpop_binding', presented.detail, presented.scheme)
          : invalidProof(operation, presented.error, presented.detail);
      }
      const principal: Principal = { ...result.token, token, resourceMetadataUrl, ...(presented.jkt !== undefined ? { dpopJkt: presented.jkt } : {}) };
      // Most requests need nothing beyond a valid token: no arrays to build for them.
      const required = operation.length === 0 ? serverRequired : serverRequired.length === 0 ? operation : [...serverRequired, ...operation];
      return requireScopes(principal, required) ?? principal;
    },

    requireScopes,

    ...(verifier.permissions ? { permissions: verifier.permissions } : {}),

    async requirePermission(principal, check) {
      if (!verifier.permissions) throw new TypeError('requirePermission needs a verifier with a permission policy (e.g. createStytchVerifier with the project secret)');
      if (check.organizationId !== undefined && stytchOrganizationOf(principal.claims)?.organization_id !== check.organizationId) {
        logger.debug('token is for another organization', { subject: principal.subject, client_id: principal.clientId });
        // Not a scope problem, so no step-up challenge: a plain refusal.
        return Response.json({ error: 'access_denied', error_description: 'This token is not for the organization this operation is in.' }, { status: 403, headers: NO_STORE });
      }
      let granting: string[];
      try {
        granting = await verifier.permissions.scopesGranting(check);
      } catch (error) {
        if (error instanceof VerifierUnavailableError) return unavailable(error);
        throw error;
      }
      if (granting.some((scope) => principal.scopes.includes(scope))) return null;
      logger.debug('missing permission', { subject: principal.subject, client_id: principal.clientId, resource_id: check.resourceId, action: check.action });
      return challenge(principal.dpopJkt !== undefined ? 'DPoP' : 'Bearer', {
        error: 'insufficient_scope',
        errorDescription: `This operation requires permission to ${check.action} ${check.resourceId}.`,
        scopes: granting.slice(0, 1),
      });
    },

    metadataResponse(request) {
      if (!metadataPaths.includes(new URL(request.url).pathname)) return null;
      // The document is public and carries no credentials: any origin may read it (browser-based clients).
      const cors = { 'Access-Control-Allow-Origin': '*' };
      if (request.method === 'OPTIONS') {
        return new Response(null, { status: 204, headers: { ...cors, 'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS', 'Access-Control-Allow-Headers': '*', 'Access-Control-Max-Age': '86400' } });
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') return null;
      const response = Response.json(metadata, { headers: { ...cors, 'Cache-Control': 'public, max-age=3600' } });
      return request.method === 'HEAD' ? new Response(null, { headers: response.headers }) : response;
    },
  };
}

function checkedUrl(value: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${name}: ${JSON.stringify(value)} is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`${name}: ${JSON.stringify(value)} must be an http(s) URL`);
  if (url.hash) throw new TypeError(`${name}: ${JSON.stringify(value)} must not have a fragment`);
  return url;
}

/** RFC 8707 §2 / RFC 9728 §1.2: an absolute https URL without fragment (plain http only on loopback). */
function checkedResource(value: string, allowInsecureHttp: boolean): string {
  const url = checkedUrl(value, 'resource');
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname) && !allowInsecureHttp) {
    throw new TypeError(`resource: ${value} is plain http on a non-loopback host; use https (or dangerouslyAllowInsecureHttp behind a TLS proxy)`);
  }
  return value;
}
