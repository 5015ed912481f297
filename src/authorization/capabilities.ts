import type { ResolvedConfig } from '../config/resolve.ts';

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
}

export const BUILT_IN_SCOPES = ['openid', 'offline_access'] as const;

export function computeCapabilities(config: ResolvedConfig): Capabilities {
  const base = config.issuer;
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
    grantTypes: ['authorization_code', 'refresh_token'],
    codeChallengeMethods: ['S256'],
    tokenEndpointAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
    revocationAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
    introspectionAuthMethods: ['client_secret_basic', 'client_secret_post'],
    scopesSupported: [...config.scopes.map((s) => s.name), ...BUILT_IN_SCOPES],
    signingAlgorithms: [config.signingAlgorithm],
  };
}
