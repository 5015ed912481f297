import type { Hono } from 'hono';
import type { AppContext } from '../../context.ts';

/**
 * Claims an ID token or the userinfo response can carry (OIDC Discovery §3 `claims_supported`).
 * Keep in step with what the id_token and userinfo code emit: only advertise what is issued.
 */
export const CLAIMS_SUPPORTED = ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'preferred_username'] as const;

/**
 * Metadata changes only when the server restarts with a new configuration, and clients fetch it at
 * every connection: five minutes of caching saves round trips and still lets a change (say,
 * registration switched off) reach everyone quickly.
 */
const METADATA_CACHE = 'public, max-age=300';

/**
 * RFC 8414 authorization server metadata and OpenID Connect Discovery 1.0, one document serialised
 * from `ctx.capabilities` (what is advertised is what the endpoints accept). The `issuer` is
 * `ctx.config.issuer` byte for byte: clients refuse metadata whose issuer differs from the one they
 * built the URL from (RFC 8414 §3.3, OIDC Discovery §4.3, MCP AS-04).
 */
export function authorizationServerMetadata(ctx: AppContext): Record<string, unknown> {
  const caps = ctx.capabilities;
  const { endpoints } = caps;
  return {
    issuer: ctx.config.issuer,
    authorization_endpoint: endpoints.authorization,
    token_endpoint: endpoints.token,
    ...(endpoints.registration ? { registration_endpoint: endpoints.registration } : {}),
    jwks_uri: endpoints.jwks,
    userinfo_endpoint: endpoints.userinfo,
    revocation_endpoint: endpoints.revocation,
    revocation_endpoint_auth_methods_supported: caps.revocationAuthMethods,
    revocation_endpoint_auth_signing_alg_values_supported: caps.clientAssertionSigningAlgorithms,
    introspection_endpoint: endpoints.introspection,
    introspection_endpoint_auth_methods_supported: caps.introspectionAuthMethods,
    introspection_endpoint_auth_signing_alg_values_supported: caps.clientAssertionSigningAlgorithms,
    scopes_supported: caps.scopesSupported,
    response_types_supported: caps.responseTypes,
    response_modes_supported: caps.responseModes,
    // Listed explicitly: the RFC 8414 defaults (implicit; client_secret_basic only) would be wrong.
    grant_types_supported: caps.grantTypes,
    token_endpoint_auth_methods_supported: caps.tokenEndpointAuthMethods,
    // CC-04 / RFC 8414 §2: required once private_key_jwt is listed.
    token_endpoint_auth_signing_alg_values_supported: caps.clientAssertionSigningAlgorithms,
    // EMA-01: clients look for the ID-JAG profile before trying the jwt-bearer grant.
    ...(caps.authorizationGrantProfiles.length > 0 ? { authorization_grant_profiles_supported: caps.authorizationGrantProfiles } : {}),
    // MCP AS-07: clients try a client ID metadata document before dynamic registration (AS-33).
    ...(caps.clientIdMetadataDocuments ? { client_id_metadata_document_supported: true } : {}),
    // MCP AS-03: clients refuse to proceed without it.
    code_challenge_methods_supported: caps.codeChallengeMethods,
    // RFC 9449 §5.1: the token endpoint accepts DPoP proofs signed with these (and binds tokens to their key).
    dpop_signing_alg_values_supported: caps.dpopSigningAlgorithms,
    // RFC 9207: authorization responses carry `iss` (mix-up defence, SEC-46).
    authorization_response_iss_parameter_supported: true,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: signingAlgorithms(ctx),
    claims_supported: CLAIMS_SUPPORTED,
    // OIDC Discovery defaults `request_uri_parameter_supported` to true; we support no request objects.
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
  };
}

/**
 * The configured algorithm plus that of every published key: after `keys rotate --alg` the server
 * signs with the new key's algorithm even if the configuration names another.
 */
function signingAlgorithms(ctx: AppContext): string[] {
  const published = ctx.keys.jwks().keys.map((k) => k.alg).filter((alg): alg is string => typeof alg === 'string');
  return [...new Set([...ctx.capabilities.signingAlgorithms, ...published])];
}

/**
 * Where the documents live. The issuer is an origin today, so these are the root well-known URLs;
 * should it ever carry a path, RFC 8414 §3.1 inserts the well-known segment before it, and OIDC
 * Discovery §4 appends it (both forms are probed by MCP clients, AS-02b).
 */
export function discoveryPaths(issuer: string): string[] {
  const path = new URL(issuer).pathname.replace(/\/$/, '');
  return unique([
    `/.well-known/oauth-authorization-server${path}`,
    `/.well-known/openid-configuration${path}`,
    `${path}/.well-known/openid-configuration`,
  ]);
}

const unique = (values: string[]): string[] => [...new Set(values)];

export function mountDiscovery(app: Hono, ctx: AppContext): void {
  for (const path of discoveryPaths(ctx.config.issuer)) {
    app.get(path, (c) => c.json(authorizationServerMetadata(ctx), 200, { 'Cache-Control': METADATA_CACHE }));
  }
}
