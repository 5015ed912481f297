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

function signIn(name: string, value: string): 'stytch' | 'local' | 'oidc' {
  const v = value.trim().toLowerCase();
  if (v === 'stytch' || v === 'local' || v === 'oidc') return v;
  throw new ConfigError(`Invalid setting ${name}: expected stytch, local or oidc, got "${value}"`);
}
