import { envBool, envInt, envCommaList, type ApplyEnv } from './env-values.ts';
import { ConfigError } from './config-error.ts';
import type { ConfigInput } from './schema.ts';

type AuthorizationServerInput = NonNullable<ConfigInput['authorizationServer']>;

const as = (c: ConfigInput): AuthorizationServerInput => (c.authorizationServer ??= {});
const introspection = (c: ConfigInput): NonNullable<AuthorizationServerInput['introspection']> => (as(c).introspection ??= {});

function verifier(name: string, value: string): 'jwks' | 'introspection' | 'stytch' {
  const v = value.trim().toLowerCase();
  if (v === 'jwks' || v === 'introspection' || v === 'stytch') return v;
  throw new ConfigError(`Invalid setting ${name}: expected jwks, introspection or stytch, got "${value}"`);
}

function authMethod(name: string, value: string): 'client_secret_basic' | 'client_secret_post' {
  if (value === 'client_secret_basic' || value === 'client_secret_post') return value;
  throw new ConfigError(`Invalid setting ${name}: expected client_secret_basic or client_secret_post, got "${value}"`);
}

/**
 * Environment variables of resource-only mode (`authorizationServer`) and of the extra resources
 * the built-in authorization server serves (`resources`). Seed 1's STYTCH_DOMAIN (the Stytch
 * project domain its samples verify tokens against) comes before its PORTCULLIS_ twins, so that they
 * win when both are set (variables are applied in this order).
 */
export const AUTHORIZATION_SERVER_ENV: Record<string, ApplyEnv> = {
  STYTCH_DOMAIN: (c, v) => {
    as(c).issuer = v.trim().replace(/\/+$/, '');
    as(c).verifier ??= 'stytch';
  },
  PORTCULLIS_AUTHORIZATION_SERVER: (c, v) => void (as(c).issuer = v.trim()),
  PORTCULLIS_VERIFIER: (c, v, n) => void (as(c).verifier = verifier(n, v)),
  PORTCULLIS_JWKS_URL: (c, v) => void (as(c).jwksUrl = v.trim()),
  // `any` turns the typ check off (for servers that type access tokens inconsistently).
  PORTCULLIS_TOKEN_TYPE: (c, v) => void (as(c).tokenType = v.trim().toLowerCase() === 'any' ? false : envCommaList(v)),
  PORTCULLIS_TOKEN_ALGORITHMS: (c, v) => void (as(c).algorithms = envCommaList(v)),
  PORTCULLIS_TOKEN_CLOCK_TOLERANCE: (c, v, n) => void (as(c).clockTolerance = envInt(n, v)),
  PORTCULLIS_INTROSPECTION_URL: (c, v) => void (introspection(c).endpoint = v.trim()),
  PORTCULLIS_INTROSPECTION_CLIENT_ID: (c, v) => void (introspection(c).clientId = v),
  PORTCULLIS_INTROSPECTION_CLIENT_SECRET: (c, v) => void (introspection(c).clientSecret = v),
  PORTCULLIS_INTROSPECTION_AUTH_METHOD: (c, v, n) => void (introspection(c).authMethod = authMethod(n, v)),
  PORTCULLIS_STYTCH_STRICT_AUDIENCE: (c, v, n) => void (as(c).stytchStrictAudience = envBool(n, v)),
  PORTCULLIS_STYTCH_B2B: (c, v, n) => void (as(c).stytchB2b = envBool(n, v)),
  PORTCULLIS_RESOURCES: (c, v) => void (c.resources = envCommaList(v)),
};
