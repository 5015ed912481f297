import { envWords, type ApplyEnv } from './env-values.ts';
import { ConfigError } from './config-error.ts';
import type { ConfigInput } from './schema.ts';

type IdpInput = NonNullable<ConfigInput['identityProvider']>;

const idp = (c: ConfigInput): IdpInput => (c.identityProvider ??= {});
const oidc = (c: ConfigInput): NonNullable<IdpInput['oidc']> => (idp(c).oidc ??= {});
const stytch = (c: ConfigInput): NonNullable<IdpInput['stytch']> => (idp(c).stytch ??= {});

function kind(name: string, value: string): 'local' | 'oidc' | 'stytch' {
  const k = value.trim().toLowerCase();
  // Seed 2 (BioMCP's gateway) calls a generic OpenID Connect provider `oauth`.
  if (k === 'oauth') return 'oidc';
  if (k === 'local' || k === 'oidc' || k === 'stytch') return k;
  throw new ConfigError(`Invalid setting ${name}: expected local, oidc or stytch, got "${value}"`);
}

/**
 * Environment variables of the `identityProvider` setting. Seed 2's names (IDENTITY_PROVIDER,
 * OAUTH_*, STYTCH_*) are accepted as they are; each comes before its PORTCULLIS_ twin so that the
 * twin wins when both are set (variables are applied in this order).
 */
export const IDENTITY_PROVIDER_ENV: Record<string, ApplyEnv> = {
  IDENTITY_PROVIDER: (c, v, n) => void (idp(c).kind = kind(n, v)),
  PORTCULLIS_IDP: (c, v, n) => void (idp(c).kind = kind(n, v)),
  PORTCULLIS_IDP_NAME: (c, v) => void (idp(c).displayName = v),

  OAUTH_ISSUER: (c, v) => void (oidc(c).issuer = v),
  PORTCULLIS_OIDC_ISSUER: (c, v) => void (oidc(c).issuer = v),
  OAUTH_CLIENT_ID: (c, v) => void (oidc(c).clientId = v),
  PORTCULLIS_OIDC_CLIENT_ID: (c, v) => void (oidc(c).clientId = v),
  OAUTH_CLIENT_SECRET: (c, v) => void (oidc(c).clientSecret = v),
  PORTCULLIS_OIDC_CLIENT_SECRET: (c, v) => void (oidc(c).clientSecret = v),
  PORTCULLIS_OIDC_TOKEN_AUTH_METHOD: (c, v) => void (oidc(c).tokenEndpointAuthMethod = v as 'none'),
  OAUTH_SCOPES: (c, v) => void (oidc(c).scopes = envWords(v)),
  PORTCULLIS_OIDC_SCOPES: (c, v) => void (oidc(c).scopes = envWords(v)),
  OAUTH_AUTHORIZATION_URL: (c, v) => void (oidc(c).authorizationEndpoint = v),
  PORTCULLIS_OIDC_AUTHORIZATION_URL: (c, v) => void (oidc(c).authorizationEndpoint = v),
  OAUTH_TOKEN_URL: (c, v) => void (oidc(c).tokenEndpoint = v),
  PORTCULLIS_OIDC_TOKEN_URL: (c, v) => void (oidc(c).tokenEndpoint = v),
  OAUTH_USERINFO_URL: (c, v) => void (oidc(c).userinfoEndpoint = v),
  PORTCULLIS_OIDC_USERINFO_URL: (c, v) => void (oidc(c).userinfoEndpoint = v),
  PORTCULLIS_OIDC_JWKS_URL: (c, v) => void (oidc(c).jwksUri = v),

  STYTCH_PROJECT_ID: (c, v) => void (stytch(c).projectId = v),
  STYTCH_PROJECT_SECRET: (c, v) => void (stytch(c).secret = v),
  STYTCH_SECRET: (c, v) => void (stytch(c).secret = v),
  STYTCH_PUBLIC_TOKEN: (c, v) => void (stytch(c).publicToken = v),
  STYTCH_API_URL: (c, v) => void (stytch(c).apiUrl = v.replace(/\/+$/, '')),
  STYTCH_OAUTH_URL: (c, v) => void (stytch(c).oauthStartUrl = v),
  PORTCULLIS_STYTCH_OAUTH_PROVIDER: (c, v) => void (stytch(c).oauthProvider = v),
};
