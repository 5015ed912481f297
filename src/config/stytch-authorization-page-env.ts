import { envBool, type ApplyEnv } from './env-values.ts';
import { ConfigError } from './resolve.ts';
import type { ConfigInput } from './schema.ts';

/** Environment variables of the `stytchAuthorizationPage` setting. */
export const STYTCH_AUTHORIZATION_PAGE_ENV: Record<string, ApplyEnv> = {
  PORTCULLIS_STYTCH_AUTHORIZATION_PAGE: (c: ConfigInput, v, n) => void (c.stytchAuthorizationPage = { ...c.stytchAuthorizationPage, enabled: envBool(n, v) }),
  PORTCULLIS_STYTCH_AUTHORIZATION_PATH: (c: ConfigInput, v) => void (c.stytchAuthorizationPage = { ...c.stytchAuthorizationPage, path: v.trim() }),
  PORTCULLIS_STYTCH_SIGN_IN: (c: ConfigInput, v, n) => void (c.stytchAuthorizationPage = { ...c.stytchAuthorizationPage, signIn: signIn(n, v) }),
  PORTCULLIS_STYTCH_TRUSTED_AUTH_PROFILE: (c: ConfigInput, v) => void (c.stytchAuthorizationPage = { ...c.stytchAuthorizationPage, trustedAuthTokenProfileId: v.trim() }),
};

const SIGN_IN = ['stytch-email', 'stytch-oauth', 'local', 'oidc'] as const;

function signIn(name: string, value: string): (typeof SIGN_IN)[number] {
  const v = value.trim().toLowerCase();
  const known = SIGN_IN.find((k) => k === v);
  if (known) return known;
  throw new ConfigError(`Invalid setting ${name}: expected ${SIGN_IN.join(', ')}, got "${value}"`);
}
