import type { ResolvedConfig } from '../config/resolve.ts';
import { DPOP_ALGORITHMS } from '../dpop/proof.ts';

/** RFC 7523 §2.1 grant type; with an ID-JAG as its assertion, MCP enterprise-managed authorization (EMA-01). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** ID-JAG draft §7.2: how clients detect that a server accepts ID-JAGs. */
export const ID_JAG_GRANT_PROFILE = 'urn:ietf:params:oauth:grant-profile:id-jag';
/**
 * Algorithms accepted for client assertions (`private_key_jwt`) and ID-JAGs: asymmetric only. HMAC
 * would need a shared secret we do not hold (SEC-29), and `none` is never accepted (EMA-04).
 */
export const ASSERTION_SIGNING_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'] as const;


/**
 * What this authorization server supports, computed once from the config. The discovery documents
 * serialize it and the endpoints validate against it, so what is advertised is exactly what is accepted.
 */
export interface Capabilities {
  issuer: string;
  endpoints: {
    authorization: string;
    token: string;
    registration: string | null;
    revocation: string;
    introspection: string;
    jwks: string;
    userinfo: string;
  };
  responseTypes: readonly ['code'];
  responseModes: readonly ['query'];
  grantTypes: readonly string[];
  codeChallengeMethods: readonly ['S256'];
  tokenEndpointAuthMethods: readonly string[];
  /** RFC 7009: public clients revoke with just their client_id. */
  revocationAuthMethods: readonly string[];
  /** RFC 7662 §2.1: introspection always requires authentication. */
  introspectionAuthMethods: readonly string[];
  /** Every scope a client may ask for: the configured ones plus the built-in `offline_access` and `openid`. */
  scopesSupported: readonly string[];
  signingAlgorithms: readonly string[];
  /** MCP AS-06/AS-07: an https `client_id` names the client's metadata document. */
  clientIdMetadataDocuments: boolean;
  /** `token_endpoint_auth_signing_alg_values_supported` (CC-04): what `private_key_jwt` assertions may use. */
  clientAssertionSigningAlgorithms: readonly string[];
  /** ID-JAG draft §7.2 `authorization_grant_profiles_supported`; empty when no enterprise IdP is trusted. */
  authorizationGrantProfiles: readonly string[];
  /** RFC 9449 §5.1 `dpop_signing_alg_values_supported`: what DPoP proofs may be signed with. */
  dpopSigningAlgorithms: readonly string[];
}

export const BUILT_IN_SCOPES = ['openid', 'offline_access'] as const;

/**
 * OIDC Core §5.4 scopes clients ask for whatever the server (Claude, Codex CLI: `openid profile email`):
 * offered and granted so the request succeeds as asked; `profile` is the `preferred_username` claim,
 * `email` has no claim to give, as accounts keep no e-mail address. A server that declares a scope of
 * the same name keeps its own.
 */
export const IDENTITY_SCOPES = ['profile', 'email'] as const;

export function computeCapabilities(config: ResolvedConfig): Capabilities {
  const base = config.issuer;
  const idJag = config.trustedIdentityProviders.length > 0;
  return {
    issuer: base,
    endpoints: {
      authorization: `${base}/authorize`,
      token: `${base}/token`,
      registration: config.registration.enabled ? `${base}/register` : null,
      revocation: `${base}/revoke`,
      introspection: `${base}/introspect`,
      jwks: `${base}/jwks`,
      userinfo: `${base}/userinfo`,
    },
    responseTypes: ['code'],
    responseModes: ['query'],
    // client_credentials: pre-registered machine clients (CC-04). The JWT bearer grant only when an
    // enterprise IdP is trusted, since it has nothing to accept otherwise.
    grantTypes: ['authorization_code', 'refresh_token', 'client_credentials', ...(idJag ? [JWT_BEARER_GRANT] : [])],
    codeChallengeMethods: ['S256'],
    tokenEndpointAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    revocationAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    introspectionAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    scopesSupported: [...config.scopes.map((s) => s.name), ...BUILT_IN_SCOPES, ...IDENTITY_SCOPES.filter((s) => !config.scopes.some((c) => c.name === s))],
    signingAlgorithms: [config.signingAlgorithm],
    clientIdMetadataDocuments: config.clientIdMetadataDocuments.enabled,
    clientAssertionSigningAlgorithms: ASSERTION_SIGNING_ALGORITHMS,
    authorizationGrantProfiles: idJag ? [ID_JAG_GRANT_PROFILE] : [],
    dpopSigningAlgorithms: DPOP_ALGORITHMS,
  };
}
