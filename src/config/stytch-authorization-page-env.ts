import { envBool, type ApplyEnv } from './env-values.ts';
import type { ConfigInput } from './schema.ts';

/** Environment variables of the `stytchAuthorizationPage` setting. */
export const STYTCH_AUTHORIZATION_PAGE_ENV: Record<string, ApplyEnv> = {
  PORTCULLIS_STYTCH_AUTHORIZATION_PAGE: (c: ConfigInput, v, n) => void (c.stytchAuthorizationPage = { ...c.stytchAuthorizationPage, enabled: envBool(n, v) }),
  PORTCULLIS_STYTCH_AUTHORIZATION_PATH: (c: ConfigInput, v) => void (c.stytchAuthorizationPage = { ...c.stytchAuthorizationPage, path: v.trim() }),
};
